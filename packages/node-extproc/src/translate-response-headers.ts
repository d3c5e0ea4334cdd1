import type { JsonRpcId } from '@mcp-gateway/core';
import { setHeader, type ProcessingModeOverride, type ProcessingResponse } from './ext-proc-messages.ts';

/** What the request-body phase decided for a call routed straight to an upstream. */
export interface UpstreamRoute {
  /** The client's gateway session id (the signed token), restored on the response; "" for a sessionless (2026-07-28) request. */
  readonly gatewaySessionId: string;
  readonly jti: string;
  /** ServerConfig.name of the upstream. */
  readonly server: string;
  /** The backend session the call was sent on; "" for an upstream without sessions. */
  readonly backendSessionId: string;
  /** The client's JSON-RPC id of the call: the answer carrying it is the call's result. */
  readonly requestId?: JsonRpcId;
  /**
   * The client declared elicitation, sampling or roots: requests the upstream sends it during the
   * call get gateway ids (so its answer, which goes to the broker, finds the upstream).
   */
  readonly relayServerRequests?: boolean;
  /** Maps the upstream's result back into the gateway's namespace (resource URIs). */
  readonly rewriteResult?: (result: Record<string, unknown>) => Record<string, unknown>;
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
 * session is gone (MCP: the client must start a new session) and evicts it. The body stays out
 * of the processor (response body NONE) unless something in it must be rewritten: then the
 * answer carries a `mode_override`, STREAMED for an SSE answer that may carry server-to-client
 * requests or a result to rewrite, BUFFERED for a JSON result to rewrite.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#session-management
 */
export async function translateResponseHeaders(
  headers: ReadonlyMap<string, string>,
  route: UpstreamRoute | undefined,
  deps: ResponseHeadersDeps,
): Promise<ProcessingResponse> {
  if (route === undefined) return { response_headers: {} };
  const status = headers.get(':status');
  if (status === '404' && route.backendSessionId !== '') {
    await deps.evictBackendSession(route.jti, route.server, route.backendSessionId);
  }
  const override = status === '200' ? bodyMode(headers.get('content-type') ?? '', route) : undefined;
  const set_headers = route.gatewaySessionId === '' ? [] : [setHeader('mcp-session-id', route.gatewaySessionId)];
  if (override === undefined) return { response_headers: { response: { header_mutation: { set_headers } } } };
  // The rewritten body's length differs, and Envoy refuses a body that disagrees with the
  // content-length it already has; without one it sends the body chunked.
  return {
    response_headers: { response: { header_mutation: { set_headers, remove_headers: ['content-length'] } } },
    mode_override: override,
  };
}

/** The response body mode an answer of `contentType` needs for `route`; undefined: NONE. */
function bodyMode(contentType: string, route: UpstreamRoute): ProcessingModeOverride | undefined {
  const type = contentType.toLowerCase();
  if (type.startsWith('text/event-stream') && (route.relayServerRequests === true || route.rewriteResult !== undefined))
    return { response_body_mode: 'STREAMED' };
  if (type.startsWith('application/json') && route.rewriteResult !== undefined)
    return { response_body_mode: 'BUFFERED' };
  return undefined;
}
