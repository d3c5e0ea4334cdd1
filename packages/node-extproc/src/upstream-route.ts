import type { AuditTrail, GatewaySpan, JsonRpcId, ResultRewrite } from '@mcp-gateway/core/router';

/** What the request-body phase decided for a call routed straight to an upstream. */
export interface UpstreamRoute {
  /** The call's audit record under way: told the upstream's status, finished when the stream ends. */
  readonly trail?: AuditTrail;
  /** What the metrics count of the call: its method and item, and when it was routed (performance.now()). */
  readonly call?: {
    readonly method: string;
    readonly kind: 'tool' | 'prompt' | 'resource';
    readonly name: string;
    readonly startedAt: number;
  };
  /** The routed call's span, ended with the exchange. */
  readonly span?: GatewaySpan;
  /** Gives back the call's quota slot when the exchange ends. */
  readonly release?: () => void;
  /** The client's gateway session id (the signed token), restored on the response; "" for a sessionless (2026-07-28) request. */
  readonly gatewaySessionId: string;
  readonly jti: string;
  /** ServerConfig.name of the upstream. */
  readonly server: string;
  /** The backend session the call was sent on; "" for an upstream without sessions. */
  readonly backendSessionId: string;
  /** The client's JSON-RPC id of the call: only the answer carrying it may reach the client. */
  readonly requestId: JsonRpcId;
  /** The params sent upstream (their `_meta.progressToken` names the call's progress). */
  readonly params: Record<string, unknown>;
  /** Maps the upstream's result back into the gateway's namespace (resource URIs and links). */
  readonly rewriteResult?: ResultRewrite;
  /** The call carries the user's own credential: the upstream's 401 drops it (UserCredentials.rejected). */
  readonly rejectCredential?: () => Promise<void>;
}

/**
 * How the body of a routed call's answer is read: as an SSE stream, or as one JSON body that
 * comes in chunks (STREAMED) or whole (BUFFERED, with its new content-length set).
 */
export type ResponseBodyKind = 'sse' | 'json' | 'json-buffered';
