import { setHeader, type ProcessingResponse } from './ext-proc-messages.ts';

/** What the request-body phase decided for a call routed straight to an upstream. */
export interface UpstreamRoute {
  /** The client's gateway session id (the signed token), restored on the response. */
  readonly gatewaySessionId: string;
  readonly jti: string;
  /** ServerConfig.name of the upstream. */
  readonly server: string;
  /** The backend session the call was sent on; "" for an upstream without sessions. */
  readonly backendSessionId: string;
}

/** Injected effects of the response-headers phase. */
export interface ResponseHeadersDeps {
  /** Forgets the backend session (only if it is still `backendSessionId`); the next call opens a new one. */
  evictBackendSession(jti: string, server: string, backendSessionId: string): Promise<void>;
}

/**
 * The response-headers phase. A broker-bound request passes unchanged (the broker speaks for
 * itself). For an upstream-routed call the backend's `mcp-session-id` is replaced by the
 * client's gateway session id, so clients never see backend ids; a 404 means the backend
 * session is gone (MCP: the client must start a new session) and evicts it.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#session-management
 */
export async function translateResponseHeaders(
  headers: ReadonlyMap<string, string>,
  route: UpstreamRoute | undefined,
  deps: ResponseHeadersDeps,
): Promise<ProcessingResponse> {
  if (route === undefined) return { response_headers: {} };
  if (headers.get(':status') === '404' && route.backendSessionId !== '') {
    await deps.evictBackendSession(route.jti, route.server, route.backendSessionId);
  }
  return {
    response_headers: {
      response: { header_mutation: { set_headers: [setHeader('mcp-session-id', route.gatewaySessionId)] } },
    },
  };
}
