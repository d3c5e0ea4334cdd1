import { setHeader, type ProcessingResponse } from './ext-proc-messages.ts';
import type { ResponseBodyKind, UpstreamRoute } from './upstream-route.ts';

/** Injected effects of the response-headers phase. */
export interface ResponseHeadersDeps {
  /** Forgets the backend session (only if it is still `backendSessionId`); the next call opens a new one. */
  evictBackendSession(jti: string, server: string, backendSessionId: string): Promise<void>;
}

/**
 * The response-headers phase. A broker-bound request passes unchanged (the broker speaks for
 * itself). For an upstream-routed call the backend's `mcp-session-id` is replaced by the
 * client's gateway session id, so clients never see backend ids; a 404 means the backend
 * session is gone (MCP: the client must start a new session) and evicts it. A successful answer's
 * body comes to the processor (a `mode_override` to STREAMED), since only what belongs to the
 * call may reach the client (an upstream is trusted only to answer the request it was sent): an
 * SSE answer event by event, so progress reaches the client as it comes, anything else as one
 * JSON body (held by the processor, not Envoy's buffer, so its size is the processor's limit).
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#session-management
 */
export async function translateResponseHeaders(
  response: ResponseHeadersInput,
  route: UpstreamRoute | undefined,
  deps: ResponseHeadersDeps,
): Promise<ResponseHeadersResult> {
  if (route === undefined) return { response: { response_headers: {} } };
  const status = response.headers.get(':status');
  if (status === '404' && route.backendSessionId !== '') {
    await deps.evictBackendSession(route.jti, route.server, route.backendSessionId);
  }
  // The upstream refused the user's own credential: dropped, so the next call asks again (as the broker does).
  if (status === '401' && route.rejectCredential !== undefined) await route.rejectCredential();
  const set_headers = route.gatewaySessionId === '' ? [] : [setHeader('mcp-session-id', route.gatewaySessionId)];
  if (status !== '200' || response.endOfStream) {
    return { response: { response_headers: { response: { header_mutation: { set_headers } } } } };
  }
  // SDK clients read an answer as SSE when its type names text/event-stream, else as JSON.
  const sse = (response.headers.get('content-type') ?? '').toLowerCase().includes('text/event-stream');
  // A JSON answer of known, modest length comes whole in one message (Envoy buffers it); any
  // other streams through the processor, which holds it (so its size is not Envoy's limit).
  const length = Number(response.headers.get('content-length') ?? Number.NaN);
  const buffered = !sse && Number.isSafeInteger(length) && length <= MAX_BUFFERED_ANSWER_BYTES;
  // The checked body's length may differ, and Envoy refuses a body that disagrees with the
  // content-length it already has: the buffered answer sets its own, a streamed one goes chunked.
  return {
    response: {
      response_headers: { response: { header_mutation: { set_headers, remove_headers: ['content-length'] } } },
      mode_override: { response_body_mode: buffered ? 'BUFFERED' : 'STREAMED' },
    },
    bodyKind: sse ? 'sse' : buffered ? 'json-buffered' : 'json',
  };
}

/**
 * Largest JSON answer Envoy is asked to buffer whole (1 MiB, Envoy's default buffer limit, so any
 * listener's limit holds it); a larger one is streamed through the processor.
 */
export const MAX_BUFFERED_ANSWER_BYTES = 1024 * 1024;

/** The response as the response-headers phase sees it. */
export interface ResponseHeadersInput {
  readonly headers: ReadonlyMap<string, string>;
  /** True when the response has no body. */
  readonly endOfStream: boolean;
}

/** The response-headers answer and, when the body comes to the processor, how to read it. */
export interface ResponseHeadersResult {
  readonly response: ProcessingResponse;
  readonly bodyKind?: ResponseBodyKind;
}
