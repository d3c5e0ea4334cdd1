import type { ServerConfig } from '../config/schema.ts';

/** `user-agent` of every request the gateway makes for itself. */
export const UPSTREAM_USER_AGENT = 'mcp-gateway';

/** The part of an upstream session the request headers depend on. */
export interface UpstreamHeaderSession {
  readonly sessionId?: string;
  readonly protocolVersion?: string;
  /** False when the session was created with a client's own credentials. Defaults to true. */
  readonly useCredential?: boolean;
}

/**
 * The headers of a POST to an upstream's MCP endpoint: `Accept: application/json,
 * text/event-stream`, `Content-Type: application/json`, `user-agent: mcp-gateway`, the server's
 * `credential` verbatim as `Authorization` (unless the session says `useCredential: false`),
 * `MCP-Protocol-Version` and `Mcp-Session-Id` once known. `extra` is applied last and overrides
 * any of them (names compare case-insensitively). Callers switch `Accept` for a GET.
 * @see MCP 2025-11-25 basic/transports §Sending Messages to the Server, §Protocol Version Header
 */
export function buildUpstreamHeaders(
  server: ServerConfig,
  session?: UpstreamHeaderSession,
  extra?: Readonly<Record<string, string>>,
): Headers {
  const headers = new Headers({
    accept: 'application/json, text/event-stream',
    'content-type': 'application/json',
    'user-agent': UPSTREAM_USER_AGENT,
  });
  if (server.credential !== undefined && server.credential !== '' && session?.useCredential !== false) {
    headers.set('authorization', server.credential);
  }
  if (session?.protocolVersion !== undefined) headers.set('mcp-protocol-version', session.protocolVersion);
  if (session?.sessionId !== undefined) headers.set('mcp-session-id', session.sessionId);
  for (const [name, value] of Object.entries(extra ?? {})) headers.set(name, value);
  return headers;
}

/**
 * The server URL as it may appear in messages and logs: origin and path, without user info,
 * query or fragment (which may carry secrets).
 */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '<invalid url>';
  }
}
