// The gateway's RFC 8693 token exchange (core's exchangeToken) against the real OpenID provider of
// the identity suites, with token exchange enabled on it: the caller's access token traded for one
// whose audience is the upstream, and every way it can fail named clearly, the token never in it.
import { createServer, type Server, type Socket } from 'node:net';
import { exchangeToken, type TokenExchangeTarget } from '@mcp-gateway/core';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSigningKey, startOidcProvider, type RunningOidcProvider } from '../harness/identity.ts';
import { SignJWT } from 'jose';

/** The gateway's resource (what the user's token is for) and the upstream's audience. */
const GATEWAY = 'http://127.0.0.1:1/mcp';
const TRACKER = 'https://tracker.example/mcp';

describe('token exchange against the real OpenID provider', () => {
  let provider: RunningOidcProvider;
  let target: TokenExchangeTarget;

  beforeAll(async () => {
    provider = await startOidcProvider();
    const metadata = (await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json()) as {
      token_endpoint: string;
    };
    target = {
      server: 'tracker',
      issuer: provider.issuer,
      tokenEndpoint: metadata.token_endpoint,
      clientId: provider.exchangeClient.clientId,
      clientSecret: provider.exchangeClient.clientSecret,
      audience: TRACKER,
      scopes: ['mcp:tools'],
    };
  });

  afterAll(async () => {
    await provider?.stop();
  });

  it("trades alice's token for one of hers whose audience is the upstream, acting as the gateway", async () => {
    const user = await provider.userToken({ account: 'alice', resource: GATEWAY, scope: 'mcp:tools mcp:admin' });
    const before = Date.now();
    const exchanged = await exchangeToken(target, user.accessToken);
    expect(exchanged.authorization).toMatch(/^Bearer /);
    const { payload } = await jwtVerify(
      exchanged.authorization.slice('Bearer '.length),
      createRemoteJWKSet(new URL(provider.jwksUri)),
      { issuer: provider.issuer, audience: TRACKER, typ: 'at+jwt' },
    );
    expect(payload).toMatchObject({ sub: 'alice', scope: 'mcp:tools', act: { sub: provider.exchangeClient.clientId } });
    expect(exchanged.expiresAt).toBeGreaterThanOrEqual(before + 299_000);
    expect(exchanged.expiresAt).toBeLessThanOrEqual(Date.now() + 300_000);
    expect(provider.exchanges().at(-1)).toEqual({
      clientId: provider.exchangeClient.clientId,
      subject: 'alice',
      audience: TRACKER,
    });
  });

  it("never keeps the exchanged token past the caller's own", async () => {
    const user = await provider.userToken({ account: 'bob', resource: GATEWAY, scope: 'mcp:tools' });
    const subjectExpiresAt = Date.now() + 10_000;
    expect((await exchangeToken(target, user.accessToken, { subjectExpiresAt })).expiresAt).toBe(subjectExpiresAt);
  });

  it('names the server and the refusal when the gateway is not the registered client, never the token', async () => {
    const user = await provider.userToken({ account: 'alice', resource: GATEWAY, scope: 'mcp:tools' });
    const refused = await exchangeToken({ ...target, clientSecret: 'wrong' }, user.accessToken).catch(
      (error: unknown) => error as Error & { code?: string },
    );
    expect(refused).toBeInstanceOf(Error);
    expect((refused as { code?: string }).code).toBe('TOKEN_EXCHANGE_FAILED');
    expect((refused as Error).message).toMatch(
      /^token exchange for server tracker failed: the authorization server answered 401 invalid_client/,
    );
    expect((refused as Error).message).not.toContain(user.accessToken);
  });

  it('is refused for a subject token the provider did not issue, and for a scope the caller does not hold', async () => {
    const stranger = await createSigningKey('RS256');
    const forged = await new SignJWT({ sub: 'alice', scope: 'mcp:tools' })
      .setProtectedHeader({ alg: 'RS256', kid: stranger.kid, typ: 'at+jwt' })
      .setIssuer(provider.issuer)
      .setAudience(GATEWAY)
      .setExpirationTime('5m')
      .sign(stranger.privateKey);
    await expect(exchangeToken(target, forged)).rejects.toThrow(/answered 400 invalid_grant/);
    const bob = await provider.userToken({ account: 'bob', resource: GATEWAY, scope: 'mcp:tools' });
    await expect(exchangeToken({ ...target, scopes: ['mcp:admin'] }, bob.accessToken)).rejects.toThrow(
      /answered 400 invalid_scope/,
    );
  });

  describe('with an authorization server that is down or hangs', () => {
    let silent: Server;
    const sockets: Socket[] = [];
    let silentUrl: string;

    beforeAll(async () => {
      // A real socket that accepts and never answers: what a hung authorization server looks like.
      silent = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const address = silent.address() as { port: number };
      silentUrl = `http://127.0.0.1:${address.port}/token`;
    });

    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it('says the authorization server could not be reached, or did not answer in time', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as { port: number }).port;
      await new Promise((resolve) => closed.close(resolve));
      await expect(
        exchangeToken({ ...target, tokenEndpoint: `http://127.0.0.1:${port}/token` }, 'subject'),
      ).rejects.toThrow('token exchange for server tracker failed: the authorization server could not be reached');
      await expect(
        exchangeToken({ ...target, tokenEndpoint: silentUrl }, 'subject', { timeoutMs: 300 }),
      ).rejects.toThrow('token exchange for server tracker failed: the authorization server did not answer in time');
    });
  });
});
