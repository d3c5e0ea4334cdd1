import type { CallTarget } from '../decision/route.ts';
import { encodeHeaderValue } from '../protocol/modern-request.ts';

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

const TARGET_HEADER: Readonly<Record<CallTarget['kind'], string>> = {
  tool: ROUTER_HEADERS.tool,
  prompt: ROUTER_HEADERS.prompt,
  resource: ROUTER_HEADERS.resource,
};

/**
 * The routing facts of a forwarded call as headers, the one way both the broker (on its own
 * requests) and the Envoy router (on the request Envoy forwards) write them: `x-mcp-method`,
 * `x-mcp-servername` and the upstream's own tool, prompt or resource name, encoded as MCP
 * encodes `Mcp-Name` (as is when plain visible ASCII, else `=?base64?…?=`), so per-server
 * policies in front of the upstream can read them.
 * @see MCP 2026-07-28 basic/transports §Standard Request Headers (SEP-2243)
 */
export function routerHeaders(method: string, server: string, target?: CallTarget): Record<string, string> {
  const headers: Record<string, string> = { [ROUTER_HEADERS.method]: method, [ROUTER_HEADERS.server]: server };
  if (target !== undefined) headers[TARGET_HEADER[target.kind]] = encodeHeaderValue(target.name);
  return headers;
}

/**
 * The headers of a call forwarded to an upstream: the client's identity and trace headers
 * (never its copies of internal x-mcp-* headers), the routing facts, the backend session and
 * the protocol version.
 */
export function forwardedCallHeaders(
  client: Headers,
  routing: Readonly<Record<string, string>>,
  session: { backendSessionId: string; protocolVersion?: string | undefined },
): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'user-agent': 'mcp-gateway',
    ...routing,
  };
  for (const name of FORWARDED_CLIENT_HEADERS) {
    const value = client.get(name);
    if (value !== null) headers[name] = value;
  }
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
