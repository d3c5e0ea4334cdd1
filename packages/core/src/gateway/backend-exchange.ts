import type { ServerConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import { NO_BACKEND_SESSION } from './backend-session.ts';
import { DEFAULT_CALL_TIMEOUT_MS, type McpEndpointOptions } from './endpoint-context.ts';
import { clientIdentityHeaders, forwardedCallHeaders } from './upstream-headers.ts';

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
  options: McpEndpointOptions,
  target: BackendTarget,
  message: object,
  logger: Logger,
): Promise<void> {
  const { server } = target;
  const method = (message as { method?: unknown }).method;
  const headers = forwardedCallHeaders(
    target.clientHeaders,
    { method: typeof method === 'string' ? method : 'response', server: server.name },
    {
      backendSessionId: target.backendSessionId,
      ...(target.protocolVersion === undefined ? {} : { protocolVersion: target.protocolVersion }),
    },
  );
  try {
    const response = await options.fetchFor(server)(server.url, {
      method: 'POST',
      headers,
      body: JSON.stringify(message),
      signal: AbortSignal.timeout(options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS),
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
  options: McpEndpointOptions,
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
    const response = await options.fetchFor(target.server)(target.server.url, { method: 'GET', headers, signal });
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
 * An upstream's 401 or 403, passed to the client with its body and `WWW-Authenticate`: the
 * caller's credentials were refused by the upstream's policy, and the client must see it.
 * Undefined for any other status.
 */
export function authRefusal(response: Response): Response | undefined {
  if (response.status !== 401 && response.status !== 403) return undefined;
  const headers = new Headers({ 'content-type': response.headers.get('content-type') ?? 'text/plain' });
  const challenge = response.headers.get('www-authenticate');
  if (challenge !== null) headers.set('www-authenticate', challenge);
  return new Response(response.body, { status: response.status, headers });
}
