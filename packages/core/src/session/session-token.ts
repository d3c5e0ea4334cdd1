import { GatewayError } from '../errors.ts';
import type { HmacSha256Factory } from './hmac-sha256.ts';
import { createHs256Jwt } from './hs256-jwt.ts';

/** Issuer and audience of gateway session tokens (the anchor's values). */
export const SESSION_TOKEN_ISSUER = 'mcp-gateway';
/** @see SESSION_TOKEN_ISSUER */
export const SESSION_TOKEN_AUDIENCE = 'mcp-gateway';
/** Default session lifetime: 24 h, as the anchor's `--session-length` of 1440 minutes. */
export const DEFAULT_SESSION_TTL_SECONDS = 24 * 60 * 60;
/** RFC 7518 §3.2: an HS256 key must be at least as long as the hash output. */
export const MIN_SIGNING_KEY_BYTES = 32;

/** What a gateway session token asserts. */
export interface SessionClaims {
  /** Unique id of the session: the key of its state in the store, and what logs show. */
  readonly jti: string;
  /** Expiry, seconds since the epoch. */
  readonly exp: number;
  /** When the session was opened, seconds since the epoch (absent on claims made by hand). */
  readonly iat?: number;
  /** Protocol version agreed at initialize. */
  readonly protocolVersion: string;
  /** The client's declared capabilities, mirrored to upstreams when backend sessions are created. */
  readonly clientCapabilities: Record<string, unknown>;
  /** Hash binding the session to the caller's bearer identity; undefined for anonymous sessions. */
  readonly caller?: string;
  /** The virtual server chosen at initialize (`X-Mcp-Virtualserver`): the session sees and calls only its items. */
  readonly vs?: string;
}

/** Result of verifying a presented session id. */
export type SessionVerifyResult =
  { ok: true; claims: SessionClaims } | { ok: false; reason: 'malformed' | 'forged' | 'expired' };

/** Options of `createSessionTokens`. */
export interface SessionTokenOptions {
  /** HS256 key (UTF-8 text or bytes), at least 32 bytes. */
  key: string | Uint8Array;
  /** Lifetime of new sessions in seconds; default DEFAULT_SESSION_TTL_SECONDS. */
  ttlSeconds?: number;
  /** Clock in ms (tests); default Date.now. */
  now?: () => number;
  /** Size of the cache of verified tokens (hot path); default 4096. */
  cacheSize?: number;
  /** The host's HMAC-SHA256 (the Node gateway's is on node:crypto); default crypto.subtle, key imported once. */
  hmac?: HmacSha256Factory;
}

/** Issues and verifies signed, storage-free gateway session ids. */
export interface SessionTokens {
  issue(input: Omit<SessionClaims, 'jti' | 'exp'>): Promise<{ token: string; claims: SessionClaims }>;
  verify(token: string): Promise<SessionVerifyResult>;
  readonly ttlSeconds: number;
  /**
   * Seals state the gateway hands a client to echo back (a 2026-07-28 `requestState`): signed
   * with the session key for its own audience (never valid as a session id), expiring after
   * `ttlSeconds`. Any replica holding the key opens it.
   */
  seal(state: Record<string, unknown>, ttlSeconds: number): Promise<string>;
  /** Opens sealed state; undefined when forged, expired or malformed. */
  open(sealed: string): Promise<Record<string, unknown> | undefined>;
}

/** Audience of sealed state (see SessionTokens.seal). */
export const SEALED_STATE_AUDIENCE = 'mcp-gateway/request-state';

/**
 * Creates the session token service: HS256 JWTs with iss, aud, jti, iat and exp, validated
 * without storage so any replica holding the key accepts them. Signed on `options.hmac`, created
 * once here (see createHs256Jwt).
 * @throws GatewayError CONFIG_INVALID when the key is shorter than 32 bytes.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#session-management
 */
