import { exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { NOOP_LOGGER } from '../logger.ts';
import {
  checkTrustedHeaderKey,
  createTrustedHeaderVerifier,
  parseCapabilities,
  type TrustedHeaderVerifier,
} from './trusted-header.ts';

const CAPABILITIES = JSON.stringify({ tools: { 'team/weather': ['forecast'] }, prompts: {} });

let signingKey: CryptoKey;
let otherKey: CryptoKey;
let p384Key: CryptoKey;
let publicKeyPem: string;
let verifier: TrustedHeaderVerifier;

const sign = (claims: Record<string, unknown>, key = signingKey, alg = 'ES256', exp: number | string = '5m') =>
  new SignJWT(claims).setProtectedHeader({ alg }).setIssuedAt().setExpirationTime(exp).sign(key);

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  signingKey = pair.privateKey;
  publicKeyPem = await exportSPKI(pair.publicKey);
  otherKey = (await generateKeyPair('ES256')).privateKey;
  p384Key = (await generateKeyPair('ES384')).privateKey;
  verifier = createTrustedHeaderVerifier({ publicKeyPem, logger: NOOP_LOGGER });
});

describe('createTrustedHeaderVerifier', () => {
  it('reads the capabilities of a header signed with the key', async () => {
    const outcome = await verifier.verify(await sign({ 'allowed-capabilities': CAPABILITIES }));
    expect(outcome.kind).toBe('valid');
    if (outcome.kind !== 'valid') return;
    expect([...(outcome.capabilities.tools?.get('team/weather') ?? [])]).toEqual(['forecast']);
    expect(outcome.capabilities.prompts?.size).toBe(0);
    expect(outcome.capabilities.resources).toBeUndefined();
  });

  it('is absent without a header', async () => {
    expect(await verifier.verify(null)).toEqual({ kind: 'absent' });
  });

  it.each([
    ['signed by another key', () => sign({ 'allowed-capabilities': CAPABILITIES }, otherKey)],
    ['signed with P-384 (ES384)', () => sign({ 'allowed-capabilities': CAPABILITIES }, p384Key, 'ES384')],
    ['unsigned', async () => new UnsecuredJWT({ 'allowed-capabilities': CAPABILITIES }).encode()],
    [
      'expired',
      () => sign({ 'allowed-capabilities': CAPABILITIES }, signingKey, 'ES256', Math.floor(Date.now() / 1000) - 120),
    ],
    ['without the claim', () => sign({})],
    ['with the claim as an object', () => sign({ 'allowed-capabilities': { tools: {} } })],
    ['with a claim that is not JSON', () => sign({ 'allowed-capabilities': '{tools' })],
    ['garbage', async () => 'not-a-jwt'],
  ])('is not to be trusted when %s', async (_name, make) => {
    expect((await verifier.verify(await make())).kind).toBe('invalid');
  });

  it('uses the last of several values (the policy layer appends its own)', async () => {
    const forged = await sign(
      { 'allowed-capabilities': JSON.stringify({ tools: { 'team/weather': ['everything'] } }) },
      otherKey,
    );
    const genuine = await sign({ 'allowed-capabilities': CAPABILITIES });
    expect((await verifier.verify(`${forged}, ${genuine}`)).kind).toBe('valid');
    expect((await verifier.verify(`${genuine}, ${forged}`)).kind).toBe('invalid');
  });

  it('trusts nothing when its key is not a P-256 public key', async () => {
    const broken = createTrustedHeaderVerifier({
      publicKeyPem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----',
      logger: NOOP_LOGGER,
    });
    expect((await broken.verify(await sign({ 'allowed-capabilities': CAPABILITIES }))).kind).toBe('invalid');
  });
});

describe('checkTrustedHeaderKey', () => {
  it('accepts a P-256 public key and names what is wrong with anything else', async () => {
    expect(checkTrustedHeaderKey(publicKeyPem)).toBeUndefined();
    const p384 = await exportSPKI((await generateKeyPair('ES384', { extractable: true })).publicKey);
    expect(checkTrustedHeaderKey(p384)).toMatch(/P-256/);
    const rsa = await exportSPKI((await generateKeyPair('RS256', { extractable: true })).publicKey);
    expect(checkTrustedHeaderKey(rsa)).toMatch(/P-256/);
    expect(checkTrustedHeaderKey('not a key')).toMatch(/PEM public key/);
  });
});

describe('parseCapabilities', () => {
  it('refuses shapes other than kind → server → list of names', () => {
    expect(parseCapabilities('[]')).toBeUndefined();
    expect(parseCapabilities('{"tools":[]}')).toBeUndefined();
    expect(parseCapabilities('{"tools":{"s":"forecast"}}')).toBeUndefined();
    expect(parseCapabilities('{"tools":{"s":[1]}}')).toBeUndefined();
    expect(parseCapabilities('{"other":1}')).toEqual({});
  });
});
