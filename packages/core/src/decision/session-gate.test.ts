import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { NOOP_LOGGER } from '../logger.ts';
import { unverified } from '../identity/authentication.ts';
import { createCallerIdentities, credentialIdentity as callerIdentity } from '../session/caller-identity.ts';
import { createSessionTokens } from '../session/session-token.ts';
import { createMemorySessionStore } from '../store/memory-session-store.ts';
import { fakeServer } from '../catalog/catalog.fixtures.ts';
import { GatewayError } from '../errors.ts';
import { NO_METRICS } from '../telemetry/gateway-metrics.ts';
import { createMeasuredSessionStore } from '../telemetry/measured-store.ts';
import { quotaCheckFor, quotaOwner } from './call-quota.ts';
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

  describe('admitCall', () => {
    /** A memory store whose operations are recorded by name, so that a test can count them. */
    function measured() {
      const operations: string[] = [];
      const store = createMeasuredSessionStore(createMemorySessionStore(), {
        ...NO_METRICS,
        storeOperation: (operation) => operations.push(operation),
      });
      const tokens = createSessionTokens({ key: KEY, ttlSeconds: 60 });
      const gate = createSessionGate({ tokens, store, callers: createCallerIdentities(), logger: NOOP_LOGGER });
      const open = () => tokens.issue({ protocolVersion: '2025-11-25', clientCapabilities: {} });
      return { store, gate, open, operations };
    }
    const server = fakeServer('weather', 'w_', { quotas: [{ requests: 2, windowSeconds: 60, concurrentCalls: 1 }] });
    const check = () => quotaCheckFor(server, 'forecast', quotaOwner(undefined), 30_000)!;

    it('admits the session and counts the call in one store operation, naming the backend session', async () => {
      const { store, gate, open, operations } = measured();
      const { claims } = await open();
      await store.ensureBackendSession(claims.jti, 'weather', 60, async () => 'backend-1');
      operations.length = 0;

      const gated = await gate.admitCall(claims, 'weather', check());

      expect(gated).toMatchObject({ ok: true, claims, backendSessionId: 'backend-1' });
      expect(gated.ok && !(gated.quota instanceof GatewayError)).toBe(true);
      expect(operations).toEqual(['admitSessionCall']);
      expect(await gate.admitCall(claims, 'weather', check())).toMatchObject({
        ok: true,
        quota: { code: 'RATE_LIMITED', data: { reason: 'concurrent' } },
      });
    });

    it('refuses a call on an ended session with SESSION_NOT_FOUND and gives its slot back', async () => {
      const { store, gate, open, operations } = measured();
      const { claims } = await open();
      await store.terminate(claims.jti, 60);
      operations.length = 0;

      const gated = await gate.admitCall(claims, 'weather', check());

      expect(gated.ok ? 'ok' : gated.error.code).toBe('SESSION_NOT_FOUND');
      // The slot goes back in the background.
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(operations).toEqual(['admitSessionCall', 'releaseCall']);
      const live = await open();
      const next = await gate.admitCall(live.claims, 'weather', check());
      expect(next.ok && !(next.quota instanceof GatewayError)).toBe(true);
    });
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
