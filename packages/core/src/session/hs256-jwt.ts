import { decodeJsonSegment, encodeJsonSegment, fromBase64url, toBase64url } from './base64url.ts';
import { createSubtleHmacSha256, type HmacSha256Factory } from './hmac-sha256.ts';

/** The one protected header the gateway signs with: `{"alg":"HS256","typ":"JWT"}`, as jose writes it. */
const HEADER_SEGMENT = encodeJsonSegment({ alg: 'HS256', typ: 'JWT' });
/** Bytes of an HMAC-SHA256 signature. */
const SIGNATURE_BYTES = 32;
const TEXT_ENCODER = new TextEncoder();

/** What a token must assert, besides a valid HS256 signature under the gateway's key. */
export interface JwtExpectations {
  /** The `iss` claim, exactly. */
  readonly issuer: string;
  /** The `aud` claim: this string, or an array that contains it. */
  readonly audience: string;
  /** Claims that must be present besides `iss` and `aud` (e.g. `jti`, `exp`). */
  readonly required: readonly string[];
  /** The current time in seconds since the epoch: `exp` must be after it, `nbf` not after it. */
  readonly now: number;
}

/**
 * Result of verifying a compact JWS: the claims, or why not. `malformed`: not a compact JWS with a
 * JSON header and a JSON object payload (or an unreadable signature); `forged`: another algorithm
 * (`none` included), a header extension, a signature that does not match, or claims that do not
 * meet the expectations; `expired`: a genuine token past its `exp`.
 */
export type JwtVerifyResult =
  { ok: true; claims: Record<string, unknown> } | { ok: false; reason: 'malformed' | 'forged' | 'expired' };

/** Signs and verifies the gateway's own JWTs (HS256, one key). */
export interface Hs256Jwt {
  /** A compact JWS of `claims` (serialized in their key order) under the fixed HS256 header. */
  sign(claims: Record<string, unknown>): Promise<string>;
  verify(token: string, expected: JwtExpectations): Promise<JwtVerifyResult>;
}

/**
 * Creates the HS256 JWT codec for `key`, on the HMAC of `hmac` (created once, here). Tokens are
 * byte-for-byte what jose's `SignJWT` produces for the same header and claims, and tokens jose
 * signs with HS256 verify here. Checks run in jose's order, so the failure reasons are jose's:
 * header, algorithm, signature, then the claims (presence, `iss`, `aud`, `iat`, `nbf`, `exp`).
 * The signature is compared in constant time.
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-7.2
 */
export function createHs256Jwt(key: Uint8Array, hmac: HmacSha256Factory = createSubtleHmacSha256): Hs256Jwt {
  const signer = hmac(key);
  const mac = (signingInput: string) => signer.sign(TEXT_ENCODER.encode(signingInput));
  return {
    async sign(claims) {
      const signingInput = `${HEADER_SEGMENT}.${encodeJsonSegment(claims)}`;
      return `${signingInput}.${toBase64url(await mac(signingInput))}`;
    },
    async verify(token, expected) {
      const parts = token.split('.');
      if (parts.length !== 3) return { ok: false, reason: 'malformed' };
      const [header, payload, signature] = parts as [string, string, string];
      const headerFault = checkHeader(header);
      if (headerFault !== undefined) return { ok: false, reason: headerFault };
      const presented = fromBase64url(signature);
      if (presented === undefined) return { ok: false, reason: 'malformed' };
      if (presented.length !== SIGNATURE_BYTES) return { ok: false, reason: 'forged' };
      if (!equalInConstantTime(presented, await mac(`${header}.${payload}`))) return { ok: false, reason: 'forged' };
      const claims = decodeJsonSegment(payload);
      if (claims === undefined) return { ok: false, reason: 'malformed' };
      const claimsFault = checkClaims(claims, expected);
      return claimsFault === undefined ? { ok: true, claims } : { ok: false, reason: claimsFault };
    },
  };
}

/** Why a protected header is refused, if it is: unreadable or without `alg`, or not plain HS256. */
function checkHeader(segment: string): 'malformed' | 'forged' | undefined {
  if (segment === HEADER_SEGMENT) return undefined;
  const header = decodeJsonSegment(segment);
  if (header === undefined || typeof header['alg'] !== 'string' || header['alg'] === '') return 'malformed';
  // `crit` extensions (RFC 7515 §4.1.11), `b64: false` among them, are nothing this codec signs.
  if (header['alg'] !== 'HS256' || 'crit' in header) return 'forged';
  return undefined;
}

/** Why verified claims fail the expectations, if they do, in jose's order of checks. */
function checkClaims(claims: Record<string, unknown>, expected: JwtExpectations): 'forged' | 'expired' | undefined {
  for (const name of ['iss', 'aud', ...expected.required]) if (!Object.hasOwn(claims, name)) return 'forged';
  if (claims['iss'] !== expected.issuer) return 'forged';
  const { aud, iat, nbf, exp } = claims;
  if (aud !== expected.audience && !(Array.isArray(aud) && aud.includes(expected.audience))) return 'forged';
  if (iat !== undefined && typeof iat !== 'number') return 'forged';
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > expected.now)) return 'forged';
  if (exp !== undefined && typeof exp !== 'number') return 'forged';
  if (typeof exp === 'number' && exp <= expected.now) return 'expired';
  return undefined;
}

/** Whether two MACs are equal, in a time that depends on their length only. */
function equalInConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= (a[i] as number) ^ (b[i] as number);
  return difference === 0;
}
