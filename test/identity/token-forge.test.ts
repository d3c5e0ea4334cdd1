// Each forged token is checked against a correct verifier (jose, the provider's JWKS, the
// gateway's issuer and audience) and must fail for its one stated reason, so a gateway suite
// that sees it refused knows why. Where a forgery only works on a careless verifier, that
// verifier is shown accepting it: the forgery is real.
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  importSPKI,
  jwtVerify,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTokenForge,
  createTrustedHeaderSigner,
  ONE_MIB,
  startOidcProvider,
  startRogueIssuer,
  type RogueIssuer,
  type RunningOidcProvider,
  type TokenForge,
  type TrustedHeaderSigner,
} from '../harness/identity.ts';

const AUDIENCE = 'http://127.0.0.1:1/mcp';

/** The jose error a verification ends with: its code and, for a claim check, the claim. */
async function failure(verification: Promise<unknown>): Promise<string> {
  const error = (await verification.then(
    () => undefined,
    (caught: unknown) => caught,
  )) as { code?: string; claim?: string } | undefined;
  if (error === undefined) return 'verified';
  return error.claim === undefined ? String(error.code) : `${error.code} (${error.claim})`;
}

describe('createTokenForge', () => {
  let provider: RunningOidcProvider;
  let forge: TokenForge;
  let jwks: JWTVerifyGetKey;

  beforeAll(async () => {
    provider = await startOidcProvider();
    forge = createTokenForge({ issuer: provider.issuer, audience: AUDIENCE, key: provider.keys.active });
    jwks = createRemoteJWKSet(new URL(provider.jwksUri));
  });

  afterAll(async () => {
    await provider?.stop();
  });

  const verify = (token: string) =>
    jwtVerify(token, jwks, {
      issuer: provider.issuer,
      audience: AUDIENCE,
      typ: 'at+jwt',
      algorithms: ['RS256'],
      requiredClaims: ['sub', 'exp', 'iat'],
    });

  it('makes a valid token that verifies like one the provider issued', async () => {
    const { payload } = await verify(await forge.valid({ sub: 'bob', roles: ['reader'] }));
    expect(payload).toMatchObject({ iss: provider.issuer, aud: AUDIENCE, sub: 'bob', roles: ['reader'] });
    const issued = await provider.clientCredentialsToken({ resource: AUDIENCE });
    expect(decodeProtectedHeader(await forge.valid())).toEqual(issued.header);
  });

  it('makes tokens that each fail verification for their one reason', async () => {
    expect(await failure(verify(await forge.expired()))).toBe('ERR_JWT_EXPIRED (exp)');
    expect(await failure(verify(await forge.wrongAudience()))).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED (aud)');
    expect(await failure(verify(await forge.wrongIssuer()))).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED (iss)');
    expect(await failure(verify(await forge.missingSub()))).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED (sub)');
    expect(await failure(verify(await forge.notYetValid()))).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED (nbf)');
    expect(await failure(verify(forge.algNone()))).toBe('ERR_JOSE_ALG_NOT_ALLOWED');
    expect(await failure(verify(await forge.hmacWithPublicKey()))).toBe('ERR_JOSE_ALG_NOT_ALLOWED');

    const foreign = await forge.foreignKey();
    expect(decodeProtectedHeader(foreign).kid).toBe(provider.keys.active.kid);
    expect(await failure(verify(foreign))).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  it('makes an algorithm-confusion token that a verifier taking the public key as an HMAC secret accepts', async () => {
    const token = await forge.hmacWithPublicKey();
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'HS256', kid: provider.keys.active.kid });
    const careless = await jwtVerify(token, new TextEncoder().encode(provider.keys.active.publicPem), {
      issuer: provider.issuer,
      audience: AUDIENCE,
    });
    expect(careless.payload.sub).toBe('alice');
  });

  it('makes a correctly signed token of at least 1 MiB', async () => {
    const token = await forge.oversized();
    expect(token.length).toBeGreaterThanOrEqual(ONE_MIB);
    expect(token.length).toBeLessThan(ONE_MIB + 4_096);
    expect((await verify(token)).payload.sub).toBe('alice');
  });
});

describe('startRogueIssuer', () => {
  let rogue: RogueIssuer;

  beforeAll(async () => {
    rogue = await startRogueIssuer();
  });

  afterAll(async () => {
    await rogue?.stop();
  });

  it('issues tokens that verify only against the keys it serves itself, and counts who fetched them', async () => {
    const token = await rogue.token(AUDIENCE);
    expect(decodeProtectedHeader(token).jku).toBe(`${rogue.url}/jwks`);
    expect(rogue.hits()).toBe(0);

    // A verifier that follows the token's iss to its metadata and keys accepts it...
    const metadata = (await (await fetch(`${rogue.url}/.well-known/openid-configuration`)).json()) as {
      jwks_uri: string;
    };
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(metadata.jwks_uri)), { audience: AUDIENCE });
    expect(payload.iss).toBe(rogue.url);
    // ...and the rogue saw it do so.
    expect(rogue.paths()).toEqual(['/.well-known/openid-configuration', '/jwks']);
  });
});

describe('createTrustedHeaderSigner', () => {
  let signer: TrustedHeaderSigner;
  const capabilities = { tools: { 'team-a/weather': ['forecast'] }, prompts: {} };

  beforeAll(async () => {
    signer = await createTrustedHeaderSigner();
  });

  // As the anchor checks the header: ES256 only, with the PEM public key.
  const verify = async (token: string) =>
    jwtVerify(token, await importSPKI(signer.publicKeyPem, 'ES256'), { algorithms: ['ES256'] });

  it('signs an ES256 header whose allowed-capabilities claim is a JSON string', async () => {
    expect(signer.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const { payload, protectedHeader } = await verify(await signer.sign(capabilities, { claims: { sub: 'alice' } }));
    expect(protectedHeader.alg).toBe('ES256');
    expect(typeof payload['allowed-capabilities']).toBe('string');
    expect(JSON.parse(payload['allowed-capabilities'] as string)).toEqual(capabilities);
    expect(payload.sub).toBe('alice');
    expect(payload.exp! - payload.iat!).toBe(300);
  });

  it('makes header values that fail verification for their one reason', async () => {
    expect(await failure(verify(await signer.expired(capabilities)))).toBe('ERR_JWT_EXPIRED (exp)');
    expect(await failure(verify(await signer.foreignKey(capabilities)))).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    expect(await failure(verify(signer.unsigned(capabilities)))).toBe('ERR_JOSE_ALG_NOT_ALLOWED');

    const wrongCurve = await signer.wrongCurve(capabilities);
    expect(decodeProtectedHeader(wrongCurve).alg).toBe('ES384');
    expect(await failure(verify(wrongCurve))).toBe('ERR_JOSE_ALG_NOT_ALLOWED');

    const objectClaim = await verify(await signer.claimNotAString(capabilities));
    expect(objectClaim.payload['allowed-capabilities']).toEqual(capabilities);
  });

  it('publishes its key as a P-256 JWK as well', async () => {
    const set: JSONWebKeySet = { keys: [signer.key.publicJwk] };
    expect(signer.key.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    await jwtVerify(await signer.sign(capabilities), createLocalJWKSet(set));
  });
});
