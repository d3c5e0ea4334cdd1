// The SDK's OAuth client and the harness's OpenID provider, end to end, against a STAND-IN for
// the gateway (stand-in-resource-server.ts). These tests prove the harness; the gateway's own
// suites connect the same client to the gateway.
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  connectOAuthClient,
  createHarnessOAuthProvider,
  startOidcProvider,
  type OAuthConnectedClient,
  type RunningOidcProvider,
} from '../harness/identity.ts';
import { startStandInResourceServer, type StandInResourceServer } from './stand-in-resource-server.ts';

describe('the SDK OAuth client against a stand-in resource server', () => {
  let provider: RunningOidcProvider;
  let server: StandInResourceServer;
  const open: OAuthConnectedClient[] = [];

  beforeAll(async () => {
    provider = await startOidcProvider();
    server = await startStandInResourceServer({ issuer: provider.issuer, jwksUri: provider.jwksUri });
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((connected) => connected.close()));
    provider.setAccessTokenTtl(300);
  });

  afterAll(async () => {
    await server?.stop();
    await provider?.stop();
  });

  const connect = async (...args: Parameters<typeof connectOAuthClient>) => {
    const connected = await connectOAuthClient(...args);
    open.push(connected);
    return connected;
  };

  const whoami = async (connected: OAuthConnectedClient) => {
    const result = await connected.client.callTool({ name: 'whoami' });
    const [content] = result.content as Array<{ type: string; text: string }>;
    return JSON.parse(content!.text) as Record<string, unknown>;
  };

  it('goes from the 401 through metadata discovery, registration and PKCE to a tool call as alice', async () => {
    const seenBefore = provider.requests().length;
    const connected = await connect(server.url, { account: 'alice' });

    expect(await whoami(connected)).toMatchObject({
      iss: provider.issuer,
      sub: 'alice',
      aud: server.url,
      roles: ['admin'],
      org: { id: 'acme' },
      scope: 'mcp:tools mcp:admin',
    });
    // The first request went without a token and was challenged; the SDK read the metadata.
    expect(server.requests[0]).toMatchObject({ method: 'POST', path: '/mcp', authorization: undefined, status: 401 });
    expect(server.requests.map((request) => request.path)).toContain('/.well-known/oauth-protected-resource/mcp');

    const [authorizationUrl] = connected.provider.authorizationUrls;
    expect(authorizationUrl?.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizationUrl?.searchParams.get('resource')).toBe(server.url);
    expect(connected.provider.currentClient()?.client_id).toMatch(/.+/);

    const calls = provider.requests().slice(seenBefore);
    expect(calls).toContainEqual({ method: 'GET', path: '/.well-known/oauth-authorization-server' });
    expect(calls).toContainEqual({ method: 'POST', path: '/reg' });
    expect(calls).toContainEqual({ method: 'POST', path: '/token' });

    const tokens = connected.tokens()!;
    expect(tokens.refresh_token).toBeDefined();
    const { payload, protectedHeader } = await jwtVerify(
      tokens.access_token,
      createRemoteJWKSet(new URL(provider.jwksUri)),
      { issuer: provider.issuer, audience: server.url },
    );
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload.client_id).toBe(connected.provider.currentClient()?.client_id);
  });

  it('connects again with the tokens it holds, without another sign-in', async () => {
    const oauth = createHarnessOAuthProvider({ account: 'alice' });
    await (await connect(server.url, { account: 'alice', provider: oauth })).close();
    expect(oauth.authorizationUrls).toHaveLength(1);

    const again = await connect(server.url, { account: 'alice', provider: oauth });
    expect(await whoami(again)).toMatchObject({ sub: 'alice' });
    expect(oauth.authorizationUrls).toHaveLength(1);
  });

  it('refreshes an expired access token with its refresh token and calls on', async () => {
    provider.setAccessTokenTtl(1);
    const connected = await connect(server.url, { account: 'bob' });
    const first = connected.tokens()!.access_token;
    expect(await whoami(connected)).toMatchObject({ sub: 'bob', roles: ['reader'] });

    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect(await whoami(connected)).toMatchObject({ sub: 'bob' });
    const second = connected.tokens()!.access_token;
    expect(second).not.toBe(first);
    expect(decodeJwt(second).sub).toBe('bob');
    expect(connected.provider.authorizationUrls).toHaveLength(1);
  });

  it('fails to connect when the user denies consent', async () => {
    await expect(connectOAuthClient(server.url, { account: 'alice', deny: true })).rejects.toThrow(
      /authorization refused: access_denied/,
    );
  });
});

describe('the SDK OAuth client when the resource requires a scope the user does not grant', () => {
  let provider: RunningOidcProvider;
  let server: StandInResourceServer;

  beforeAll(async () => {
    provider = await startOidcProvider();
    server = await startStandInResourceServer({
      issuer: provider.issuer,
      jwksUri: provider.jwksUri,
      requiredScopes: ['mcp:admin'],
    });
  });

  afterAll(async () => {
    await server?.stop();
    await provider?.stop();
  });

  it("gets 403 insufficient_scope for bob, whose consent leaves mcp:admin out, after the SDK's one retry", async () => {
    const oauth = createHarnessOAuthProvider({ account: 'bob' });
    await expect(connectOAuthClient(server.url, { account: 'bob', provider: oauth })).rejects.toThrow(
      /403 after trying upscoping/,
    );
    expect(oauth.currentTokens()?.scope).toBe('mcp:tools');
    expect(server.requests.filter((request) => request.status === 403).length).toBeGreaterThanOrEqual(1);
  });

  it('serves alice, who grants mcp:admin', async () => {
    const connected = await connectOAuthClient(server.url, { account: 'alice' });
    try {
      const result = await connected.client.callTool({ name: 'whoami' });
      expect(JSON.stringify(result.content)).toContain('alice');
    } finally {
      await connected.close();
    }
  });
});
