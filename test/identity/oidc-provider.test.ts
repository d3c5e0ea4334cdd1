import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authorizeInBrowser, requestToken, startOidcProvider, type RunningOidcProvider } from '../harness/identity.ts';

/** What the tokens are for; nothing listens there, the provider only names it in `aud`. */
const RESOURCE = 'http://127.0.0.1:1/mcp';

async function getJson(url: string): Promise<Record<string, unknown>> {
  const response = await fetch(url);
  expect(response.status, url).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

async function publishedKids(provider: RunningOidcProvider): Promise<string[]> {
  const jwks = (await getJson(provider.jwksUri)) as unknown as JSONWebKeySet;
  return jwks.keys.map((key) => String(key.kid));
}

describe('startOidcProvider', () => {
  let provider: RunningOidcProvider;

  beforeAll(async () => {
    provider = await startOidcProvider();
  });

  afterEach(() => {
    provider.jwks.restore();
  });

  afterAll(async () => {
    await provider?.stop();
  });

  const verify = (token: string, audience = RESOURCE) =>
    jwtVerify(token, createRemoteJWKSet(new URL(provider.jwksUri)), {
      issuer: provider.issuer,
      audience,
      typ: 'at+jwt',
    });

  it('serves the OpenID discovery document and the RFC 8414 metadata for its issuer', async () => {
    const openid = await getJson(`${provider.issuer}/.well-known/openid-configuration`);
    const oauth = await getJson(`${provider.issuer}/.well-known/oauth-authorization-server`);
    expect(oauth).toEqual(openid);
    expect(openid).toMatchObject({
      issuer: provider.issuer,
      jwks_uri: provider.jwksUri,
      registration_endpoint: `${provider.issuer}/reg`,
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code'],
      scopes_supported: expect.arrayContaining(['mcp:tools', 'mcp:admin']),
      grant_types_supported: expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']),
    });
    expect(openid.grant_types_supported).not.toContain('implicit');
  });

  it('registers a client dynamically without an initial access token', async () => {
    const response = await fetch(`${provider.issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: ['http://127.0.0.1/callback'],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        scope: 'mcp:tools mcp:admin',
      }),
    });
    expect(response.status).toBe(201);
    const client = (await response.json()) as Record<string, unknown>;
    expect(client.client_id).toEqual(expect.any(String));
    expect(client.client_secret).toBeUndefined();
  });

  it('issues a client_credentials JWT access token for the requested resource', async () => {
    const issued = await provider.clientCredentialsToken({ resource: RESOURCE, scope: 'mcp:tools' });
    const { payload, protectedHeader } = await verify(issued.accessToken);
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'at+jwt', kid: provider.keys.active.kid });
    expect(payload).toMatchObject({
      iss: provider.issuer,
      aud: RESOURCE,
      sub: provider.serviceClient.clientId,
      client_id: provider.serviceClient.clientId,
      scope: 'mcp:tools',
      jti: expect.any(String),
    });
    expect(payload.exp! - payload.iat!).toBe(300);
  });

  it('gives alice a token with her roles and org through the authorization code flow with PKCE', async () => {
    const issued = await provider.userToken({ account: 'alice', resource: RESOURCE, scope: 'mcp:tools mcp:admin' });
    const { payload } = await verify(issued.accessToken);
    expect(payload).toMatchObject({
      sub: 'alice',
      aud: RESOURCE,
      scope: 'mcp:tools mcp:admin',
      roles: ['admin'],
      org: { id: 'acme', team: 'platform' },
      client_id: 'harness-web',
    });
    expect(issued.refreshToken).toEqual(expect.any(String));

    const refreshed = await provider.refreshUserToken(issued.refreshToken!, { resource: RESOURCE });
    expect((await verify(refreshed.accessToken)).payload).toMatchObject({ sub: 'alice', roles: ['admin'] });
    expect(refreshed.claims.jti).not.toBe(payload.jti);
  });

  it('grants bob only the scopes he consents to', async () => {
    const issued = await provider.userToken({ account: 'bob', resource: RESOURCE, scope: 'mcp:tools mcp:admin' });
    expect((await verify(issued.accessToken)).payload).toMatchObject({
      sub: 'bob',
      scope: 'mcp:tools',
      roles: ['reader'],
    });
  });

  it('issues a token whose audience is whatever resource was asked for, and none for a resource with a fragment', async () => {
    const other = 'http://127.0.0.1:2/elsewhere';
    const issued = await provider.clientCredentialsToken({ resource: other });
    expect((await verify(issued.accessToken, other)).payload.aud).toBe(other);
    await expect(provider.clientCredentialsToken({ resource: `${RESOURCE}#part` })).rejects.toThrow(/invalid_target/);
  });

  it('refuses an authorization request without PKCE', async () => {
    const url = new URL(`${provider.issuer}/auth`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: 'harness-web',
      redirect_uri: 'http://127.0.0.1/callback',
      resource: RESOURCE,
      scope: 'mcp:tools',
    }).toString();
    const answer = await authorizeInBrowser(url, { account: 'alice', redirectUri: 'http://127.0.0.1/callback' });
    expect(answer.get('error')).toBe('invalid_request');
    expect(answer.get('error_description')).toMatch(/PKCE/);
  });

  it('refuses to sign in an account it does not know', async () => {
    await expect(provider.userToken({ account: 'mallory', resource: RESOURCE })).rejects.toThrow(
      /access_denied.*no account named/,
    );
  });

  it('honours a short access token lifetime', async () => {
    provider.setAccessTokenTtl(2);
    try {
      const issued = await provider.clientCredentialsToken({ resource: RESOURCE });
      expect(issued.expiresIn).toBe(2);
      expect(issued.claims.exp! - issued.claims.iat!).toBe(2);
    } finally {
      provider.setAccessTokenTtl(300);
    }
  });

  it('counts JWKS fetches and faults the JWKS endpoint on demand', async () => {
    const before = provider.jwks.fetches();
    await getJson(provider.jwksUri);
    expect(provider.jwks.fetches()).toBe(before + 1);

    provider.jwks.fail('down');
    await expect(fetch(provider.jwksUri)).rejects.toThrow();

    provider.jwks.fail('error');
    expect((await fetch(provider.jwksUri)).status).toBe(503);

    provider.jwks.fail('hang');
    await expect(fetch(provider.jwksUri, { signal: AbortSignal.timeout(300) })).rejects.toThrow(/abort|timeout/i);

    provider.jwks.fail('slow', 400);
    const started = performance.now();
    const slow = await getJson(provider.jwksUri);
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);
    expect(slow.keys).toHaveLength(1);

    provider.jwks.restore();
    await getJson(provider.jwksUri);
    expect(provider.jwks.fetches()).toBe(before + 6);
    // Only the JWKS endpoint is faulted: the rest of the provider keeps answering.
    provider.jwks.fail('down');
    await getJson(`${provider.issuer}/.well-known/openid-configuration`);
  });
});

