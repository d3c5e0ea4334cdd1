import { rootCertificates } from 'node:tls';
import type { ServerConfig } from '@mcp-gateway/core';
import { Agent, fetch as undiciFetch } from 'undici';

/** Per-upstream fetch with the TLS trust the config asks for. */
export interface UpstreamTls {
  /** The fetch for one server: system roots plus its `caCert` and, for https, `gatewayCACertPEM`. */
  fetchFor(server: ServerConfig): typeof fetch;
  /** Sets the gateway-wide extra trust (`gatewayCACertPEM`), applied to later requests. */
  setGatewayCA(pem: string | undefined): void;
  close(): Promise<void>;
}

/**
 * Creates the Node TLS trust for upstreams: servers without extra certificates use the global
 * fetch; servers with some use an undici Agent trusting the system roots plus those PEMs (one
 * agent per distinct trust set, reused across servers and reloads). TLS 1.2 at least.
 */
export function createUpstreamTls(): UpstreamTls {
  const agents = new Map<string, Agent>();
  let gatewayCA: string | undefined;

  const agentFor = (extra: string[]): Agent => {
    const key = extra.join('\n');
    let agent = agents.get(key);
    if (agent === undefined) {
      agent = new Agent({ connect: { ca: [...rootCertificates, ...extra], minVersion: 'TLSv1.2' } });
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
