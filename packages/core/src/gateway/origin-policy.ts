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
    if (host !== undefined && !policy.allowedHosts.includes(host)) {
      return new GatewayError('ORIGIN_FORBIDDEN', `Host "${host}" is not allowed on this gateway`);
    }
  }
  const origin = headers.get('origin');
  if (origin === null || origin === 'null' || policy.allowedOrigins.includes('*')) return undefined;
  if (policy.allowedOrigins.includes(origin)) return undefined;
  let originHost: string;
  try {
    originHost = new URL(origin).hostname.toLowerCase();
  } catch {
    return new GatewayError('ORIGIN_FORBIDDEN', `Origin "${origin}" is not a valid origin`);
  }
  if (LOOPBACK.has(originHost)) return undefined;
  if (policy.allowedHosts.includes(originHost) && !LOOPBACK.has(originHost)) return undefined;
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
