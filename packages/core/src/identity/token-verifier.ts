import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { OAuthConfig } from '../config/access-schema.ts';
import type { Logger } from '../logger.ts';
import type { AuthOutcome, AuthRefusal, VerifiedIdentity } from './authentication.ts';
import { createIssuerKeys, KeysUnavailable, type IssuerKeys } from './issuer-keys.ts';

/** Longest bearer token the gateway reads: 16 KiB (an identity provider's tokens are a few). */
export const MAX_BEARER_TOKEN_CHARS = 16 * 1024;
/** Signature algorithms accepted from issuers: asymmetric only (never `none`, never HMAC with a public key). */
export const ACCEPTED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
/** Seconds of clock skew tolerated on `exp`, `nbf` and `iat`. */
export const CLOCK_TOLERANCE_SECONDS = 30;

/** Verifies bearer tokens for one `auth.oauth` config (one per config; keys are cached inside). */
export interface TokenVerifier {
  /** The request's `Authorization` header checked: a verified identity, or the refusal to answer. */
  verify(authorization: string | null | undefined): Promise<AuthOutcome>;
  /** The issuer key caches (tests read their fetch counts). */
  readonly issuers: ReadonlyMap<string, IssuerKeys>;
}

export interface TokenVerifierOptions {
  /** The config with its audience resolved (the host fills in OAUTH_RESOURCE). */
  readonly oauth: OAuthConfig & { readonly audience: string };
  readonly fetch: typeof fetch;
  readonly logger: Logger;
  /** Verified tokens remembered, so a token's signature is checked once per process; default 4096. */
  readonly cacheSize?: number;
  /** Issuer keys carried over from the previous config (same issuer and JWKS location). */
  readonly previous?: TokenVerifier;
  readonly now?: () => number;
}

interface Remembered {
  readonly outcome: AuthOutcome;
  /** Milliseconds since the epoch after which the entry is not used. */
  readonly until: number;
}

/** How long a refused token's refusal is remembered (so a flood of one bad token costs one check): 60 s. */
const REFUSAL_MEMORY_MS = 60_000;

/**
 * The refusal of a token whose key (kid) the issuer's keys in hand do not hold. Never remembered:
 * the issuer may have rotated its keys, and once the kid cooldown has passed the same token is
 * checked against a fresh JWKS (a refusal costs no signature check, and the fetches are bounded
 * by the cooldown).
 */
const UNKNOWN_KEY: AuthRefusal = Object.freeze({
  status: 401,
  error: 'invalid_token',
  description: "the token's key is not among the issuer's keys",
});

