// The verifier against a real OpenID provider (oidc-provider, in process): its metadata, its
// JWKS and its tokens; hostile tokens from the harness's forge. The JWKS fault switch is the
// harness's one stand-in (no provider fails on demand).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTokenForge,
  startOidcProvider,
  startRogueIssuer,
  type RogueIssuer,
  type RunningOidcProvider,
  type TokenForge,
} from '../../../../test/harness/identity.ts';
import { NOOP_LOGGER } from '../logger.ts';
import { createTokenVerifier, type TokenVerifier } from './token-verifier.ts';

const AUDIENCE = 'http://127.0.0.1:9/mcp';

let idp: RunningOidcProvider;
let forge: TokenForge;
let rogue: RogueIssuer;

const verifierFor = (requiredScopes: string[] = []): TokenVerifier =>
  createTokenVerifier({
    oauth: { issuers: [{ issuer: idp.issuer }], audience: AUDIENCE, requiredScopes },
    fetch: (input, init) => fetch(input, init),
    logger: NOOP_LOGGER,
  });

beforeAll(async () => {
  idp = await startOidcProvider();
  forge = createTokenForge({ issuer: idp.issuer, audience: AUDIENCE, key: idp.keys.active });
  rogue = await startRogueIssuer();
});

afterAll(async () => {
  await rogue?.stop();
  await idp?.stop();
});

describe('createTokenVerifier', () => {
  it("verifies the provider's access token for this audience, once per token, fetching the keys once", async () => {
    const verifier = verifierFor();
    const before = idp.jwks.fetches();
    const issued = await idp.clientCredentialsToken({ resource: AUDIENCE, scope: 'mcp:tools' });
    const outcome = await verifier.verify(`Bearer ${issued.accessToken}`);
    expect(outcome).toMatchObject({
      ok: true,
      auth: { kind: 'verified', identity: { issuer: idp.issuer, scopes: ['mcp:tools'] } },
    });
    for (let i = 0; i < 5; i++) await verifier.verify(`Bearer ${await forge.valid()}`);
    expect(idp.jwks.fetches() - before).toBe(1);
  });

  it.each([
    ['expired', () => forge.expired(), 'the token has expired'],
    ['for another audience', () => forge.wrongAudience(), 'the token is not meant for this resource (audience)'],
    ['from an issuer not trusted', () => forge.wrongIssuer(), 'the token was not issued by a trusted issuer'],
    ['unsigned (alg none)', async () => forge.algNone(), 'the token\'s algorithm "none" is not accepted'],
    [
      'signed by a foreign key',
      () => forge.foreignKey(),
      "the token's signature does not verify with the issuer's keys",
    ],
    [
      'HMAC-signed with the public key',
      () => forge.hmacWithPublicKey(),
      'the token\'s algorithm "HS256" is not accepted',
    ],
    ['without a subject', () => forge.missingSub(), "the token's sub claim is not acceptable (missing)"],
    ['not yet valid', () => forge.notYetValid(), 'the token is not valid yet'],
    ['larger than 16 KiB', () => forge.oversized(32_768), 'the bearer token is too large'],
  ])('refuses a token %s with 401 invalid_token, saying why', async (_name, make, description) => {
    const outcome = await verifierFor().verify(`Bearer ${await make()}`);
    expect(outcome).toEqual({ ok: false, refusal: { status: 401, error: 'invalid_token', description } });
  });

  it('refuses a missing or non-Bearer credential with 401 and no error code when nothing was presented', async () => {
    expect(await verifierFor().verify(null)).toEqual({
      ok: false,
      refusal: { status: 401, description: 'a bearer token is required' },
    });
    expect(await verifierFor().verify('Basic dXNlcjpwdw==')).toMatchObject({
      ok: false,
      refusal: { status: 401, error: 'invalid_token' },
    });
  });

  it('never fetches keys from where a token points', async () => {
    const outcome = await verifierFor().verify(`Bearer ${await rogue.token(AUDIENCE)}`);
    expect(outcome).toMatchObject({ ok: false, refusal: { status: 401 } });
    expect(rogue.hits()).toBe(0);
  });

  it('answers 403 insufficient_scope, naming the scopes needed, for a good token without them', async () => {
    const token = await forge.valid({ scope: 'mcp:tools' });
    expect(await verifierFor(['mcp:tools', 'mcp:admin']).verify(`Bearer ${token}`)).toEqual({
      ok: false,
      refusal: {
        status: 403,
        error: 'insufficient_scope',
        description: 'the token lacks the scope mcp:admin',
        scope: 'mcp:tools mcp:admin',
      },
    });
  });

  it('answers 503 naming the issuer while no keys were ever fetched, and verifies once the issuer is back', async () => {
    const verifier = verifierFor();
    idp.jwks.fail('error');
    try {
      const outcome = await verifier.verify(`Bearer ${await forge.valid()}`);
      expect(outcome).toEqual({
        ok: false,
        refusal: { status: 503, description: `the keys of issuer ${idp.issuer} are unavailable; try again later` },
      });
    } finally {
      idp.jwks.restore();
    }
    expect((await verifier.verify(`Bearer ${await forge.valid()}`)).ok).toBe(true);
  });

  it('keeps verifying with the keys it has while the issuer is down', async () => {
    const verifier = verifierFor();
    expect((await verifier.verify(`Bearer ${await forge.valid()}`)).ok).toBe(true);
    idp.jwks.fail('down');
    try {
      expect((await verifier.verify(`Bearer ${await forge.valid()}`)).ok).toBe(true);
    } finally {
      idp.jwks.restore();
    }
  });
});