export function createSessionTokens(options: SessionTokenOptions): SessionTokens {
  const jwt = createHs256Jwt(toSigningKey(options.key), options.hmac);
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_SESSION_TTL_SECONDS;
  const now = options.now ?? Date.now;
  const cacheSize = options.cacheSize ?? 4096;
  // Verified tokens, so the hot path pays one HMAC per session rather than per request.
  const verified = new Map<string, SessionClaims>();
  const expect = (audience: string, required: readonly string[]) => ({
    issuer: SESSION_TOKEN_ISSUER,
    audience,
    required,
    now: Math.floor(now() / 1000),
  });

  return {
    ttlSeconds,
    seal(state, stateTtlSeconds) {
      const iat = Math.floor(now() / 1000);
      return jwt.sign({
        st: state,
        iss: SESSION_TOKEN_ISSUER,
        aud: SEALED_STATE_AUDIENCE,
        iat,
        exp: iat + stateTtlSeconds,
      });
    },
    async open(sealed) {
      if (sealed.length > 16_384) return undefined;
      const opened = await jwt.verify(sealed, expect(SEALED_STATE_AUDIENCE, ['exp']));
      const state = opened.ok ? opened.claims['st'] : undefined;
      return typeof state === 'object' && state !== null ? (state as Record<string, unknown>) : undefined;
    },
    async issue(input) {
      const iat = Math.floor(now() / 1000);
      const claims: SessionClaims = { ...input, jti: crypto.randomUUID(), iat, exp: iat + ttlSeconds };
      const payload: Record<string, unknown> = { pv: input.protocolVersion, cap: input.clientCapabilities };
      if (input.caller !== undefined) payload['cb'] = input.caller;
      if (input.vs !== undefined) payload['vs'] = input.vs;
      // Claims in the order jose's SignJWT wrote them, so tokens stay byte for byte what they were.
      const registered = { iss: SESSION_TOKEN_ISSUER, aud: SESSION_TOKEN_AUDIENCE, jti: claims.jti, iat };
      const token = await jwt.sign({ ...payload, ...registered, exp: claims.exp });
      return { token, claims };
    },
    async verify(token) {
      const cached = verified.get(token);
      if (cached !== undefined) {
        if (cached.exp * 1000 > now()) return { ok: true, claims: cached };
        verified.delete(token);
        return { ok: false, reason: 'expired' };
      }
      if (token.length > 8192) return { ok: false, reason: 'malformed' };
      const result = await jwt.verify(token, expect(SESSION_TOKEN_AUDIENCE, ['jti', 'exp']));
      if (!result.ok) return result;
      const claims = toClaims(result.claims);
      if (claims === undefined) return { ok: false, reason: 'malformed' };
      if (verified.size >= cacheSize) verified.delete(verified.keys().next().value as string);
      verified.set(token, claims);
      return { ok: true, claims };
    },
  };
}

/**
 * The HS256 key as bytes (text is UTF-8), refused when shorter than 32 bytes.
 * @throws GatewayError CONFIG_INVALID naming GATEWAY_SIGNING_KEY and the fix.
 */
export function toSigningKey(key: string | Uint8Array): Uint8Array {
  const bytes = typeof key === 'string' ? new TextEncoder().encode(key) : key;
  assertSigningKey(bytes);
  return bytes;
}

/**
 * Refuses signing keys shorter than 32 bytes.
 * @throws GatewayError CONFIG_INVALID naming GATEWAY_SIGNING_KEY and the fix.
 */
export function assertSigningKey(key: Uint8Array): void {
  if (key.byteLength < MIN_SIGNING_KEY_BYTES) {
    throw new GatewayError(
      'CONFIG_INVALID',
      `GATEWAY_SIGNING_KEY is ${key.byteLength} bytes; it must be at least ${MIN_SIGNING_KEY_BYTES} bytes (generate one with: openssl rand -hex 32)`,
    );
  }
}

function toClaims(payload: Record<string, unknown>): SessionClaims | undefined {
  const { jti, exp, iat, pv, cap, cb, vs } = payload;
  if (typeof jti !== 'string' || typeof exp !== 'number' || typeof pv !== 'string') return undefined;
  const capabilities = typeof cap === 'object' && cap !== null ? (cap as Record<string, unknown>) : {};
  const claims: SessionClaims = {
    jti,
    exp,
    ...(typeof iat === 'number' ? { iat } : {}),
    protocolVersion: pv,
    clientCapabilities: capabilities,
    ...(typeof cb === 'string' ? { caller: cb } : {}),
    ...(typeof vs === 'string' ? { vs } : {}),
  };
  return claims;
}
