import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { SESSION_TOKEN_ISSUER, assertSigningKey } from './session-token.ts';

/**
 * Headers of a hairpin initialize: the router opens a backend session by sending the initialize
 * back through Envoy (the gateway's private host) with the upstream's host name and a signed
 * token; the router that sees it come back checks the token and routes it to that host. The
 * names are the anchor's.
 */
export const BACKEND_INIT_HEADERS = {
  /** The upstream's virtual-host name the initialize is for. */
  host: 'mcp-init-host',
  /** The backend-init token (a JWT), bound to that host. */
  token: 'router-key',
} as const;

/** Audience of backend-init tokens (the anchor's): never accepted as a gateway session id. */
export const BACKEND_INIT_AUDIENCE = 'mcp-router';
/** The `purpose` claim of backend-init tokens. */
export const BACKEND_INIT_PURPOSE = 'backend-init';
/** Lifetime of a backend-init token: 30 s, long enough for one initialize round trip. */
export const BACKEND_INIT_TTL_SECONDS = 30;

/** What a verified backend-init token asserts. */
export interface BackendInitClaims {
  readonly jti: string;
  /** The upstream host name the token is bound to (lower case). */
  readonly host: string;
  /** ServerConfig.name of the upstream (our addition to the anchor's claims). */
  readonly server: string;
}

/** Result of verifying a presented backend-init token against the host it came with. */
export type BackendInitVerifyResult =
  { ok: true; claims: BackendInitClaims } | { ok: false; reason: 'malformed' | 'forged' | 'expired' | 'wrong-host' };

/** Options of {@link createBackendInitTokens}. */
export interface BackendInitTokenOptions {
  /** The gateway's HS256 signing key (GATEWAY_SIGNING_KEY), at least 32 bytes. */
  readonly key: string | Uint8Array;
  /** Clock in ms (tests); default Date.now. */
  readonly now?: () => number;
}

/** Issues and verifies backend-init tokens. */
export interface BackendInitTokens {
  /** A token for one initialize of `server` at `host`, valid {@link BACKEND_INIT_TTL_SECONDS}. */
  issue(host: string, server: string): Promise<string>;
  /** Checks signature, issuer, audience, purpose, expiry and that the token names `host`. */
  verify(token: string, host: string): Promise<BackendInitVerifyResult>;
}

/**
 * Creates the backend-init token service: HS256 JWTs signed with the gateway's key, `iss`
 * mcp-gateway, `aud` mcp-router, `purpose` backend-init, `host`, `jti`, 30 s expiry (the
 * anchor's claims), plus `server`. Any router replica holding the key verifies them.
 * @throws GatewayError CONFIG_INVALID when the key is shorter than 32 bytes.
 */
export function createBackendInitTokens(options: BackendInitTokenOptions): BackendInitTokens {
  const key = typeof options.key === 'string' ? new TextEncoder().encode(options.key) : options.key;
  assertSigningKey(key);
  const now = options.now ?? Date.now;
  return {
    issue(host, server) {
      const iat = Math.floor(now() / 1000);
      return new SignJWT({ purpose: BACKEND_INIT_PURPOSE, host: host.toLowerCase(), server })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer(SESSION_TOKEN_ISSUER)
        .setAudience(BACKEND_INIT_AUDIENCE)
        .setJti(crypto.randomUUID())
        .setIssuedAt(iat)
        .setExpirationTime(iat + BACKEND_INIT_TTL_SECONDS)
        .sign(key);
    },
    async verify(token, host) {
      if (token.length > 4096 || token.split('.').length !== 3) return { ok: false, reason: 'malformed' };
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: SESSION_TOKEN_ISSUER,
          audience: BACKEND_INIT_AUDIENCE,
          requiredClaims: ['jti', 'exp', 'iat'],
          currentDate: new Date(now()),
        }));
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired) return { ok: false, reason: 'expired' };
        if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) {
          return { ok: false, reason: 'malformed' };
        }
        return { ok: false, reason: 'forged' };
      }
      const { jti, exp, iat, purpose, server } = payload;
      if (purpose !== BACKEND_INIT_PURPOSE || typeof jti !== 'string' || typeof server !== 'string') {
        return { ok: false, reason: 'malformed' };
      }
      // A token minted with a longer life (another issuer's policy) is not one of ours.
      if (typeof exp !== 'number' || typeof iat !== 'number' || exp - iat > BACKEND_INIT_TTL_SECONDS) {
        return { ok: false, reason: 'malformed' };
      }
      if (typeof payload['host'] !== 'string' || payload['host'] !== host.toLowerCase()) {
        return { ok: false, reason: 'wrong-host' };
      }
      return { ok: true, claims: { jti, host: payload['host'], server } };
    },
  };
}
