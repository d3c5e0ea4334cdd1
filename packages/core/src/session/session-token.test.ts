import { base64url, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.ts';
import {
  createSessionTokens,
  SESSION_TOKEN_AUDIENCE,
  SESSION_TOKEN_ISSUER,
  type SessionTokenOptions,
} from './session-token.ts';

const KEY = 'k'.repeat(32);
const OTHER_KEY = 'o'.repeat(32);
const T0 = Date.UTC(2026, 0, 1);

const INPUT = {
  protocolVersion: '2025-06-18',
  clientCapabilities: { elicitation: {}, roots: { listChanged: true } },
  caller: '0123456789abcdef0123456789abcdef',
};

function tokens(options: Partial<SessionTokenOptions> = {}) {
  return createSessionTokens({ key: KEY, now: () => T0, ...options });
}

/** Signs claims of our own choosing with jose, defaulting to what a gateway token carries. */
async function signWith(
  claims: { iss?: string; aud?: string; alg?: string; key?: string },
  exp = Math.floor(T0 / 1000) + 60,
): Promise<string> {
  const jwt = new SignJWT({ pv: '2025-06-18', cap: {} })
    .setProtectedHeader({ alg: claims.alg ?? 'HS256', typ: 'JWT' })
    .setJti(crypto.randomUUID())
    .setIssuedAt(Math.floor(T0 / 1000))
    .setExpirationTime(exp);
  if (claims.iss !== undefined) jwt.setIssuer(claims.iss);
  if (claims.aud !== undefined) jwt.setAudience(claims.aud);
  return jwt.sign(new TextEncoder().encode(claims.key ?? KEY));
}

function part(token: string, index: number): string {
  return token.split('.')[index] as string;
}

describe('createSessionTokens', () => {
  it('issues a token whose verification returns the protocol version, capabilities and caller', async () => {
    const service = tokens();
    const { token, claims } = await service.issue(INPUT);

    const verified = await service.verify(token);

    expect(verified).toEqual({ ok: true, claims });
    expect(claims).toMatchObject(INPUT);
    expect(claims.exp).toBe(Math.floor(T0 / 1000) + service.ttlSeconds);
  });

  it('verifies an anonymous session without a caller', async () => {
    const service = tokens();
    const { token } = await service.issue({ protocolVersion: '2025-03-26', clientCapabilities: {} });

    const verified = await service.verify(token);

    expect(verified.ok).toBe(true);
    if (verified.ok) expect(verified.claims).not.toHaveProperty('caller');
  });

  it('accepts a token issued by another instance holding the same key', async () => {
    const { token } = await tokens().issue(INPUT);

    expect((await tokens().verify(token)).ok).toBe(true);
  });

  it('reports a token signed with another key as forged', async () => {
    const { token } = await tokens({ key: OTHER_KEY }).issue(INPUT);

    expect(await tokens().verify(token)).toEqual({ ok: false, reason: 'forged' });
  });

  it('reports a token whose payload was altered as forged', async () => {
    const service = tokens();
    const { token } = await service.issue(INPUT);
    const payload = JSON.parse(new TextDecoder().decode(base64url.decode(part(token, 1)))) as Record<string, unknown>;
    const altered = base64url.encode(JSON.stringify({ ...payload, cb: 'someone-else' }));

    const verified = await service.verify(`${part(token, 0)}.${altered}.${part(token, 2)}`);

    expect(verified).toEqual({ ok: false, reason: 'forged' });
  });

  it.each([
    ['garbage', 'not a token'],
    ['two parts', 'abc.def'],
    ['four parts', 'a.b.c.d'],
    ['three undecodable parts', '!!.??.**'],
    ['an empty string', ''],
  ])('reports %s as malformed', async (_label, token) => {
    expect(await tokens().verify(token)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('reports a token past its expiry as expired', async () => {
    let now = T0;
    const issuer = tokens({ ttlSeconds: 60 });
    const { token } = await issuer.issue(INPUT);
    const verifier = tokens({ now: () => now });

    now = T0 + 60_000;

    expect(await verifier.verify(token)).toEqual({ ok: false, reason: 'expired' });
  });

  it('reports a token as expired once its expiry passes even after it was verified and cached', async () => {
    let now = T0;
    const service = tokens({ ttlSeconds: 60, now: () => now });
    const { token } = await service.issue(INPUT);
    expect((await service.verify(token)).ok).toBe(true);

    now = T0 + 59_999;
    expect((await service.verify(token)).ok).toBe(true);
    now = T0 + 60_000;
    expect(await service.verify(token)).toEqual({ ok: false, reason: 'expired' });
    expect(await service.verify(token)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses an unsigned token with alg "none"', async () => {
    const { token } = await tokens().issue(INPUT);
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));

    const verified = await tokens().verify(`${header}.${part(token, 1)}.`);

    expect(verified).toEqual({ ok: false, reason: 'forged' });
  });

  it('refuses a token signed with HS512 under the right key', async () => {
    const token = await signWith({ iss: SESSION_TOKEN_ISSUER, aud: SESSION_TOKEN_AUDIENCE, alg: 'HS512' });

    expect(await tokens().verify(token)).toEqual({ ok: false, reason: 'forged' });
  });

  it('accepts a token signed by hand with the gateway issuer, audience and key', async () => {
    const token = await signWith({ iss: SESSION_TOKEN_ISSUER, aud: SESSION_TOKEN_AUDIENCE });

    expect((await tokens().verify(token)).ok).toBe(true);
  });

  it.each([
    ['another issuer', { iss: 'someone-else', aud: SESSION_TOKEN_AUDIENCE }],
    ['another audience', { iss: SESSION_TOKEN_ISSUER, aud: 'someone-else' }],
    ['no issuer', { aud: SESSION_TOKEN_AUDIENCE }],
    ['no audience', { iss: SESSION_TOKEN_ISSUER }],
  ])('refuses a token with %s', async (_label, claims) => {
    const token = await signWith(claims);

    expect(await tokens().verify(token)).toEqual({ ok: false, reason: 'forged' });
  });

  it('gives every session its own jti', async () => {
    const service = tokens();
    const issued = await Promise.all(Array.from({ length: 20 }, () => service.issue(INPUT)));

    expect(new Set(issued.map(({ claims }) => claims.jti)).size).toBe(20);
    expect(new Set(issued.map(({ token }) => token)).size).toBe(20);
  });

  it.each([
    ['text', 'k'.repeat(31)],
    ['bytes', new Uint8Array(31)],
  ])('throws CONFIG_INVALID naming GATEWAY_SIGNING_KEY for a 31-byte key given as %s', (_label, key) => {
    let thrown: unknown;
    try {
      createSessionTokens({ key });
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(GatewayError);
    expect(thrown).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((thrown as GatewayError).message).toContain('GATEWAY_SIGNING_KEY');
  });

  it('accepts a key of exactly 32 bytes', () => {
    expect(() => createSessionTokens({ key: new Uint8Array(32) })).not.toThrow();
  });
});
