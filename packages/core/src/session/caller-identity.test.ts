import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { callerIdentity } from './caller-identity.ts';

const SIGNING_KEY = new TextEncoder().encode('x'.repeat(32));

/** A bearer JWT; callerIdentity does not check signatures, so any key will do. */
async function jwt(claims: { iss?: string; sub?: string; exp?: number }): Promise<string> {
  const builder = new SignJWT({}).setProtectedHeader({ alg: 'HS256' });
  if (claims.iss !== undefined) builder.setIssuer(claims.iss);
  if (claims.sub !== undefined) builder.setSubject(claims.sub);
  if (claims.exp !== undefined) builder.setExpirationTime(claims.exp);
  return builder.sign(SIGNING_KEY);
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

  it('is the same for two JWTs of one issuer and subject with different expiries', async () => {
    const first = await jwt({ iss: 'https://idp', sub: 'alice', exp: 1_800_000_000 });
    const refreshed = await jwt({ iss: 'https://idp', sub: 'alice', exp: 1_800_003_600 });

    expect(first).not.toBe(refreshed);
    expect(await callerIdentity(bearer(refreshed))).toBe(await callerIdentity(bearer(first)));
  });

  it('differs for another subject of the same issuer', async () => {
    const alice = await callerIdentity(bearer(await jwt({ iss: 'https://idp', sub: 'alice' })));
    const bob = await callerIdentity(bearer(await jwt({ iss: 'https://idp', sub: 'bob' })));

    expect(bob).not.toBe(alice);
  });

  it('differs for the same subject at another issuer', async () => {
    const here = await callerIdentity(bearer(await jwt({ iss: 'https://idp-a', sub: 'alice' })));
    const there = await callerIdentity(bearer(await jwt({ iss: 'https://idp-b', sub: 'alice' })));

    expect(there).not.toBe(here);
  });

  it('differs for issuer and subject pairs that only differ in where a separator falls', async () => {
    const first = await callerIdentity(bearer(await jwt({ iss: 'https://idp|team', sub: 'alice' })));
    const second = await callerIdentity(bearer(await jwt({ iss: 'https://idp', sub: 'team|alice' })));

    expect(second).not.toBe(first);
  });

  it('hashes an opaque bearer token as a whole', async () => {
    const identity = await callerIdentity('Bearer opaque-token-123');

    expect(identity).toMatch(/^[0-9a-f]{32}$/);
    expect(await callerIdentity('Bearer opaque-token-123')).toBe(identity);
    expect(await callerIdentity('Bearer opaque-token-124')).not.toBe(identity);
  });

  it('reads the Bearer scheme case-insensitively', async () => {
    expect(await callerIdentity('bearer opaque-token-123')).toBe(await callerIdentity('Bearer opaque-token-123'));
  });

  it('hashes a JWT without a subject as an opaque token', async () => {
    const first = await jwt({ iss: 'https://idp', exp: 1_800_000_000 });
    const second = await jwt({ iss: 'https://idp', exp: 1_800_003_600 });

    expect(await callerIdentity(bearer(second))).not.toBe(await callerIdentity(bearer(first)));
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
