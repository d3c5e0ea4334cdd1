import { unverified, type Authentication } from '../identity/authentication.ts';

/**
 * The identity a session (and a 2026-07-28 caller's backend sessions) is bound to:
 * - a verified token: its issuer and subject, so a refreshed token keeps the session and another
 *   user's token does not;
 * - an unverified credential (token verification off): a hash of the whole Authorization value
 *   (any scheme), so a session id is honoured only together with the exact credential that
 *   opened it. Claims inside an unverified bearer JWT are never used: an unsigned token
 *   (`alg: none`) carrying another user's claims would otherwise ride that user's session;
 * - no credential: undefined.
 * Hashed, so the binding holds no secret; the credential itself is never stored or logged.
 */
export async function callerIdentity(auth: Authentication): Promise<string | undefined> {
  switch (auth.kind) {
    case 'anonymous':
      return undefined;
    case 'credential':
      return hash(`credential:${auth.authorization}`);
    case 'verified':
      return hash(`verified:${auth.identity.issuer}\n${auth.identity.subject}`);
  }
}

/** The identity of an unverified Authorization header (see callerIdentity). */
export function credentialIdentity(authorization: string | null | undefined): Promise<string | undefined> {
  return callerIdentity(unverified(authorization));
}

async function hash(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  let out = '';
  for (let i = 0; i < 16; i++) out += (digest[i] as number).toString(16).padStart(2, '0');
  return out;
}

/** Remembers the caller identity of recent authentications. */
export interface CallerIdentities {
  /** The identity of an authentication (see callerIdentity). */
  identify(auth: Authentication): Promise<string | undefined>;
}

/** Default number of credentials a CallerIdentities cache remembers. */
export const DEFAULT_CALLER_CACHE_SIZE = 4096;

/**
 * A bounded cache of callerIdentity, so a client's steady stream of requests costs one SHA-256
 * per credential rather than one per request. Keyed by the header value (or the verified issuer
 * and subject), which stays in memory only as long as its entry; the oldest entry goes first.
 */
export function createCallerIdentities(limit = DEFAULT_CALLER_CACHE_SIZE): CallerIdentities {
  const cache = new Map<string, string>();
  return {
    async identify(auth) {
      if (auth.kind === 'anonymous') return undefined;
      const key =
        auth.kind === 'credential' ? `c ${auth.authorization}` : `v ${auth.identity.issuer}\n${auth.identity.subject}`;
      const known = cache.get(key);
      if (known !== undefined) return known;
      const identity = (await callerIdentity(auth)) as string;
      if (cache.size >= limit) cache.delete(cache.keys().next().value as string);
      cache.set(key, identity);
      return identity;
    },
  };
}
