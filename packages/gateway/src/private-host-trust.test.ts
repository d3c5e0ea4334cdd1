// The router's hairpin initialize to an https:// private host, over real TLS: a real MCP SDK
// server on node:https with a certificate from a throwaway private CA stands in for the private
// host (Envoy's TLS listener in a cluster). The hairpin goes through the fetch run-gateway gives
// the router (createUpstreamFetch().gatewayFetch), which trusts gatewayCACertPEM.
import { NOOP_LOGGER, type ServerConfig } from '@mcp-gateway/core';
import { BACKEND_INIT_HEADERS, createBackendInitTokens, createUpstreamClient } from '@mcp-gateway/core/router';
import { createHairpinFetch } from '@mcp-gateway/node-extproc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpsSdkUpstream, type HttpsSdkUpstream } from '../../../test/gateway-tls/https-sdk-upstream.ts';
import { createPrivateCa, type PrivateCa } from '../../../test/gateway-tls/private-ca.ts';
import { createUpstreamFetch, type UpstreamFetch } from './upstream-fetch.ts';

const SIGNING_KEY = 'a-hairpin-tls-test-signing-key-of-32-bytes-or-more';

/**
 * The upstream as the config names it. Its URL is never dialled: the hairpin keeps only its path
 * and sends the request to the private host, with `hostname` in `mcp-init-host`.
 */
const weather: ServerConfig = {
  name: 'team-a/weather',
  url: 'http://weather.team-a.svc:9000/mcp',
  hostname: 'weather.mcp.local',
  prefix: 'weather_',
  enabled: true,
  userSpecificList: false,
  category: [],
  tags: [],
};

/** Node's wording for a server certificate that chains to a CA it does not trust (leaf-only chain). */
const UNTRUSTED_CERTIFICATE = /unable to verify the first certificate/;

describe('the hairpin initialize to an https:// private host', () => {
  let ca: PrivateCa;
  let privateHost: HttpsSdkUpstream;
  let privateHostBase: string;
  const initTokens = createBackendInitTokens({ key: SIGNING_KEY });
  const fetches: UpstreamFetch[] = [];

  beforeAll(async () => {
    ca = await createPrivateCa('mcp-gateway hairpin test CA');
    privateHost = await startHttpsSdkUpstream({ certificate: await ca.issueServerCertificate(), setup: () => {} });
    privateHostBase = new URL(privateHost.url).origin;
  });

  afterAll(async () => {
    await Promise.allSettled(fetches.map((upstreamFetch) => upstreamFetch.close()));
    await privateHost?.stop();
    await ca?.remove();
  });

  /** The Node host's fetch with `gatewayCACertPEM` set to `pem`, as run-gateway keeps it. */
  function upstreamFetchTrusting(pem: string | undefined): UpstreamFetch {
    const upstreamFetch = createUpstreamFetch();
    upstreamFetch.setGatewayCA(pem);
    fetches.push(upstreamFetch);
    return upstreamFetch;
  }

  /** Opens a backend session of `weather` as the router does: the upstream client on the hairpin fetch. */
  function initializeThrough(upstreamFetch: UpstreamFetch) {
    const hairpin = createHairpinFetch(privateHostBase, weather, initTokens, upstreamFetch.gatewayFetch);
    return createUpstreamClient({ server: weather, fetch: hairpin, logger: NOOP_LOGGER }).initialize({
      headers: { authorization: 'Bearer user-token' },
      useCredential: false,
    });
  }

  const initializesReceived = () => privateHost.requests.filter((request) => request.method === 'initialize');

  it('reaches it with mcp-init-host and a router-key bound to the server when gatewayCACertPEM holds its CA', async () => {
    const before = initializesReceived().length;
    const session = await initializeThrough(upstreamFetchTrusting(ca.certPem));
    expect(session.sessionId).toMatch(/^[0-9a-f-]{36}$/);

    const received = initializesReceived();
    expect(received).toHaveLength(before + 1);
    const { headers, tlsVersion } = received.at(-1)!;
    expect(tlsVersion).toMatch(/^TLSv1\.[23]$/);
    expect(headers[BACKEND_INIT_HEADERS.host]).toBe('weather.mcp.local');
    expect(headers.authorization).toBe('Bearer user-token');
    const token = headers[BACKEND_INIT_HEADERS.token];
    expect(typeof token).toBe('string');
    // The router that receives it back accepts it for this host and server, and for no other host.
    expect(await initTokens.verify(token as string, 'weather.mcp.local')).toMatchObject({
      ok: true,
      claims: { host: 'weather.mcp.local', server: 'team-a/weather' },
    });
    expect(await initTokens.verify(token as string, 'other.mcp.local')).toEqual({ ok: false, reason: 'wrong-host' });
  });

  it('fails naming the certificate problem and the private host when gatewayCACertPEM lacks its CA', async () => {
    const before = initializesReceived().length;
    const otherCa = await createPrivateCa('some other CA');
    try {
      for (const pem of [undefined, otherCa.certPem]) {
        const failure = initializeThrough(upstreamFetchTrusting(pem));
        await expect(failure).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
        const { message } = (await failure.catch((error: unknown) => error)) as Error;
        expect(message).toMatch(UNTRUSTED_CERTIFICATE);
        expect(message).toContain(`through --mcp-gateway-private-host ${privateHostBase}`);
        expect(message).toContain('upstream team-a/weather');
      }
    } finally {
      await otherCa.remove();
    }
    expect(initializesReceived()).toHaveLength(before);
  });

  it('follows config reloads: trusts the private host once gatewayCACertPEM gains its CA, and not after it is removed', async () => {
    const upstreamFetch = upstreamFetchTrusting(undefined);
    await expect(initializeThrough(upstreamFetch)).rejects.toThrow(UNTRUSTED_CERTIFICATE);

    upstreamFetch.setGatewayCA(ca.certPem);
    expect((await initializeThrough(upstreamFetch)).sessionId).toBeDefined();

    upstreamFetch.setGatewayCA(undefined);
    await expect(initializeThrough(upstreamFetch)).rejects.toThrow(UNTRUSTED_CERTIFICATE);
  });

  it('trusts only the system CAs with the default global fetch (no gateway trust given)', async () => {
    const hairpin = createHairpinFetch(privateHostBase, weather, initTokens);
    const client = createUpstreamClient({ server: weather, fetch: hairpin, logger: NOOP_LOGGER });
    await expect(client.initialize({ useCredential: false })).rejects.toThrow(UNTRUSTED_CERTIFICATE);
  });
});
