import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { isIssuerUrl, type IssuerConfig } from '../config/access-schema.ts';
import type { Logger } from '../logger.ts';
import { readTextWithin } from '../protocol/bytes.ts';

/** Largest metadata document or JWKS the gateway reads from an issuer: 256 KiB. */
export const MAX_ISSUER_DOCUMENT_BYTES = 256 * 1024;
/** Most keys kept from one JWKS. */
export const MAX_ISSUER_KEYS = 64;

/** The keys of one trusted issuer, fetched from where its configuration or metadata says, never from a token. */
export interface IssuerKeys {
  readonly issuer: string;
  /** The configured JWKS location; undefined when it comes from the issuer's metadata. */
  readonly jwksUri: string | undefined;
  /**
   * The key for a token's protected header (jose's resolver). Fetches the keys on first use; an
   * unknown `kid` fetches them again, at most once per cooldown. Throws {@link KeysUnavailable}
   * when the issuer's keys could never be fetched, jose's JWKSNoMatchingKey when none matches.
   */
  readonly resolve: JWTVerifyGetKey;
  /** How many times the JWKS was fetched (tests and metrics). */
  fetches(): number;
}

/** The issuer's keys could not be fetched and none are cached: verification must fail closed (503). */
export class KeysUnavailable extends Error {
  readonly issuer: string;

  constructor(issuer: string, reason: string) {
    super(`the keys of issuer ${issuer} are unavailable (${reason})`);
    this.name = 'KeysUnavailable';
    this.issuer = issuer;
  }
}

export interface IssuerKeysOptions {
  readonly config: IssuerConfig;
  readonly fetch: typeof fetch;
  readonly logger: Logger;
  /** Per fetch; default 5 s. */
  readonly timeoutMs?: number;
  /** Least time between two fetches caused by an unknown `kid`; default 30 s. */
  readonly cooldownMs?: number;
  /** Age after which the keys are fetched again in the background (the old ones keep serving); default 10 min. */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

/**
 * Creates the key cache of one issuer. The JWKS location is the configured `jwksUri`, or the
 * `jwks_uri` of the issuer's metadata: RFC 8414 (`/.well-known/oauth-authorization-server`,
 * inserted before the issuer's path) and then OpenID Connect Discovery
 * (`<issuer>/.well-known/openid-configuration`); the metadata must name the configured issuer.
 * Keys that were fetched once keep serving while the issuer is down or slow.
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3
 * @see https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig
 */
export function createIssuerKeys(options: IssuerKeysOptions): IssuerKeys {
  const { config, logger } = options;
  const issuer = config.issuer;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const cooldownMs = options.cooldownMs ?? 30_000;
  const maxAgeMs = options.maxAgeMs ?? 600_000;
  const now = options.now ?? Date.now;
  let jwksUri = config.jwksUri;
  let local: JWTVerifyGetKey | undefined;
  let fetchedAt = 0;
  let attemptedAt = Number.NEGATIVE_INFINITY;
  let inflight: Promise<void> | undefined;
  let count = 0;

  async function getText(url: string, what: string): Promise<string> {
    const response = await options.fetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw new Error(`${what} answered HTTP ${response.status}`);
    }
    const text = await readTextWithin(response, MAX_ISSUER_DOCUMENT_BYTES);
    if (text === undefined) throw new Error(`${what} is larger than ${MAX_ISSUER_DOCUMENT_BYTES} bytes`);
    return text;
  }

  async function discoverJwksUri(): Promise<string> {
    const problems: string[] = [];
    for (const url of metadataUrls(issuer)) {
      try {
        const metadata = JSON.parse(await getText(url, 'the metadata')) as Record<string, unknown>;
        if (metadata['issuer'] !== issuer) {
          problems.push(`${url} names another issuer`);
          continue;
        }
        const uri = metadata['jwks_uri'];
        if (typeof uri !== 'string' || !isIssuerUrl(uri)) {
          problems.push(`${url} has no usable jwks_uri`);
          continue;
        }
        return uri;
      } catch (error) {
        problems.push(`${url}: ${describe(error)}`);
      }
    }
    throw new Error(problems.join('; '));
  }

  async function load(): Promise<void> {
    attemptedAt = now();
    count++;
    const uri = (jwksUri ??= await discoverJwksUri());
    const parsed = JSON.parse(await getText(uri, 'the JWKS')) as unknown;
    const keys = usableKeys(parsed);
    if (keys.length === 0) throw new Error('the JWKS holds no signature key');
    local = createLocalJWKSet({ keys } as JSONWebKeySet);
    fetchedAt = now();
    logger.debug('issuer keys fetched', { issuer, keys: keys.length });
  }

  function refresh(): Promise<void> {
    inflight ??= load().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  return {
    issuer,
    jwksUri: config.jwksUri,
    fetches: () => count,
    async resolve(header, token) {
      if (local === undefined) {
        try {
          await refresh();
        } catch (error) {
          logger.warn('could not fetch the keys of an issuer', { issuer, error: describe(error) });
          throw new KeysUnavailable(issuer, describe(error));
        }
      } else if (now() - fetchedAt > maxAgeMs && inflight === undefined && now() - attemptedAt > cooldownMs) {
        // Stale: fetched again in the background; the keys in hand keep serving meanwhile.
        refresh().catch((error: unknown) => {
          logger.warn('could not refresh the keys of an issuer; the cached keys stay in use', {
            issuer,
            error: describe(error),
          });
        });
      }
      const keys = local as JWTVerifyGetKey;
      try {
        return await keys(header, token);
      } catch (error) {
        if (!(error instanceof errors.JWKSNoMatchingKey) || now() - attemptedAt < cooldownMs) throw error;
        // An unknown kid: the issuer may have rotated its keys.
        await refresh().catch((cause: unknown) => {
          logger.warn('could not refresh the keys of an issuer for an unknown key id', {
            issuer,
            error: describe(cause),
          });
        });
        return (local as JWTVerifyGetKey)(header, token);
      }
    },
  };
}

/** Where the issuer's metadata may be: RFC 8414 first, then OpenID Connect Discovery. */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
  ];
}

/** The signature keys of a JWKS document (not encryption keys), at most MAX_ISSUER_KEYS. */
function usableKeys(document: unknown): object[] {
  if (typeof document !== 'object' || document === null) return [];
  const keys = (document as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) return [];
  return keys
    .filter(
      (key): key is Record<string, unknown> =>
        typeof key === 'object' && key !== null && typeof (key as Record<string, unknown>)['kty'] === 'string',
    )
    .filter((key) => key['use'] === undefined || key['use'] === 'sig')
    .filter((key) => !('d' in key))
    .slice(0, MAX_ISSUER_KEYS);
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.name === 'TimeoutError' ? 'timed out' : error.message;
  return String(error);
}
