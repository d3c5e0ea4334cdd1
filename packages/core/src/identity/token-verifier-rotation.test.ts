import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { NOOP_LOGGER } from '../logger.ts';
import { createTokenVerifier } from './token-verifier.ts';

const ISSUER = 'https://idp.example.com';
const AUDIENCE = 'https://mcp.example.com/mcp';

interface Key {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

async function createKey(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

/**
 * An issuer answering its RFC 8414 metadata and its JWKS (the keys published now), counting JWKS
 * fetches: a stand-in, so that the verifier's clock can be moved past the 30 s kid cooldown. The
 * same rotation against the harness's real provider, waiting the cooldown out, is in
 * test/identity/issuer-keys.test.ts.
 */
function fakeIssuer(published: () => readonly Key[]) {
  let fetches = 0;
  const fetch = (async (input: RequestInfo | URL) => {
    const url = String(input);
    if (url === `${ISSUER}/.well-known/oauth-authorization-server`) {
      return Response.json({ issuer: ISSUER, jwks_uri: `${ISSUER}/jwks` });
    }
    if (url === `${ISSUER}/jwks`) {
      fetches += 1;
      return Response.json({ keys: published().map((key) => key.publicJwk) });
    }
    return new Response('not found', { status: 404 });
  }) as typeof globalThis.fetch;
  return { fetch, fetches: () => fetches };
}

function tokenSignedBy(key: Key): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'alice', iat: now, exp: now + 600 })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: key.kid })
    .sign(key.privateKey);
}

describe('createTokenVerifier across a key rotation', () => {
  it('accepts a token with a new kid once the kid cooldown has passed, though it refused it before', async () => {
    const first = await createKey('k1');
    let published: Key[] = [first];
    const issuer = fakeIssuer(() => published);
    let clock = 1_000_000;
    const verifier = createTokenVerifier({
      oauth: { issuers: [{ issuer: ISSUER }], audience: AUDIENCE, requiredScopes: [] },
      fetch: issuer.fetch,
      logger: NOOP_LOGGER,
      now: () => clock,
    });

    expect((await verifier.verify(`Bearer ${await tokenSignedBy(first)}`)).ok).toBe(true);
    expect(issuer.fetches()).toBe(1);

    const second = await createKey('k2');
    published = [second, first];
    const rotated = `Bearer ${await tokenSignedBy(second)}`;
    clock += 1_000;
    // Within the cooldown the keys are not fetched again: the unknown kid is refused.
    expect(await verifier.verify(rotated)).toMatchObject({ ok: false, refusal: { status: 401 } });
    expect(issuer.fetches()).toBe(1);

    clock += 30_000;
    expect((await verifier.verify(rotated)).ok).toBe(true);
    expect(issuer.fetches()).toBe(2);
  });
});
