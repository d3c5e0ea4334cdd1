import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkKeyPair, checkPublicKeyPem, generateTrustedKeyPair } from './trusted-headers-key.ts';

const pem = (key: { export(options: { type: 'spki'; format: 'pem' }): string | Buffer }) =>
  key.export({ type: 'spki', format: 'pem' }).toString();

describe('generateTrustedKeyPair', () => {
  it('writes the public key as PKIX PEM and the private key as SEC 1 PEM, both on P-256', () => {
    const pair = generateTrustedKeyPair();
    expect(pair.publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n$/);
    expect(pair.privatePem).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n[\s\S]+\n-----END EC PRIVATE KEY-----\n$/);
    const key = createPublicKey(pair.publicPem);
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(checkKeyPair(pair.publicPem, pair.privatePem)).toEqual({ ok: true, fingerprint: pair.fingerprint });
  });

  it('makes a new key each time', () => {
    expect(generateTrustedKeyPair().fingerprint).not.toBe(generateTrustedKeyPair().fingerprint);
  });
});

describe('checkPublicKeyPem', () => {
  it('accepts a P-256 public key and gives the same fingerprint for the same key', () => {
    const pair = generateTrustedKeyPair();
    expect(checkPublicKeyPem(pair.publicPem)).toEqual({ ok: true, fingerprint: pair.fingerprint });
    expect(pair.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  });

  it('refuses another curve, another algorithm, a private key and text that is no key', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey;
    expect(checkPublicKeyPem(pem(p384))).toEqual({
      ok: false,
      problem: 'is an EC key on curve secp384r1, not P-256',
    });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    expect(checkPublicKeyPem(pem(rsa))).toEqual({ ok: false, problem: 'is an rsa key, not ECDSA P-256' });
    expect(checkPublicKeyPem(generateTrustedKeyPair().privatePem)).toEqual({
      ok: false,
      problem: 'holds a private key; it must hold only the public key',
    });
    expect(checkPublicKeyPem('hello')).toEqual({
      ok: false,
      problem: 'is not a PEM public key (-----BEGIN PUBLIC KEY-----)',
    });
    expect(checkPublicKeyPem('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n')).toEqual({
      ok: false,
      problem: 'is not a readable PEM public key',
    });
  });
});

describe('checkKeyPair', () => {
  it('refuses halves of two different pairs', () => {
    const one = generateTrustedKeyPair();
    const two = generateTrustedKeyPair();
    expect(checkKeyPair(one.publicPem, two.privatePem)).toEqual({
      ok: false,
      problem: 'the private key does not belong to the public key',
    });
  });

  it('refuses a private key that is not SEC 1 PEM', () => {
    const pair = generateTrustedKeyPair();
    expect(checkKeyPair(pair.publicPem, 'not a key')).toEqual({
      ok: false,
      problem: 'the private key is not -----BEGIN EC PRIVATE KEY----- PEM',
    });
  });
});
