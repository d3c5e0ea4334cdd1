import { refreshUpstreamToken, type UpstreamOAuthServer } from '@mcp-gateway/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../harness/free-port.ts';
import { startOidcProvider, type RunningOidcProvider } from '../harness/identity.ts';
import { startStandInResourceServer, type StandInResourceServer } from '../identity/stand-in-resource-server.ts';
import { ownerOf, startPagesFixture, type PagesFixture } from './pages-fixture.ts';

// The upstream wants its own login: a second OpenID provider is its authorization server, and
// the stand-in resource server answers 401 with resource_metadata naming it.
let upstreamAs: RunningOidcProvider;
let upstream: StandInResourceServer;
let docs: UpstreamOAuthServer;
let fx: PagesFixture;

beforeAll(async () => {
  upstreamAs = await startOidcProvider();
  upstream = await startStandInResourceServer({ issuer: upstreamAs.issuer, jwksUri: upstreamAs.jwksUri });
  docs = { name: 'docs', url: upstream.url, upstreamOAuth: {} };
  // An upstream nobody listens for: its authorization cannot start.
  const down = { name: 'down', url: `http://127.0.0.1:${await freePort()}/mcp`, upstreamOAuth: {} };
  fx = await startPagesFixture({ servers: { docs, down }, providers: () => [upstreamAs.issuer] });
});
afterAll(async () => {
  await fx?.stop();
  await upstream?.stop();
  await upstreamAs?.stop();
});

/** Calls the upstream's whoami tool with `authorization`: the verified subject, or the HTTP status. */
async function whoami(authorization: string): Promise<string | number> {
  const response = await fetch(upstream.url, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
  });
  if (!response.ok) return response.status;
  const answer = (await response.json()) as { result: { content: Array<{ text: string }> } };
  return (JSON.parse(answer.result.content[0]!.text) as { sub: string }).sub;
}

async function stored(account: string) {
  const sealed = (await fx.store.listCredentials(ownerOf(fx.op.issuer, account))).docs;
  return sealed === undefined
    ? undefined
    : fx.sealer.open(sealed, { issuer: fx.op.issuer, subject: account, server: 'docs' });
}