/**
 * Creates the verifier: RFC 9068 JWT access tokens, signed by a configured issuer (chosen by the
 * token's `iss` among the configured ones only; no URL a token names is ever fetched), for the
 * configured audience (the resource indicator of RFC 8707), not expired, with every required
 * scope (`scope`, or `scp`). Outcomes are cached by token until it expires.
 * @see https://www.rfc-editor.org/rfc/rfc9068
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const { oauth, logger } = options;
  const now = options.now ?? Date.now;
  const limit = options.cacheSize ?? 4096;
  const issuers = new Map<string, IssuerKeys>();
  for (const config of oauth.issuers) {
    const carried = options.previous?.issuers.get(config.issuer);
    issuers.set(
      config.issuer,
      carried !== undefined && carried.jwksUri === config.jwksUri
        ? carried
        : createIssuerKeys({ config, fetch: options.fetch, logger, now }),
    );
  }
  const remembered = new Map<string, Remembered>();
  const required = oauth.requiredScopes;

  function remember(authorization: string, outcome: AuthOutcome, until: number): AuthOutcome {
    if (remembered.size >= limit) remembered.delete(remembered.keys().next().value as string);
    remembered.set(authorization, { outcome, until });
    return outcome;
  }

  async function check(token: string): Promise<AuthOutcome> {
    let payload: JWTPayload;
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
      payload = decodeJwt(token);
    } catch {
      return refuse('the bearer token is not a JWT');
    }
    if (alg === undefined || !(ACCEPTED_ALGORITHMS as readonly string[]).includes(alg)) {
      return refuse(`the token's algorithm ${JSON.stringify(alg ?? null)} is not accepted`);
    }
    const keys = typeof payload.iss === 'string' ? issuers.get(payload.iss) : undefined;
    if (keys === undefined) return refuse('the token was not issued by a trusted issuer');
    let verified: JWTPayload;
    try {
      verified = (
        await jwtVerify(token, keys.resolve, {
          issuer: keys.issuer,
          audience: oauth.audience,
          algorithms: [...ACCEPTED_ALGORITHMS],
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          requiredClaims: ['exp', 'sub'],
        })
      ).payload;
    } catch (error) {
      return { ok: false, refusal: refusalOf(error) };
    }
    const scopes = scopesOf(verified);
    const missing = required.filter((scope) => !scopes.includes(scope));
    if (missing.length > 0) {
      return {
        ok: false,
        refusal: {
          status: 403,
          error: 'insufficient_scope',
          description: `the token lacks the scope ${missing.join(' ')}`,
          scope: required.join(' '),
        },
      };
    }
    const identity: VerifiedIdentity = {
      issuer: keys.issuer,
      subject: verified.sub as string,
      clientId: stringClaim(verified, 'client_id') ?? stringClaim(verified, 'azp') ?? '',
      scopes,
      claims: verified as Readonly<Record<string, unknown>>,
      expiresAt: verified.exp as number,
    };
    return { ok: true, auth: { kind: 'verified', identity } };
  }

  return {
    issuers,
    async verify(authorization) {
      if (authorization === null || authorization === undefined || authorization.trim() === '') {
        return { ok: false, refusal: { status: 401, description: 'a bearer token is required' } };
      }
      // Remembered by the header as it came: the hot path is one map lookup, no parsing.
      const known = remembered.get(authorization);
      if (known !== undefined && known.until > now()) return known.outcome;
      if (authorization.length > MAX_BEARER_TOKEN_CHARS + 16) return refuse('the bearer token is too large');
      const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization);
      if (match === null) return refuse('the Authorization header must carry a Bearer token');
      const token = match[1] as string;
      if (token.length > MAX_BEARER_TOKEN_CHARS) return refuse('the bearer token is too large');
      const outcome = await check(token);
      if (outcome.ok) {
        const identity = (outcome.auth as { identity: VerifiedIdentity }).identity;
        return remember(authorization, outcome, identity.expiresAt * 1000);
      }
      if (outcome.refusal.status === 503) return outcome;
      logger.debug('bearer token refused', { reason: outcome.refusal.description });
      if (outcome.refusal === UNKNOWN_KEY) return outcome;
      return remember(authorization, outcome, now() + REFUSAL_MEMORY_MS);
    },
  };
}

function refuse(description: string): AuthOutcome {
  return { ok: false, refusal: { status: 401, error: 'invalid_token', description } };
}

/** The refusal for a failed jose verification; never quotes the token. */
function refusalOf(error: unknown): AuthRefusal {
  if (error instanceof KeysUnavailable) {
    return { status: 503, description: `the keys of issuer ${error.issuer} are unavailable; try again later` };
  }
  if (error instanceof errors.JWKSNoMatchingKey) return UNKNOWN_KEY;
  const invalid = (description: string): AuthRefusal => ({ status: 401, error: 'invalid_token', description });
  if (error instanceof errors.JWTExpired) return invalid('the token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'aud':
        return invalid('the token is not meant for this resource (audience)');
      case 'nbf':
        return invalid('the token is not valid yet');
      default:
        return invalid(`the token's ${error.claim} claim is not acceptable (${error.reason})`);
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return invalid("the token's signature does not verify with the issuer's keys");
  }
  if (error instanceof errors.JOSEError) return invalid(`the token is not acceptable (${error.code})`);
  return invalid('the token is not acceptable');
}

/** The token's scopes: `scope` (space-separated, RFC 9068) or `scp` (a list or a string). */
function scopesOf(payload: JWTPayload): string[] {
  const scope = payload['scope'] ?? payload['scp'];
  if (typeof scope === 'string') return scope.split(' ').filter((s) => s !== '');
  if (Array.isArray(scope)) return scope.filter((s): s is string => typeof s === 'string');
  return [];
}

function stringClaim(payload: JWTPayload, name: string): string | undefined {
  const value = payload[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
