import type { HmacSha256Factory } from './hmac-sha256.ts';
import { createHs256Jwt } from './hs256-jwt.ts';
import { SESSION_TOKEN_ISSUER, toSigningKey } from './session-token.ts';

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
  /** The host's HMAC-SHA256 (the Node gateway's is on node:crypto); default crypto.subtle, key imported once. */
  readonly hmac?: HmacSha256Factory;
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
  const jwt = createHs256Jwt(toSigningKey(options.key), options.hmac);
  const now = options.now ?? Date.now;
  return {
    issue(host, server) {
      const iat = Math.floor(now() / 1000);
      const claims = { purpose: BACKEND_INIT_PURPOSE, host: host.toLowerCase(), server };
      const registered = { iss: SESSION_TOKEN_ISSUER, aud: BACKEND_INIT_AUDIENCE, jti: crypto.randomUUID(), iat };
      return jwt.sign({ ...claims, ...registered, exp: iat + BACKEND_INIT_TTL_SECONDS });
    },
    async verify(token, host) {
      if (token.length > 4096) return { ok: false, reason: 'malformed' };
      const verified = await jwt.verify(token, {
        issuer: SESSION_TOKEN_ISSUER,
        audience: BACKEND_INIT_AUDIENCE,
        required: ['jti', 'exp', 'iat'],
        now: Math.floor(now() / 1000),
      });
      if (!verified.ok) return verified;
      const { jti, exp, iat, purpose, server } = verified.claims;
      if (purpose !== BACKEND_INIT_PURPOSE || typeof jti !== 'string' || typeof server !== 'string') {
        return { ok: false, reason: 'malformed' };
      }
      // A token minted with a longer life (another issuer's policy) is not one of ours.
      if (typeof exp !== 'number' || typeof iat !== 'number' || exp - iat > BACKEND_INIT_TTL_SECONDS) {
        return { ok: false, reason: 'malformed' };
      }
      const claimed = verified.claims['host'];
      if (typeof claimed !== 'string' || claimed !== host.toLowerCase()) return { ok: false, reason: 'wrong-host' };
      return { ok: true, claims: { jti, host: claimed, server } };
    },
  };
}