describe('an upstream with its own OAuth', () => {
  it('is authorized once by alice through the elicitation link, and the stored token is refreshed', async () => {
    const alice = fx.browser('alice');
    const id = await fx.elicit('alice', 'docs');
    const done = await alice.open(`${fx.server.origin}/tokens?elicitation_id=${id}`);
    expect(done.url.pathname).toBe('/tokens/oauth/callback');
    expect(done.status).toBe(200);
    expect(done.body).toContain('Authorized');
    // The gateway registered itself (no client id configured).
    expect(upstreamAs.requests()).toContainEqual({ method: 'POST', path: '/reg' });

    const credential = await stored('alice');
    expect(credential?.authorization).toMatch(/^Bearer ey/);
    expect(credential?.refreshToken).toBeDefined();
    expect(await whoami(credential!.authorization)).toBe('alice');
    const sealed = (await fx.store.listCredentials(ownerOf(fx.op.issuer, 'alice'))).docs!;
    expect(sealed).not.toContain(credential!.authorization.slice(7));

    const refreshed = await refreshUpstreamToken(docs, credential!);
    expect(refreshed.authorization).not.toBe(credential!.authorization);
    expect(refreshed.expiresAt).toBeGreaterThan(Date.now());
    expect(await whoami(refreshed.authorization)).toBe('alice');
    // The rotated refresh token is kept and works in turn.
    expect(await whoami((await refreshUpstreamToken(docs, refreshed)).authorization)).toBe('alice');
  });

  it("refuses to finish alice's authorization in bob's browser", async () => {
    const alice = fx.browser('alice');
    const id = await fx.elicit('alice', 'docs');
    // Alice signs in at the gateway; the elicitation then sends her to the upstream's server.
    await alice.open(`${fx.server.origin}/tokens`);
    const started = await fetch(`${fx.server.origin}/tokens?elicitation_id=${id}`, {
      headers: { cookie: alice.cookieHeader(`${fx.server.origin}/tokens`) },
      redirect: 'manual',
    });
    expect(started.status).toBe(302);
    const authorizationUrl = new URL(started.headers.get('location')!);
    expect(authorizationUrl.origin).toBe(upstreamAs.issuer);
    expect(authorizationUrl.searchParams.get('resource')).toBe(upstream.url);
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');

    // Bob is lured to that URL, signs in at the upstream and lands on the callback signed in as bob.
    const bob = fx.browser('bob');
    await bob.open(`${fx.server.origin}/tokens`);
    const landed = await bob.open(authorizationUrl);
    expect(landed.url.pathname).toBe('/tokens/oauth/callback');
    expect(landed.status).toBe(403);
    expect(JSON.parse(landed.body)).toEqual({ error: 'this authorization was started by another user' });
    expect(await stored('bob')).toBeUndefined();
  });

  it('answers 403 naming the refusal when alice declines at the upstream’s server, and keeps the token alice had', async () => {
    const alice = fx.browser('alice');
    await alice.open(`${fx.server.origin}/tokens`);
    const before = await stored('alice');
    const id = await fx.elicit('alice', 'docs');
    const started = await fetch(`${fx.server.origin}/tokens?elicitation_id=${id}`, {
      headers: { cookie: alice.cookieHeader(`${fx.server.origin}/tokens`) },
      redirect: 'manual',
    });
    expect(started.status).toBe(302);
    const authorizationUrl = new URL(started.headers.get('location')!);
    // What the authorization server sends the browser back with when its user declines (RFC 6749 §4.1.2.1).
    const back = new URL(authorizationUrl.searchParams.get('redirect_uri')!);
    back.searchParams.set('error', 'access_denied');
    back.searchParams.set('error_description', 'the user declined');
    back.searchParams.set('state', authorizationUrl.searchParams.get('state')!);
    back.searchParams.set('iss', upstreamAs.issuer);
    const landed = await alice.open(back);
    expect(landed.status).toBe(403);
    expect(JSON.parse(landed.body)).toEqual({
      error: `authorization for server docs at ${upstreamAs.issuer} failed: the authorization was refused: access_denied`,
    });
    expect(await stored('alice')).toEqual(before);
  });

  it('keeps the elicitation link when the authorization cannot start, so it works again later', async () => {
    const alice = fx.browser('alice');
    await alice.open(`${fx.server.origin}/tokens`);
    const id = await fx.elicit('alice', 'down');
    for (let attempt = 0; attempt < 2; attempt++) {
      const answer = await fetch(`${fx.server.origin}/tokens?elicitation_id=${id}`, {
        headers: { cookie: alice.cookieHeader(`${fx.server.origin}/tokens`) },
        redirect: 'manual',
      });
      expect(answer.status).toBe(502);
      expect(((await answer.json()) as { error: string }).error).toMatch(
        /^authorization for server down cannot start: http:\/\/127\.0\.0\.1:\d+\/mcp: it could not be reached/,
      );
    }
  });

  it('says which server and authorization server failed when the refresh token is refused', async () => {
    const credential = await stored('alice');
    const envelope = JSON.parse(Buffer.from(credential!.refreshToken!.slice(4), 'base64url').toString()) as Record<
      string,
      string
    >;
    const forged = `uo1.${Buffer.from(JSON.stringify({ ...envelope, r: 'not-a-refresh-token' })).toString('base64url')}`;
    const failure = await refreshUpstreamToken(docs, { ...credential!, refreshToken: forged }).catch(
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ code: 'USER_CREDENTIAL_UNAVAILABLE' });
    expect((failure as Error).message).toBe(
      `refreshing the token for server docs at ${upstreamAs.issuer} failed: it answered 400 invalid_grant (grant request is invalid)`,
    );
    expect((failure as Error).message).not.toContain('not-a-refresh-token');
  });
});
