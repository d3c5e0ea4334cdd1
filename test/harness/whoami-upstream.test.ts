// The whoami upstream itself: it tells each caller apart (none, the service credential, a JWT
// verified against the real provider's JWKS or not, an opaque token by hash) in both eras, counts
// the Authorization values per method, and refuses a call 401 naming its metadata when asked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOidcProvider, type RunningOidcProvider } from './identity.ts';
import { connectSdkClient } from './sdk-client.ts';
import { startWhoamiUpstream, type Caller, type WhoamiUpstream } from './whoami-upstream.ts';

const SERVICE = 'Bearer service-credential';

/** The Caller the upstream's whoami tool reports for a client sending `authorization`. */
async function whoami(url: string, era: 'legacy' | 'modern', authorization?: string): Promise<Caller> {
  const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
  const call = async (connected: {
    client: { callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown> };
    close(): Promise<void>;
  }) => {
    try {
      const result = (await connected.client.callTool({ name: 'whoami', arguments: {} })) as {
        content: Array<{ text: string }>;
      };
      return JSON.parse(result.content[0]!.text) as Caller;
    } finally {
      await connected.close();
    }
  };
  return era === 'legacy'
    ? call(await connectSdkClient(url, { version: 1, headers }))
    : call(await connectSdkClient(url, { version: 2, negotiation: 'auto', headers }));
}

describe('the whoami upstream', () => {
  let idp: RunningOidcProvider;

  beforeAll(async () => {
    idp = await startOidcProvider();
  });

  afterAll(async () => {
    await idp?.stop();
  });

  describe.each(['legacy', 'modern'] as const)('in the %s era', (era) => {
    let upstream: WhoamiUpstream;

    beforeAll(async () => {
      upstream = await startWhoamiUpstream({ era, jwksUri: idp.jwksUri, serviceCredential: SERVICE });
    });

    afterAll(async () => {
      await upstream?.stop();
    });

    it("reports a verified JWT's issuer, subject, audience and expiry", async () => {
      const token = await idp.userToken({ account: 'alice', resource: upstream.url, scope: 'mcp:tools' });
      expect(await whoami(upstream.url, era, `Bearer ${token.accessToken}`)).toEqual({
        kind: 'jwt',
        verified: true,
        iss: idp.issuer,
        sub: 'alice',
        aud: upstream.url,
        exp: token.claims.exp,
      });
    });

    it('tells no Authorization, the service credential and an opaque token apart', async () => {
      expect(await whoami(upstream.url, era)).toEqual({ kind: 'none' });
      expect(await whoami(upstream.url, era, SERVICE)).toEqual({ kind: 'service' });
      const opaque = (await whoami(upstream.url, era, 'Bearer not-a-jwt')) as { kind: string; sha256: string };
      expect(opaque).toEqual({ kind: 'opaque', sha256: expect.stringMatching(/^[0-9a-f]{16}$/) });
      expect(JSON.stringify(opaque)).not.toContain('not-a-jwt');
    });

    it('counts every Authorization it saw per method', () => {
      const calls = upstream.authorizations('tools/call');
      expect(calls.get('none')).toBe(1);
      expect(calls.get(SERVICE)).toBe(1);
      expect(calls.get('Bearer not-a-jwt')).toBe(1);
      expect([...calls.values()].reduce((sum, count) => sum + count, 0)).toBe(4);
    });
  });

  it('reports a JWT signed by a key outside the JWKS, or for another audience, as not verified', async () => {
    const upstream = await startWhoamiUpstream({ jwksUri: idp.jwksUri, audience: 'https://elsewhere.example/mcp' });
    try {
      const token = await idp.userToken({ account: 'bob', resource: upstream.url, scope: 'mcp:tools' });
      expect(await whoami(upstream.url, 'legacy', `Bearer ${token.accessToken}`)).toMatchObject({
        kind: 'jwt',
        verified: false,
        sub: 'bob',
        error: expect.stringContaining('aud'),
      });
    } finally {
      await upstream.stop();
    }
  });

  describe('with requireUserToken and protected resource metadata', () => {
    let upstream: WhoamiUpstream;
    let alice: string;

    beforeAll(async () => {
      upstream = await startWhoamiUpstream({
        jwksUri: idp.jwksUri,
        serviceCredential: SERVICE,
        requireUserToken: (caller) => caller.kind === 'jwt' && caller.verified && caller.sub === 'alice',
        protectedResource: { authorizationServers: [idp.issuer], scopes: ['mcp:tools'] },
      });
      alice = `Bearer ${(await idp.userToken({ account: 'alice', resource: upstream.url, scope: 'mcp:tools' })).accessToken}`;
    });

    afterAll(async () => {
      await upstream?.stop();
    });

    const post = (authorization: string | undefined, body: object, sessionId?: string) =>
      fetch(upstream.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-11-25',
          ...(authorization === undefined ? {} : { authorization }),
          ...(sessionId === undefined ? {} : { 'mcp-session-id': sessionId }),
        },
        body: JSON.stringify(body),
      });

    it('lists with the service credential, refuses its tools/call 401 naming the metadata, serves the accepted user', async () => {
      const connected = await connectSdkClient(upstream.url, { version: 1, headers: { authorization: SERVICE } });
      try {
        expect((await connected.client.listTools()).tools.map((tool) => tool.name)).toEqual(['whoami']);
        const call = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'whoami', arguments: {} } };
        const refused = await post(SERVICE, call, connected.sessionId());
        expect(refused.status).toBe(401);
        expect(refused.headers.get('www-authenticate')).toBe(
          `Bearer resource_metadata="${upstream.metadataUrl}", error="invalid_token"`,
        );
        const served = await post(alice, call, connected.sessionId());
        expect(served.status).toBe(200);
        expect(await served.text()).toContain('\\"sub\\":\\"alice\\"');
      } finally {
        await connected.close();
      }
      expect(upstream.refusedCalls()).toBe(1);
      expect(upstream.servedCalls()).toEqual([expect.objectContaining({ kind: 'jwt', sub: 'alice', verified: true })]);
    });

    it('refuses a request without any Authorization with a bare challenge naming the metadata', async () => {
      const refused = await post(undefined, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${upstream.metadataUrl}"`);
    });

    it('serves RFC 9728 metadata naming the authorization server', async () => {
      const response = await fetch(upstream.metadataUrl);
      expect(await response.json()).toEqual({
        resource: upstream.url,
        authorization_servers: [idp.issuer],
        bearer_methods_supported: ['header'],
        scopes_supported: ['mcp:tools'],
      });
    });
  });
});
