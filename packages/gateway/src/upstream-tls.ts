import * as tls from 'node:tls';
import type { ServerConfig } from '@mcp-gateway/core';
import { Agent, fetch as undiciFetch } from 'undici';

/** Per-upstream fetch with the TLS trust the config asks for. */
export interface UpstreamTls {
  /** The fetch for one server: Node's default trust plus its `caCert` and, for https, `gatewayCACertPEM`. */
  fetchFor(server: ServerConfig): typeof fetch;
  /** Sets the gateway-wide extra trust (`gatewayCACertPEM`), applied to later requests. */
  setGatewayCA(pem: string | undefined): void;
  close(): Promise<void>;
}

/**
 * Creates the Node TLS trust for upstreams: servers without extra certificates use the global
 * fetch; servers with some use an undici Agent trusting Node's default CAs plus those PEMs (one
 * agent per distinct trust set, reused across servers and reloads). TLS 1.2 at least.
 */
export function createUpstreamTls(): UpstreamTls {
  const agents = new Map<string, Agent>();
  let gatewayCA: string | undefined;

  const agentFor = (extra: string[]): Agent => {
    const key = extra.join('\n');
    let agent = agents.get(key);
    if (agent === undefined) {
      agent = new Agent({ connect: { ca: [...defaultCertificates(), ...extra], minVersion: 'TLSv1.2' } });
      agents.set(key, agent);
    }
    return agent;
  };

  return {
    fetchFor(server) {
      const https = server.url.toLowerCase().startsWith('https:');
      return ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
        const extra = [server.caCert, https ? gatewayCA : undefined].filter(
          (pem): pem is string => pem !== undefined && pem !== '',
        );
        if (extra.length === 0) return fetch(input, init);
        return undiciFetch(input as string, {
          ...(init as object),
          dispatcher: agentFor(extra),
        }) as unknown as Promise<Response>;
      }) as typeof fetch;
    },
    setGatewayCA(pem) {
      gatewayCA = pem;
    },
    async close() {
      await Promise.allSettled([...agents.values()].map((agent) => agent.close()));
      agents.clear();
    },
  };
}

/**
 * The CAs Node trusts when no `ca` option is given: the bundled roots plus NODE_EXTRA_CA_CERTS
 * and, under --use-system-ca, the OS store. Passing `ca` replaces that set, so it is rebuilt here
 * rather than narrowed to the bundled roots. Node before 22.15 lacks getCACertificates: bundled
 * roots only there.
 */
function defaultCertificates(): readonly string[] {
  return typeof tls.getCACertificates === 'function' ? tls.getCACertificates('default') : tls.rootCertificates;
}
