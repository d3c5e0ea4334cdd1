import type { CredentialHolder } from './credential-owner.ts';

/** Most users' credentials (and holders) a process remembers; the oldest go first. */
export const CREDENTIAL_CACHE_SIZE = 10_000;
/**
 * How long a stored (pasted or authorized) credential is used from memory before the store is
 * read again: a removal announced on a bus that missed this replica still takes effect this soon.
 */
export const STORED_CREDENTIAL_CACHE_MS = 60_000;

/**
 * What a process remembers of users' upstream credentials, so that a warm call reads no store:
 * the Authorization to send, until shortly before it expires, by (owner, server); and who holds
 * a caller's credentials, by the caller's identity key (no hashing per call). Bounded; dropped
 * when a credential changes anywhere (CREDENTIALS_TOPIC).
 */
export interface CredentialCache {
  get(owner: string, server: string): string | undefined;
  /** Remembers `authorization` until `usableUntil` (ms); a `stored` one at most STORED_CREDENTIAL_CACHE_MS. */
  put(owner: string, server: string, authorization: string, usableUntil: number, stored?: boolean): void;
  drop(owner: string, server: string): void;
  holder(key: string): CredentialHolder | undefined;
  rememberHolder(key: string, holder: CredentialHolder): void;
}

export function credentialCache(now: () => number, size = CREDENTIAL_CACHE_SIZE): CredentialCache {
  const entries = new Map<string, { authorization: string; until: number }>();
  const holders = new Map<string, CredentialHolder>();
  const bounded = <T>(map: Map<string, T>, key: string, value: T) => {
    map.delete(key);
    map.set(key, value);
    if (map.size > size) map.delete(map.keys().next().value as string);
  };
  return {
    get(owner, server) {
      const key = `${owner}\n${server}`;
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (entry.until > now()) return entry.authorization;
      entries.delete(key);
      return undefined;
    },
    put(owner, server, authorization, usableUntil, stored = false) {
      const until = stored ? Math.min(usableUntil, now() + STORED_CREDENTIAL_CACHE_MS) : usableUntil;
      if (until > now()) bounded(entries, `${owner}\n${server}`, { authorization, until });
    },
    drop(owner, server) {
      entries.delete(`${owner}\n${server}`);
    },
    holder: (key) => holders.get(key),
    rememberHolder: (key, holder) => bounded(holders, key, holder),
  };
}