describe('startOidcProvider key rotation', () => {
  let provider: RunningOidcProvider;

  beforeAll(async () => {
    provider = await startOidcProvider();
  });

  afterAll(async () => {
    await provider?.stop();
  });

  it('signs with a new kid after rotateKeys and keeps the old key published unless told not to', async () => {
    const first = provider.keys.active;
    const oldToken = await provider.clientCredentialsToken({ resource: RESOURCE });
    // A client registered before the rotation still gets tokens after it.
    const registration = await fetch(`${provider.issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_types: ['client_credentials'], response_types: [], redirect_uris: [] }),
    });
    const client = (await registration.json()) as { client_id: string; client_secret: string };

    const second = await provider.rotateKeys();
    expect(second.kid).not.toBe(first.kid);
    expect(provider.keys.active.kid).toBe(second.kid);
    expect(await publishedKids(provider)).toEqual([second.kid, first.kid]);

    const tokenEndpoint = `${provider.issuer}/token`;
    const newToken = await requestToken(
      tokenEndpoint,
      { clientId: client.client_id, clientSecret: client.client_secret },
      { grant_type: 'client_credentials', resource: RESOURCE },
    );
    expect(newToken.header.kid).toBe(second.kid);
    const published = createLocalJWKSet((await getJson(provider.jwksUri)) as unknown as JSONWebKeySet);
    await jwtVerify(newToken.accessToken, published, { issuer: provider.issuer, audience: RESOURCE });
    await jwtVerify(oldToken.accessToken, published, { issuer: provider.issuer, audience: RESOURCE });

    const third = await provider.rotateKeys({ keepOld: false });
    expect(await publishedKids(provider)).toEqual([third.kid]);
    const onlyNewest = createLocalJWKSet((await getJson(provider.jwksUri)) as unknown as JSONWebKeySet);
    await expect(jwtVerify(oldToken.accessToken, onlyNewest)).rejects.toThrow(/no applicable key/i);
  });
});

describe('startOidcProvider with ES256', () => {
  it('signs access tokens with a P-256 key it publishes', async () => {
    const provider = await startOidcProvider({ alg: 'ES256', accessTokenTtl: 60 });
    try {
      const issued = await provider.userToken({ account: 'alice', resource: RESOURCE, scope: 'mcp:tools' });
      expect(issued.header).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: provider.keys.active.kid });
      const jwks = (await getJson(provider.jwksUri)) as unknown as JSONWebKeySet;
      expect(jwks.keys).toEqual([expect.objectContaining({ kty: 'EC', crv: 'P-256', kid: provider.keys.active.kid })]);
      const { payload } = await jwtVerify(issued.accessToken, createLocalJWKSet(jwks), { audience: RESOURCE });
      expect(payload).toMatchObject({ sub: 'alice', roles: ['admin'] });
      expect(payload.exp! - payload.iat!).toBe(60);
    } finally {
      await provider.stop();
    }
  });
});
