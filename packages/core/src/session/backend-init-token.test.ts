import { SignJWT, decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.ts';
import { BACKEND_INIT_AUDIENCE, BACKEND_INIT_TTL_SECONDS, createBackendInitTokens } from './backend-init-token.ts';
import { createSessionTokens } from './session-token.ts';

const KEY = 'k'.repeat(32);
const T0 = Date.UTC(2026, 0, 1);
const HOST = 'server1.mcp.local';

function tokensAt(ms: number) {
  return createBackendInitTokens({ key: KEY, now: () => ms });
}

async function sign(claims: Record<string, unknown>, key = KEY, life = BACKEND_INIT_TTL_SECONDS): Promise<string> {
  const iat = Math.floor(T0 / 1000);
  return new SignJWT({ purpose: 'backend-init', host: HOST, server: 'server1', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('mcp-gateway')
    .setAudience(BACKEND_INIT_AUDIENCE)
    .setJti('j1')
    .setIssuedAt(iat)
    .setExpirationTime(iat + life)
    .sign(new TextEncoder().encode(key));
}

describe('backend-init tokens', () => {
  it('issue the anchor claims bound to the host, valid for 30 s', async () => {
    const token = await tokensAt(T0).issue('Server1.MCP.local', 'server1');
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      iss: 'mcp-gateway',
      aud: 'mcp-router',
      purpose: 'backend-init',
      host: HOST,
      server: 'server1',
    });
    expect(typeof claims.jti).toBe('string');
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(30);
    expect(await tokensAt(T0 + 29_000).verify(token, HOST)).toMatchObject({
      ok: true,
      claims: { host: HOST, server: 'server1' },
    });
  });

  it('refuse a token past its 30 s', async () => {
    const token = await tokensAt(T0).issue(HOST, 'server1');
    expect(await tokensAt(T0 + 31_000).verify(token, HOST)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuse a token presented for another host', async () => {
    const token = await tokensAt(T0).issue('server2.mcp.local', 'server2');
    expect(await tokensAt(T0).verify(token, HOST)).toEqual({ ok: false, reason: 'wrong-host' });
  });

  it('refuse a token signed with another key', async () => {
    const token = await sign({}, 'o'.repeat(32));
    expect(await tokensAt(T0).verify(token, HOST)).toEqual({ ok: false, reason: 'forged' });
  });

  it('refuse a gateway session id and a token for another purpose or of longer life', async () => {
    const session = await createSessionTokens({ key: KEY, now: () => T0 }).issue({
      protocolVersion: '2025-11-25',
      clientCapabilities: {},
    });
    const tokens = tokensAt(T0);
    expect(await tokens.verify(session.token, HOST)).toMatchObject({ ok: false });
    expect(await tokens.verify(await sign({ purpose: 'other' }), HOST)).toEqual({ ok: false, reason: 'malformed' });
    expect(await tokens.verify(await sign({}, KEY, 3600), HOST)).toEqual({ ok: false, reason: 'malformed' });
    expect(await tokens.verify('not-a-token', HOST)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuse a signing key shorter than 32 bytes', () => {
    expect(() => createBackendInitTokens({ key: 'short' })).toThrow(GatewayError);
  });
});
