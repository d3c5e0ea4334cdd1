import fc from 'fast-check';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fromBase64url, toBase64url } from './base64url.ts';
import { createSubtleHmacSha256, type HmacSha256Factory } from './hmac-sha256.ts';
import { createHs256Jwt, type JwtExpectations, type JwtVerifyResult } from './hs256-jwt.ts';

const KEY = new TextEncoder().encode('k'.repeat(32));
const OTHER_KEY = new TextEncoder().encode('o'.repeat(32));
const NOW = 1_800_000_000;
const EXPECTED: JwtExpectations = {
  issuer: 'mcp-gateway',
  audience: 'mcp-gateway',
  required: ['jti', 'exp'],
  now: NOW,
};
const CLAIMS = {
  pv: '2025-11-25',
  cap: {},
  iss: 'mcp-gateway',
  aud: 'mcp-gateway',
  jti: 'j1',
  iat: NOW,
  exp: NOW + 60,
};

const codec = createHs256Jwt(KEY);
const utf8 = (text: string) => new TextEncoder().encode(text);
const segment = (value: unknown) => toBase64url(utf8(JSON.stringify(value)));
const parts = (token: string) => token.split('.') as [string, string, string];
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** `signingInput` completed with its HMAC under KEY, computed with WebCrypto apart from the codec. */
async function signedBy(signingInput: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', KEY, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, utf8(signingInput)));
  return `${signingInput}.${toBase64url(mac)}`;
}

/** A token jose signs: `claims` as the payload, under `header` and `key`. */
function joseSign(
  claims: Record<string, unknown>,
  header: { alg: string; typ?: string } = { alg: 'HS256', typ: 'JWT' },
  key = KEY,
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader(header).sign(key);
}

/** The verdict of the jose-based verification this codec replaces (the same options and error mapping). */
async function joseVerdict(token: string, expected: JwtExpectations): Promise<JwtVerifyResult> {
  try {
    const { payload } = await jwtVerify(token, KEY, {
      algorithms: ['HS256'],
      issuer: expected.issuer,
      audience: expected.audience,
      requiredClaims: [...expected.required],
      currentDate: new Date(expected.now * 1000),
    });
    return { ok: true, claims: payload as Record<string, unknown> };
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) return { ok: false, reason: 'expired' };
    if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) {
      return { ok: false, reason: 'malformed' };
    }
    return { ok: false, reason: 'forged' };
  }
}

/** Claim sets around the expectations: each registered claim right, wrong, mistyped or absent. */
const claimsArb = fc
  .record(
    {
      iss: fc.constantFrom('mcp-gateway', 'someone-else', 7),
      aud: fc.constantFrom('mcp-gateway', 'mcp-router', ['x', 'mcp-gateway'], ['x'], null),
      jti: fc.constantFrom('j1', 12),
      exp: fc.constantFrom(NOW - 1, NOW, NOW + 1, NOW + 86_400, '2099', null),
      nbf: fc.constantFrom(NOW - 10, NOW, NOW + 10, 'soon'),
      iat: fc.constantFrom(NOW - 10, NOW + 10, 'then'),
      pv: fc.string(),
      cap: fc.jsonValue(),
    },
    { requiredKeys: ['pv'] },
  )
  .map((claims) => claims as Record<string, unknown>);

