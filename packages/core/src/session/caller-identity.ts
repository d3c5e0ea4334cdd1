/**
 * The identity a session is bound to, from the request's `Authorization` header: a hash of the
 * whole credential (any scheme), so a session id is honoured only together with the exact
 * credential that opened it. Undefined when the request carries no Authorization header.
 *
 * Claims inside a bearer JWT (issuer, subject) are not used: the gateway has not verified the
 * token, and an unsigned token (`alg: none`) carrying another user's claims would otherwise ride
 * that user's session. Binding to verified claims, so that a refreshed token keeps the session,
 * belongs to token verification. The credential itself is never stored or logged.
 */
export async function callerIdentity(authorization: string | null | undefined): Promise<string | undefined> {
  if (authorization === null || authorization === undefined) return undefined;
  const digest = new Uint8Array(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`credential:${authorization}`)),
  );
  let out = '';
  for (let i = 0; i < 16; i++) out += (digest[i] as number).toString(16).padStart(2, '0');
  return out;
}

/** Remembers the caller identity of recent Authorization values. */
export interface CallerIdentities {
  /** The identity of an Authorization value (see callerIdentity). */
  identify(authorization: string | null | undefined): Promise<string | undefined>;
}

/** Default number of Authorization values a CallerIdentities cache remembers. */
export const DEFAULT_CALLER_CACHE_SIZE = 4096;

/**
 * A bounded cache of callerIdentity, so a client's steady stream of requests costs one SHA-256
 * per credential rather than one per request. Keyed by the header value, which stays in memory
 * only as long as its entry; the oldest entry goes first.
 */
export function createCallerIdentities(limit = DEFAULT_CALLER_CACHE_SIZE): CallerIdentities {
  const cache = new Map<string, string>();
  return {
    async identify(authorization) {
      if (authorization === null || authorization === undefined) return undefined;
      const known = cache.get(authorization);
      if (known !== undefined) return known;
      const identity = (await callerIdentity(authorization)) as string;
      if (cache.size >= limit) cache.delete(cache.keys().next().value as string);
      cache.set(authorization, identity);
      return identity;
    },
  };
}
