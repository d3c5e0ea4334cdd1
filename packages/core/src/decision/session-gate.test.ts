import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { NOOP_LOGGER } from '../logger.ts';
import { unverified } from '../identity/authentication.ts';
import { createCallerIdentities, credentialIdentity as callerIdentity } from '../session/caller-identity.ts';
import { createSessionTokens } from '../session/session-token.ts';
import { createMemorySessionStore } from '../store/memory-session-store.ts';
import { createSessionGate, type SessionCheck } from './session-gate.ts';

const KEY = 'session-gate-test-key-0123456789abcdef';
const IDP_KEY = new TextEncoder().encode('an-identity-provider-key-0123456789');

function setup(now = () => Date.now()) {
  const tokens = createSessionTokens({ key: KEY, ttlSeconds: 60, now });
  const store = createMemorySessionStore();
  const gate = createSessionGate({ tokens, store, callers: createCallerIdentities(), logger: NOOP_LOGGER });
  const open = async (authorization?: string) => {
    const caller = await callerIdentity(authorization);
    return tokens.issue({
      protocolVersion: '2025-11-25',
      clientCapabilities: {},
      ...(caller === undefined ? {} : { caller }),
    });
  };
  return { tokens, store, gate, open };
}

async function bearerJwt(claims: { iss: string; sub: string }, exp = 4_000_000_000): Promise<string> {
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(claims.iss)
    .setSubject(claims.sub)
    .setExpirationTime(exp)
    .sign(IDP_KEY);
  return `Bearer ${token}`;
}

const codeOf = (check: SessionCheck) => (check.ok ? 'ok' : check.error.code);

describe('createSessionGate', () => {
  it('admits a session presented with the credential that opened it', async () => {
    const { gate, open } = setup();
    const { token, claims } = await open('Bearer victim');

    const checked = await gate.check({ sessionId: token, auth: unverified('Bearer victim') });

    expect(checked).toEqual({ ok: true, claims });
    expect(await gate.admit(claims)).toEqual({ ok: true, claims });
  });

  it('asks for a session id when none is presented', async () => {
    const { gate } = setup();

    for (const sessionId of [null, undefined, '']) {
      const checked = await gate.check({ sessionId, auth: unverified(null) });
      expect(codeOf(checked)).toBe('SESSION_REQUIRED');
      expect(checked.ok ? 0 : checked.error.status).toBe(400);
    }
  });

  it('refuses the session presented with another credential, with none, or with another scheme', async () => {
    const { gate, open } = setup();
    const { token } = await open('Bearer VICTIM');

    for (const authorization of ['Bearer ATTACKER', null, 'Basic dXNlcjpwdw==', 'bearer VICTIM ']) {
      const checked = await gate.check({ sessionId: token, auth: unverified(authorization) });
      expect(codeOf(checked)).toBe('SESSION_NOT_FOUND');
      expect(checked.ok ? 0 : checked.error.status).toBe(404);
    }
  });

  it("refuses an unsigned or foreign-signed JWT carrying the opener's issuer and subject", async () => {
    const { gate, open } = setup();
    const victim = await bearerJwt({ iss: 'https://idp', sub: 'alice' });
    const { token } = await open(victim);
    const unsigned = `Bearer ${new UnsecuredJWT({}).setIssuer('https://idp').setSubject('alice').setExpirationTime(4_000_000_000).encode()}`;
    const refreshed = await bearerJwt({ iss: 'https://idp', sub: 'alice' }, 4_000_000_001);

    expect(codeOf(await gate.check({ sessionId: token, auth: unverified(victim) }))).toBe('ok');
    expect(codeOf(await gate.check({ sessionId: token, auth: unverified(unsigned) }))).toBe('SESSION_NOT_FOUND');
    expect(codeOf(await gate.check({ sessionId: token, auth: unverified(refreshed) }))).toBe('SESSION_NOT_FOUND');
  });

  it('refuses a session opened without a credential when one is presented', async () => {
    const { gate, open } = setup();
    const { token } = await open();

    expect(codeOf(await gate.check({ sessionId: token, auth: unverified(null) }))).toBe('ok');
    expect(codeOf(await gate.check({ sessionId: token, auth: unverified('Bearer x') }))).toBe('SESSION_NOT_FOUND');
  });

  it('refuses forged, malformed and foreign-key session ids', async () => {
    const { gate } = setup();
    const other = createSessionTokens({ key: 'another-gateway-key-0123456789abcdef' });
    const foreign = (await other.issue({ protocolVersion: '2025-11-25', clientCapabilities: {} })).token;
    const unsigned = new UnsecuredJWT({ pv: '2025-11-25' })
      .setIssuer('mcp-gateway')
      .setAudience('mcp-gateway')
      .setJti('x')
      .setExpirationTime(4_000_000_000)
      .encode();

    for (const sessionId of [foreign, unsigned, foreign.slice(0, -3), 'x'.repeat(10_000), 'a.b.c']) {
      expect(codeOf(await gate.check({ sessionId, auth: unverified(null) }))).toBe('SESSION_NOT_FOUND');
    }
  });

  it('says an expired session expired', async () => {
    let now = Date.now();
    const { gate, open } = setup(() => now);
    const { token } = await open();
    now += 61_000;

    const checked = await gate.check({ sessionId: token, auth: unverified(null) });

    expect(codeOf(checked)).toBe('SESSION_EXPIRED');
    expect(checked.ok ? 0 : checked.error.status).toBe(404);
  });

  it('refuses an ended session and names the backend session held on a server', async () => {
    const { gate, store, open } = setup();
    const { claims } = await open();
    await store.ensureBackendSession(claims.jti, 'weather', 60, async () => 'backend-1');

    expect(await gate.admit(claims, 'weather')).toEqual({ ok: true, claims, backendSessionId: 'backend-1' });
    await store.terminate(claims.jti, 60);
    const admitted = await gate.admit(claims, 'weather');

    expect(admitted.ok ? 'ok' : admitted.error.code).toBe('SESSION_NOT_FOUND');
  });

  it("keeps a verified caller's session across a refreshed token and refuses another subject", async () => {
    const { tokens, gate } = setup();
    const callers = createCallerIdentities();
    const verified = (subject: string, exp: number) =>
      ({
        kind: 'verified',
        identity: { issuer: 'https://idp', subject, clientId: '', scopes: [], claims: {}, expiresAt: exp },
      }) as const;
    const caller = await callers.identify(verified('alice', 1_900_000_000));
    const { token } = await tokens.issue({
      protocolVersion: '2025-11-25',
      clientCapabilities: {},
      ...(caller === undefined ? {} : { caller }),
    });

    expect(codeOf(await gate.check({ sessionId: token, auth: verified('alice', 1_900_003_600) }))).toBe('ok');
    expect(codeOf(await gate.check({ sessionId: token, auth: verified('bob', 1_900_000_000) }))).toBe(
      'SESSION_NOT_FOUND',
    );
    expect(codeOf(await gate.check({ sessionId: token, auth: unverified(null) }))).toBe('SESSION_NOT_FOUND');
  });
});
