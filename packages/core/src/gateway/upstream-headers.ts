/** Client headers that travel with a forwarded call to the upstream (identity and tracing). */
const FORWARDED_CLIENT_HEADERS = ['authorization', 'traceparent', 'tracestate', 'baggage', 'x-request-id'] as const;

/** Router headers (the anchor's names) the gateway sets on forwarded calls; clients' copies are dropped. */
export const ROUTER_HEADERS = {
  method: 'x-mcp-method',
  server: 'x-mcp-servername',
  tool: 'x-mcp-toolname',
  prompt: 'x-mcp-promptname',
  resource: 'x-mcp-resourceuri',
} as const;

/**
 * The headers of a call forwarded to an upstream: the client's identity and trace headers
 * (never its copies of internal x-mcp-* headers), the backend session, the protocol version
 * and the routing facts, so per-server policies in front of the upstream can use them.
 */
export function forwardedCallHeaders(
  client: Headers,
  routing: { method: string; server: string; name?: { header: string; value: string } },
  session: { backendSessionId: string; protocolVersion?: string },
): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'user-agent': 'mcp-gateway',
    [ROUTER_HEADERS.method]: routing.method,
    [ROUTER_HEADERS.server]: routing.server,
  };
  for (const name of FORWARDED_CLIENT_HEADERS) {
    const value = client.get(name);
    if (value !== null) headers[name] = value;
  }
  if (routing.name !== undefined) headers[routing.name.header] = safeHeaderValue(routing.name.value);
  if (session.backendSessionId !== '') headers['mcp-session-id'] = session.backendSessionId;
  if (session.protocolVersion !== undefined) headers['mcp-protocol-version'] = session.protocolVersion;
  return headers;
}

/** The client headers used when the gateway opens a backend session on a client's behalf. */
export function clientIdentityHeaders(client: Headers): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_CLIENT_HEADERS) {
    const value = client.get(name);
    if (value !== null) headers[name] = value;
  }
  return headers;
}

/** Header values must be visible ASCII; anything else is percent-encoded. */
function safeHeaderValue(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}
