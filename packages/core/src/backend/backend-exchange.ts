import type { ServerConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import { NO_BACKEND_SESSION } from './backend-session.ts';
import { clientIdentityHeaders, forwardedCallHeaders, routerHeaders } from './upstream-headers.ts';

/** Default time an upstream may stay silent during a forwarded call: 30 s. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

/** How the gateway reaches upstreams on clients' behalf. */
export interface UpstreamAccess {
  /** The fetch for one upstream (its TLS trust on Node). */
  fetchFor(server: ServerConfig): typeof fetch;
  /** How long an upstream may stay silent during a call. */
  readonly callTimeoutMs: number;
}

/** A backend session on an upstream, and the client on whose behalf the gateway talks on it. */
export interface BackendTarget {
  readonly server: ServerConfig;
  /** The upstream's session id, or NO_BACKEND_SESSION for upstreams without sessions. */
  readonly backendSessionId: string;
  /** The version negotiated on that session (sent as MCP-Protocol-Version). */
  readonly protocolVersion?: string | undefined;
  /** The client's request headers: its identity and trace headers are sent along. */
  readonly clientHeaders: Headers;
}

/**
 * POSTs one message that expects no answer (a client's response to an upstream request, a
 * notification) on a backend session. Never throws: failures are logged.
 */
export async function postToBackend(
  access: UpstreamAccess,
  target: BackendTarget,
  message: object,
  logger: Logger,
): Promise<void> {
  const { server } = target;
  const method = (message as { method?: unknown }).method;
  const headers = forwardedCallHeaders(
    target.clientHeaders,
    routerHeaders(typeof method === 'string' ? method : 'response', server.name),
    {
      backendSessionId: target.backendSessionId,
      ...(target.protocolVersion === undefined ? {} : { protocolVersion: target.protocolVersion }),
    },
  );
  try {
    const response = await access.fetchFor(server)(server.url, {
      method: 'POST',
      headers,
      body: JSON.stringify(message),
      signal: AbortSignal.timeout(access.callTimeoutMs),
    });
    await response.body?.cancel().catch(() => {});
    if (!response.ok)
      logger.warn('upstream refused a relayed message', { server: server.name, status: response.status });
  } catch (error) {
    logger.warn('could not relay a message to the upstream', { server: server.name, error: String(error) });
  }
}

/**
 * Reopens a call's stream on a backend session with GET and Last-Event-ID (the upstream
 * replays what followed that event). Resolves undefined when the upstream cannot resume.
 * @see MCP 2025-11-25 basic/transports §Resumability and Redelivery
 */
export async function resumeBackendStream(
  access: UpstreamAccess,
  target: BackendTarget,
  lastEventId: string,
  signal: AbortSignal,
): Promise<ReadableStream<Uint8Array> | undefined> {
  const headers: Record<string, string> = {
    accept: 'text/event-stream',
    'user-agent': 'mcp-gateway',
    'last-event-id': lastEventId,
    ...clientIdentityHeaders(target.clientHeaders),
  };
  if (target.backendSessionId !== NO_BACKEND_SESSION) headers['mcp-session-id'] = target.backendSessionId;
  if (target.protocolVersion !== undefined) headers['mcp-protocol-version'] = target.protocolVersion;
  try {
    const response = await access.fetchFor(target.server)(target.server.url, { method: 'GET', headers, signal });
    if (!response.ok || !(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
      await response.body?.cancel().catch(() => {});
      return undefined;
    }
    return response.body ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * Tells an upstream that the gateway gave up on a call (the upstream stayed silent past the
 * call timeout), so the tool can stop: notifications/cancelled on the call's backend session.
 * Best effort; never throws.
 */
export function cancelUpstreamCall(
  access: UpstreamAccess,
  target: BackendTarget,
  requestId: string | number,
  reason: string,
  logger: Logger,
): Promise<void> {
  const cancel = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason } };
  return postToBackend(access, target, cancel, logger);
}
