import { GatewayError } from '../errors.ts';

/** Which browser origins and Host names the MCP endpoint accepts. */
export interface OriginPolicy {
  /** Exact origins allowed besides loopback ones (e.g. "https://app.example.com"); "*" allows any. */
  readonly allowedOrigins: readonly string[];
  /**
   * Host names (without port) the endpoint answers to. Empty: any Host. The Node entry fills it
   * with loopback names when the gateway listens on a loopback address (DNS rebinding protection),
   * plus the public and private hosts when configured.
   */
  readonly allowedHosts: readonly string[];
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** Host names that always mean this machine. */
export const LOOPBACK_HOSTS: readonly string[] = [...LOOPBACK];

/**
 * Checks a request's Origin and Host headers. A browser page on another origin must not drive
 * the gateway (MCP 2025-11-25: an invalid Origin MUST get 403), and a gateway bound to loopback
 * must not answer a rebinding attacker's Host name.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#security-warning
 */
export function checkOrigin(headers: Headers, policy: OriginPolicy): GatewayError | undefined {
  if (policy.allowedHosts.length > 0) {
    const host = hostName(headers.get('host'));
    if (host !== undefined && !policy.allowedHosts.some((allowed) => allowed.toLowerCase() === host)) {
      return new GatewayError('ORIGIN_FORBIDDEN', `Host "${host}" is not allowed on this gateway`);
    }
  }
  const origin = headers.get('origin');
  // `Origin: null` comes from sandboxed frames and file pages: refused unless allowed by name.
  if (origin === null || policy.allowedOrigins.includes('*')) return undefined;
  if (policy.allowedOrigins.includes(origin)) return undefined;
  let originHost: string;
  try {
    originHost = new URL(origin).hostname.toLowerCase();
  } catch {
    return new GatewayError('ORIGIN_FORBIDDEN', `Origin "${origin}" is not a valid origin`);
  }
  if (LOOPBACK.has(originHost)) return undefined;
  if (policy.allowedHosts.some((allowed) => allowed.toLowerCase() === originHost)) return undefined;
  return new GatewayError('ORIGIN_FORBIDDEN', `Origin "${origin}" is not allowed (see --allowed-origins)`);
}

function hostName(host: string | null): string | undefined {
  if (host === null || host === '') return undefined;
  const lower = host.toLowerCase();
  if (lower.startsWith('[')) {
    const end = lower.indexOf(']');
    return end === -1 ? lower : lower.slice(0, end + 1);
  }
  const colon = lower.indexOf(':');
  return colon === -1 ? lower : lower.slice(0, colon);
}

/** Headers a browser client may send on the MCP endpoint. */
const CORS_ALLOW_HEADERS =
  'content-type, accept, authorization, mcp-session-id, mcp-protocol-version, last-event-id, mcp-method, mcp-name';
/** Response headers a browser client must be able to read. */
const CORS_EXPOSE_HEADERS = 'mcp-session-id, mcp-protocol-version, www-authenticate';

/**
 * The answer to a CORS preflight from an origin the policy admits (call `checkOrigin` first):
 * 204 allowing the MCP methods and headers, so browser clients on allowed origins work.
 */
export function preflightResponse(origin: string | null): Response {
  const headers = new Headers({ allow: 'GET, POST, DELETE, OPTIONS' });
  if (origin !== null) {
    headers.set('access-control-allow-origin', origin);
    headers.set('access-control-allow-methods', 'GET, POST, DELETE, OPTIONS');
    headers.set('access-control-allow-headers', CORS_ALLOW_HEADERS);
    headers.set('access-control-max-age', '3600');
    headers.set('vary', 'Origin');
  }
  return new Response(null, { status: 204, headers });
}

/** Adds the CORS headers of an admitted origin to an MCP endpoint response. */
export function withCors(response: Response, origin: string): Response {
  try {
    response.headers.set('access-control-allow-origin', origin);
    response.headers.set('access-control-expose-headers', CORS_EXPOSE_HEADERS);
    response.headers.append('vary', 'Origin');
    return response;
  } catch {
    // Immutable headers (a response passed through as fetched): copy it.
    const copy = new Response(response.body, response);
    copy.headers.set('access-control-allow-origin', origin);
    copy.headers.set('access-control-expose-headers', CORS_EXPOSE_HEADERS);
    copy.headers.append('vary', 'Origin');
    return copy;
  }
}
