// The 1.x SDK's OAuth client against the gateway with token verification on (issue 12, item 1):
// from the gateway's 401 it finds the protected resource metadata, registers with the real
// OpenID provider, gets a token for the gateway with PKCE as alice, lists tools and calls one on a
// real SDK upstream. In the three hosts: the broker (the built CLI), the router behind a real
// Envoy (the whole OAuth flow goes through Envoy's public listener) and the worker (workerd,
// listening on a loopback port, so the SDK's own transport reaches it over HTTP).
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectOAuthClient, startOidcProvider, type RunningOidcProvider } from '../harness/identity.ts';
import type { SdkUpstream } from '../harness/index.ts';
import {
  clientRequests,
  HOST_KINDS,
  startIdentityHost,
  startWeatherUpstream,
  WEATHER,
  weatherServer,
  type IdentityHost,
} from './identity-hosts.ts';

/** One request the SDK made (MCP, discovery, registration, token), with the status it got. */
interface Seen {
  readonly method: string;
  readonly url: string;
  readonly status: number;
}

/** A fetch that records what the SDK asks for, then does it. */
function recordingFetch(seen: Seen[]): FetchLike {
  return async (url, init) => {
    const response = await fetch(url, init);
    seen.push({ method: init?.method ?? 'GET', url: String(url), status: response.status });
    return response;
  };
}

describe.each(HOST_KINDS)('the SDK OAuth client through the %s, verification on', (kind) => {
  let idp: RunningOidcProvider;
  let upstream: SdkUpstream;
  let host: IdentityHost;

  beforeAll(async () => {
    idp = await startOidcProvider();
    upstream = await startWeatherUpstream();
    // The provider as issuer, the gateway's /mcp URL as audience, and a required scope: the
    // metadata advertises it and the SDK asks for it (without one, the metadata advertises the
    // anchor's "basic", which this provider refuses to register).
    host = await startIdentityHost(kind, {
      servers: [weatherServer(upstream)],
      oauth: { issuers: [idp.issuer], requiredScopes: ['mcp:tools'] },
    });
  });

  afterAll(async () => {
    await host?.stop();
    await upstream?.stop();
    await idp?.stop();
  });

  it('goes from the 401 through the metadata, registration and PKCE to a tool call as alice', async () => {
    const seen: Seen[] = [];
    const alice = await connectOAuthClient(host.url, { account: 'alice', fetch: recordingFetch(seen) });
    try {
      const { tools } = await alice.client.listTools();
      expect(tools.map((tool) => tool.name)).toContain(WEATHER.tool);
      const result = await alice.client.callTool({ name: WEATHER.tool, arguments: { city: 'Oslo' } });
      expect(result.content).toEqual([{ type: 'text', text: 'sunny in Oslo' }]);
    } finally {
      await alice.close();
    }

    // The first request went without a token and met the challenge; the SDK followed its resource_metadata.
    expect(seen[0]).toEqual({ method: 'POST', url: host.url, status: 401 });
    expect(seen).toContainEqual({
      method: 'GET',
      url: `${host.baseUrl}/.well-known/oauth-protected-resource/mcp`,
      status: 200,
    });
    expect(seen).toContainEqual({ method: 'POST', url: `${idp.issuer}/reg`, status: 201 });
    expect(seen).toContainEqual({ method: 'POST', url: `${idp.issuer}/token`, status: 200 });

    const [authorization] = alice.provider.authorizationUrls;
    expect(authorization?.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorization?.searchParams.get('resource')).toBe(host.url);
    expect(authorization?.searchParams.get('scope')).toBe('mcp:tools');
    expect(authorization?.searchParams.get('client_id')).toBe(alice.provider.currentClient()?.client_id);

    const token = alice.tokens()?.access_token ?? '';
    expect(decodeJwt(token)).toMatchObject({ iss: idp.issuer, aud: host.url, sub: 'alice', scope: 'mcp:tools' });

    // The call reached the upstream, once, with its arguments.
    const calls = clientRequests(upstream).filter((request) => request.method === 'tools/call');
    expect(calls.map((call) => call.params)).toEqual([
      expect.objectContaining({ name: 'forecast', arguments: { city: 'Oslo' } }),
    ]);
  });

  it('serves the protected resource metadata naming the provider and this gateway', async () => {
    const answer = await host.fetch({ method: 'GET', path: '/.well-known/oauth-protected-resource/mcp' });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({
      resource: host.url,
      authorization_servers: [idp.issuer],
      scopes_supported: ['mcp:tools'],
    });
  });
});
