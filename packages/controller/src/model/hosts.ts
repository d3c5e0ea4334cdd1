import type { Gateway, Listener } from './api-types.ts';

const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The outcome of deriving the public host: a host name or why there is none. */
export type HostResult =
  { readonly ok: true; readonly host: string } | { readonly ok: false; readonly message: string };

/**
 * The gateway's public host: `spec.publicHost` (its port dropped) or else the listener's
 * hostname, a wildcard `*.example.com` becoming `mcp.example.com`. Must be a DNS-1123 subdomain.
 */
export function derivePublicHost(publicHost: string | undefined, listener: Listener): HostResult {
  if (publicHost !== undefined && publicHost !== '') {
    if (publicHost.includes('://')) {
      return { ok: false, message: `spec.publicHost "${publicHost}" must be a host name without a scheme` };
    }
    const host = publicHost.replace(/:\d+$/, '');
    if (!DNS_SUBDOMAIN.test(host)) {
      return { ok: false, message: `spec.publicHost "${publicHost}" is not a valid DNS-1123 subdomain` };
    }
    return { ok: true, host };
  }
  const hostname = listener.hostname;
  if (hostname === undefined || hostname === '') {
    return {
      ok: false,
      message: `listener ${listener.name} has no hostname: set spec.publicHost or a hostname on the listener`,
    };
  }
  return { ok: true, host: hostname.startsWith('*.') ? `mcp.${hostname.slice(2)}` : hostname };
}

/**
 * The host the gateway reaches itself by inside the cluster: `spec.privateHost` verbatim, or
 * `<gateway>-<gatewayClassName>.<namespace>.svc.cluster.local:<listener port>` (the Service the
 * Gateway implementation creates), prefixed `https://` for an HTTPS listener.
 */
export function derivePrivateHost(privateHost: string | undefined, gateway: Gateway, listener: Listener): string {
  if (privateHost !== undefined && privateHost !== '') return privateHost;
  const className = gateway.spec.gatewayClassName ?? 'istio';
  const host = `${gateway.metadata.name}-${className}.${gateway.metadata.namespace ?? 'default'}.svc.cluster.local:${listener.port}`;
  return listener.protocol.toUpperCase() === 'HTTPS' ? `https://${host}` : host;
}