describe('createHs256Jwt', () => {
  it('signs the same bytes as jose SignJWT for the same claims', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string(), fc.jsonValue()), async (claims) => {
        expect(await codec.sign(claims)).toBe(await joseSign(claims));
      }),
    );
  });

  it('signs tokens that jose.jwtVerify accepts with their claims intact', async () => {
    const token = await codec.sign(CLAIMS);

    const { payload, protectedHeader } = await jwtVerify(token, KEY, {
      algorithms: ['HS256'],
      issuer: 'mcp-gateway',
      audience: 'mcp-gateway',
      currentDate: new Date(NOW * 1000),
    });

    expect(protectedHeader).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(payload).toEqual(CLAIMS);
  });

  it('verifies tokens jose signs with HS256, with or without typ', async () => {
    for (const header of [{ alg: 'HS256', typ: 'JWT' }, { alg: 'HS256' }]) {
      expect(await codec.verify(await joseSign(CLAIMS, header), EXPECTED)).toEqual({ ok: true, claims: CLAIMS });
    }
  });

  it('reaches the verdict the jose-based verification reached, for any claims, algorithm and key', async () => {
    const algArb = fc.constantFrom('HS256', 'HS256', 'HS384', 'HS512');
    await fc.assert(
      fc.asyncProperty(claimsArb, algArb, fc.boolean(), async (claims, alg, rightKey) => {
        const token = await joseSign(claims, { alg }, rightKey ? KEY : OTHER_KEY);

        expect(await codec.verify(token, EXPECTED)).toEqual(await joseVerdict(token, EXPECTED));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses an unsigned token with alg "none" as forged', async () => {
    const [, payload] = parts(await codec.sign(CLAIMS));
    const token = `${segment({ alg: 'none', typ: 'JWT' })}.${payload}.`;

    expect(await codec.verify(token, EXPECTED)).toEqual({ ok: false, reason: 'forged' });
  });

  it.each(['none', 'RS256', 'HS512', 'hs256'])(
    'refuses alg %s as forged even with a valid HMAC under the right key',
    async (alg) => {
      const [, payload] = parts(await codec.sign(CLAIMS));

      const verified = await codec.verify(await signedBy(`${segment({ alg, typ: 'JWT' })}.${payload}`), EXPECTED);

      expect(verified).toEqual({ ok: false, reason: 'forged' });
    },
  );

  it('refuses tokens jose signs under the right key with HS384 or HS512 as forged', async () => {
    for (const alg of ['HS384', 'HS512']) {
      expect(await codec.verify(await joseSign(CLAIMS, { alg }), EXPECTED)).toEqual({ ok: false, reason: 'forged' });
    }
  });

  it('refuses a token signed with another key as forged', async () => {
    const token = await createHs256Jwt(OTHER_KEY).sign(CLAIMS);

    expect(await codec.verify(token, EXPECTED)).toEqual({ ok: false, reason: 'forged' });
  });

  it('refuses a signature one byte short or long as forged', async () => {
    const [header, payload, signature] = parts(await codec.sign(CLAIMS));
    const bytes = fromBase64url(signature) as Uint8Array;

    for (const wrong of [bytes.subarray(0, 31), Uint8Array.from([...bytes, 0])]) {
      const token = `${header}.${payload}.${toBase64url(wrong)}`;
      expect(await codec.verify(token, EXPECTED)).toEqual({ ok: false, reason: 'forged' });
    }
  });

  it('refuses a header with a crit extension as forged', async () => {
    const [, payload] = parts(await codec.sign(CLAIMS));
    const header = segment({ alg: 'HS256', crit: ['b64'], b64: false });

    const verified = await codec.verify(await signedBy(`${header}.${payload}`), EXPECTED);

    expect(verified).toEqual({ ok: false, reason: 'forged' });
  });

  it('never accepts a token with any character of it changed', async () => {
    const token = await codec.sign(CLAIMS);
    const alphabet = `${ALPHABET}.!é`;
    await fc.assert(
      fc.asyncProperty(fc.nat(token.length - 1), fc.constantFrom(...alphabet), async (at, character) => {
        fc.pre(token[at] !== character);
        const tampered = `${token.slice(0, at)}${character}${token.slice(at + 1)}`;

        const verified = await codec.verify(tampered, EXPECTED);

        expect(verified.ok).toBe(false);
        if (!verified.ok) expect(['malformed', 'forged']).toContain(verified.reason);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a genuine payload with altered claims as forged', async () => {
    const [header, , signature] = parts(await codec.sign(CLAIMS));
    const altered = segment({ ...CLAIMS, jti: 'someone-else' });

    expect(await codec.verify(`${header}.${altered}.${signature}`, EXPECTED)).toEqual({ ok: false, reason: 'forged' });
  });

  it.each([
    ['another issuer', { iss: 'someone-else' }],
    ['another audience', { aud: 'mcp-router' }],
    ['an audience list without ours', { aud: ['mcp-router'] }],
    ['no issuer', { iss: undefined }],
    ['no audience', { aud: undefined }],
    ['no jti', { jti: undefined }],
    ['no exp', { exp: undefined }],
    ['a string exp', { exp: String(NOW + 60) }],
    ['an nbf in the future', { nbf: NOW + 1 }],
  ])('refuses a genuine token with %s as forged', async (_label, change) => {
    const token = await codec.sign({ ...CLAIMS, ...change });

    expect(await codec.verify(token, EXPECTED)).toEqual({ ok: false, reason: 'forged' });
  });

  it('accepts an audience list that contains its audience', async () => {
    const token = await codec.sign({ ...CLAIMS, aud: ['mcp-router', 'mcp-gateway'] });

    expect((await codec.verify(token, EXPECTED)).ok).toBe(true);
  });

  it('reports a genuine token as expired from its exp second on', async () => {
    const token = await codec.sign({ ...CLAIMS, exp: NOW });

    expect(await codec.verify(token, { ...EXPECTED, now: NOW - 1 })).toMatchObject({ ok: true });
    expect(await codec.verify(token, EXPECTED)).toEqual({ ok: false, reason: 'expired' });
  });

  it('reports an expired token under another key as forged, not expired', async () => {
    const token = await createHs256Jwt(OTHER_KEY).sign({ ...CLAIMS, exp: NOW - 60 });

    expect(await codec.verify(token, EXPECTED)).toEqual({ ok: false, reason: 'forged' });
  });

  it.each([
    ['an empty string', ''],
    ['two segments', 'abc.def'],
    ['four segments', 'a.b.c.d'],
    ['undecodable segments', '!!.??.**'],
    ['a header that is not JSON', `${toBase64url(utf8('{alg'))}.e30.`],
    ['a header that is a JSON array', `${segment(['HS256'])}.e30.`],
    ['a header without alg', `${segment({ typ: 'JWT' })}.e30.`],
    ['a header of invalid UTF-8', `${toBase64url(Uint8Array.of(0x7b, 0xff, 0x7d))}.e30.`],
  ])('reports %s as malformed', async (_label, token) => {
    expect(await codec.verify(token, EXPECTED)).toEqual({ ok: false, reason: 'malformed' });
  });

  it.each([
    ['a JSON array', [1, 2]],
    ['a JSON number', 42],
    ['JSON null', null],
  ])('reports a genuinely signed payload that is %s as malformed', async (_label, value) => {
    const [header] = parts(await codec.sign({}));

    const verified = await codec.verify(await signedBy(`${header}.${segment(value)}`), EXPECTED);

    expect(verified).toEqual({ ok: false, reason: 'malformed' });
  });

  it('reports a signature in a non-canonical base64url spelling as malformed', async () => {
    const [header, payload, signature] = parts(await codec.sign(CLAIMS));
    // 32 bytes take 43 characters, the last with 2 unused bits: setting one spells the same bytes anew.
    const last = ALPHABET.charAt(ALPHABET.indexOf(signature.at(-1) as string) | 1);
    expect(last).not.toBe(signature.at(-1));
    const token = `${header}.${payload}.${signature.slice(0, -1)}${last}`;

    expect(await codec.verify(token, EXPECTED)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('never throws and never accepts arbitrary input', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.array(fc.string({ unit: 'grapheme-ascii' }), { minLength: 3, maxLength: 3 }).map((p) => p.join('.')),
        ),
        async (input) => {
          expect((await codec.verify(input, EXPECTED)).ok).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('the HMAC port', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('creates its signer once per codec and signs every token through it', async () => {
    let created = 0;
    const signed: string[] = [];
    const counting: HmacSha256Factory = (key) => {
      created += 1;
      const inner = createSubtleHmacSha256(key);
      return {
        sign(data) {
          signed.push(new TextDecoder().decode(data));
          return inner.sign(data);
        },
      };
    };
    const viaPort = createHs256Jwt(KEY, counting);

    const token = await viaPort.sign(CLAIMS);
    const verified = await viaPort.verify(token, EXPECTED);

    expect(created).toBe(1);
    expect(signed).toEqual([token.slice(0, token.lastIndexOf('.')), token.slice(0, token.lastIndexOf('.'))]);
    expect(verified.ok).toBe(true);
    expect(token).toBe(await codec.sign(CLAIMS));
  });

  it('imports the key into crypto.subtle once, not once per signature', async () => {
    const importKey = vi.spyOn(crypto.subtle, 'importKey');
    const fresh = createHs256Jwt(KEY);

    for (let i = 0; i < 5; i++) await fresh.verify(await fresh.sign({ ...CLAIMS, jti: `j${i}` }), EXPECTED);

    expect(importKey).toHaveBeenCalledTimes(1);
  });
});
