import { describe, expect, it } from 'vitest';
import { encodeJsonSegment } from '../session/base64url.ts';
import { credentialListHtml, parsePastedToken, pasteFormHtml } from './token-paste.ts';

const NOW = 1_800_000_000_000;
const jwt = (claims: Record<string, unknown>) =>
  `${encodeJsonSegment({ alg: 'none' })}.${encodeJsonSegment(claims)}.c2ln`;

describe('parsePastedToken', () => {
  it('sends a bare token as a bearer token and keeps it for the configured time', () => {
    expect(parsePastedToken('abc123', 60, NOW)).toEqual({
      ok: true,
      credential: { authorization: 'Bearer abc123', expiresAt: NOW + 60_000 },
    });
  });

  it('keeps a token that names its scheme verbatim', () => {
    const result = parsePastedToken('  token xyz  ', 60, NOW);
    expect(result).toEqual({ ok: true, credential: { authorization: 'token xyz', expiresAt: NOW + 60_000 } });
  });

  it("ends a JWT's credential at its exp when that comes first", () => {
    const token = jwt({ exp: NOW / 1000 + 30 });
    expect(parsePastedToken(`Bearer ${token}`, 60, NOW)).toEqual({
      ok: true,
      credential: { authorization: `Bearer ${token}`, expiresAt: NOW + 30_000 },
    });
    expect(parsePastedToken(jwt({ exp: NOW / 1000 + 3600 }), 60, NOW)).toMatchObject({
      credential: { expiresAt: NOW + 60_000 },
    });
  });

  it('refuses an expired JWT, an empty, a too long or a malformed token', () => {
    expect(parsePastedToken(jwt({ exp: NOW / 1000 - 1 }), 60, NOW)).toEqual({ ok: false, error: 'token has expired' });
    expect(parsePastedToken('', 60, NOW)).toEqual({ ok: false, error: 'token is required' });
    expect(parsePastedToken('a'.repeat(2049), 60, NOW)).toMatchObject({ ok: false });
    expect(parsePastedToken('Bearer a b', 60, NOW)).toEqual({ ok: false, error: 'token is malformed' });
    expect(parsePastedToken('Bearer a\tb', 60, NOW)).toEqual({ ok: false, error: 'token contains invalid characters' });
  });
});

describe('the pages’ HTML', () => {
  it('escapes what it shows', () => {
    const form = pasteFormHtml('id"><b', '<script>x</script>', 'c');
    expect(form).not.toContain('<script');
    expect(form).not.toContain('id"><b');
    expect(credentialListHtml([{ server: '"><script>', expiresAt: NOW }], 'c')).not.toContain('<script');
  });
});
