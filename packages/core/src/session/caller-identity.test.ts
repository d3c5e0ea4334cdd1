import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { unverified } from '../identity/authentication.ts';
import { credentialIdentity as callerIdentity, createCallerIdentities } from './caller-identity.ts';

const SIGNING_KEY = new TextEncoder().encode('x'.repeat(32));
const OTHER_KEY = new TextEncoder().encode('y'.repeat(32));

/** A bearer JWT signed with `key`. */
async function jwt(claims: { iss?: string; sub?: string; exp?: number }, key = SIGNING_KEY): Promise<string> {
  const builder = new SignJWT({}).setProtectedHeader({ alg: 'HS256' });
  if (claims.iss !== undefined) builder.setIssuer(claims.iss);
  if (claims.sub !== undefined) builder.setSubject(claims.sub);
  if (claims.exp !== undefined) builder.setExpirationTime(claims.exp);
  return builder.sign(key);
}

const bearer = (token: string) => `Bearer ${token}`;

describe('callerIdentity', () => {
  it.each([null, undefined])('is undefined without an Authorization header (%s)', async (header) => {
    expect(await callerIdentity(header)).toBeUndefined();
  });

  it('is a short hex hash', async () => {
    const identity = await callerIdentity(bearer(await jwt({ iss: 'https://idp', sub: 'alice' })));

    expect(identity).toMatch(/^[0-9a-f]{32}$/);
  });

  it('is the same for the same credential', async () => {
    const token = bearer(await jwt({ iss: 'https://idp', sub: 'alice' }));

    expect(await callerIdentity(token)).toBe(await callerIdentity(token));
  });

  it('differs for two JWTs of one issuer and subject, since their claims were not verified', async () => {
    const first = await jwt({ iss: 'https://idp', sub: 'alice', exp: 1_800_000_000 });
    const refreshed = await jwt({ iss: 'https://idp', sub: 'alice', exp: 1_800_003_600 });

    expect(await callerIdentity(bearer(refreshed))).not.toBe(await callerIdentity(bearer(first)));
  });

  it("differs for an unsigned or foreign-signed JWT carrying another caller's issuer and subject", async () => {
    const victim = await callerIdentity(bearer(await jwt({ iss: 'https://idp', sub: 'alice', exp: 1_800_000_000 })));
    const unsigned = new UnsecuredJWT({}).setIssuer('https://idp').setSubject('alice').setExpirationTime(1_800_000_000);
    const forged = await jwt({ iss: 'https://idp', sub: 'alice', exp: 1_800_000_000 }, OTHER_KEY);

    expect(await callerIdentity(bearer(unsigned.encode()))).not.toBe(victim);
    expect(await callerIdentity(bearer(forged))).not.toBe(victim);
  });

  it('hashes an opaque bearer token as a whole', async () => {
    const identity = await callerIdentity('Bearer opaque-token-123');

    expect(identity).toMatch(/^[0-9a-f]{32}$/);
    expect(await callerIdentity('Bearer opaque-token-123')).toBe(identity);
    expect(await callerIdentity('Bearer opaque-token-124')).not.toBe(identity);
  });

  it('never returns any part of the raw token', async () => {
    const token = await jwt({ iss: 'https://idp', sub: 'alice' });
    const cases = [bearer(token), 'Bearer opaque-token-123', 'Basic xyz'];

    for (const header of cases) {
      const identity = await callerIdentity(header);
      const secret = header.split(' ')[1] as string;
      expect(identity).not.toContain(secret);
      for (const piece of secret.split('.')) expect(identity).not.toContain(piece);
    }
  });

  it('binds a non-bearer Authorization header such as "Basic xyz" to a hash of it', async () => {
    const identity = await callerIdentity('Basic xyz');

    expect(identity).toMatch(/^[0-9a-f]{32}$/);
    expect(await callerIdentity('Basic xyz')).toBe(identity);
    expect(await callerIdentity('Basic abc')).not.toBe(identity);
    expect(await callerIdentity('Bearer xyz')).not.toBe(identity);
  });
});

describe('createCallerIdentities', () => {
  it('gives the identity callerIdentity gives, and undefined without a credential', async () => {
    const identities = createCallerIdentities();

    expect(await identities.identify(unverified('Bearer abc'))).toBe(await callerIdentity('Bearer abc'));
    expect(await identities.identify(unverified('Bearer abc'))).toBe(await callerIdentity('Bearer abc'));
    expect(await identities.identify(unverified(null))).toBeUndefined();
  });

  it('stays right past its size limit', async () => {
    const identities = createCallerIdentities(2);
    const headers = ['Bearer a', 'Bearer b', 'Bearer c', 'Bearer a'];

    for (const header of headers)
      expect(await identities.identify(unverified(header))).toBe(await callerIdentity(header));
  });

  it('binds a verified caller by issuer and subject, so a refreshed token keeps the identity', async () => {
    const identities = createCallerIdentities();
    const identity = (exp: number, subject = 'alice') => ({
      issuer: 'https://idp.example',
      subject,
      clientId: 'app',
      scopes: [],
      claims: { exp },
      expiresAt: exp,
    });
    const first = await identities.identify({ kind: 'verified', identity: identity(1_800_000_000) });
    const refreshed = await identities.identify({ kind: 'verified', identity: identity(1_800_003_600) });
    const other = await identities.identify({ kind: 'verified', identity: identity(1_800_000_000, 'bob') });

    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(refreshed).toBe(first);
    expect(other).not.toBe(first);
    // A verified identity never equals the hash of some credential.
    expect(first).not.toBe(await callerIdentity('https://idp.example\nalice'));
  });
});
