import {
  admitCallTo,
  assertCallAdmission,
  assertCallRelease,
  releaseCallFrom,
  type CallAdmission,
  type CallLimits,
  type StoredCallQuota,
} from './call-quota.ts';
import { assertCredentialKey, assertCredentialWrite, assertGrant } from './credential-record.ts';
import { parseStoredPinRecord, toPinRecordJson } from './pin-record.ts';
import type { PendingRequest, SessionLookup, SessionStore } from './session-store.ts';
import { assertToolSelection } from './tool-selection.ts';

/** Most owners whose tool selection the memory store keeps (the anchor's bound). */
export const DEFAULT_MEMORY_MAX_SELECTIONS = 10_000;
/** Most quota keys whose calls the memory store counts. */
export const DEFAULT_MEMORY_MAX_QUOTAS = 100_000;

interface Expiring<T> {
  value: T;
  expiresAt: number;
}

interface SessionEntry {
  backends: Map<string, string>;
  terminated: boolean;
  expiresAt: number;
}

/** Options of `createMemorySessionStore`. */
export interface MemorySessionStoreOptions {
  /** Clock in ms (tests); default Date.now. */
  now?: () => number;
  /** Default DEFAULT_MEMORY_MAX_SELECTIONS; past it, the least recently written selection goes. */
  maxSelections?: number;
  /** Default DEFAULT_MEMORY_MAX_QUOTAS; past it, the key whose call was admitted longest ago goes. */
  maxQuotas?: number;
}

/**
 * The in-process SessionStore of the standalone gateway: state lives as long as the process.
 * Concurrent first calls for one (session, upstream) share one creation (single flight).
 * Expired entries are dropped lazily and by a sweep every 1024 writes. Tool selections are
 * bounded: writing one more than `maxSelections` evicts the one written longest ago. So are
 * quota keys: admitting a call under one more than `maxQuotas` keys forgets the key whose last
 * call was admitted longest ago (its count and leases start afresh).
 */
export function createMemorySessionStore(options: MemorySessionStoreOptions = {}): SessionStore {
  const now = options.now ?? Date.now;
  const sessions = new Map<string, SessionEntry>();
  const pending = new Map<string, Expiring<PendingRequest>>();
  // In write order (a rewrite moves an owner to the end), so the first key is the oldest.
  const selections = new Map<string, Expiring<readonly string[]>>();
  const maxSelections = options.maxSelections ?? DEFAULT_MEMORY_MAX_SELECTIONS;
  // In admission order (an admitted call moves its key to the end), so the first key is the oldest.
  const quotas = new Map<string, StoredCallQuota>();
  const maxQuotas = options.maxQuotas ?? DEFAULT_MEMORY_MAX_QUOTAS;
  // Pin records as JSON text, so a reader never shares an object with the writer.
  const pins = new Map<string, string>();
  const creating = new Map<string, Promise<string>>();
  // Sealed user credentials by owner, then server; one-time grants by id.
  const credentials = new Map<string, Map<string, Expiring<string>>>();
  const grants = new Map<string, Expiring<string>>();
  let writes = 0;

  function live<T extends { expiresAt: number }>(map: Map<string, T>, key: string): T | undefined {
    const entry = map.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now()) {
      map.delete(key);
      return undefined;
    }
    return entry;
  }

  function wrote(): void {
    if (++writes % 1024 !== 0) return;
    const t = now();
    for (const map of [sessions, pending, selections, quotas, grants] as Map<string, { expiresAt: number }>[]) {
      for (const [key, entry] of map) if (entry.expiresAt <= t) map.delete(key);
    }
  }

  /** Sets `key` as the newest entry of `map`, evicting the oldest ones past `max`. */
  function setNewest<T>(map: Map<string, T>, key: string, value: T, max: number): void {
    map.delete(key);
    map.set(key, value);
    for (const oldest of map.keys()) {
      if (map.size <= max) break;
      map.delete(oldest);
    }
    wrote();
  }

  function session(jti: string, ttlSeconds: number): SessionEntry {
    let entry = live(sessions, jti);
    if (entry === undefined) {
      entry = { backends: new Map(), terminated: false, expiresAt: now() + ttlSeconds * 1000 };
      sessions.set(jti, entry);
      wrote();
    }
    return entry;
  }

  function lookup(jti: string, server: string | undefined): SessionLookup {
    const entry = live(sessions, jti);
    if (entry === undefined) return { terminated: false };
    const backendSessionId = server === undefined ? undefined : entry.backends.get(server);
    return backendSessionId === undefined
      ? { terminated: entry.terminated }
      : { terminated: entry.terminated, backendSessionId };
  }

  function admitCall(key: string, limits: CallLimits, lease: string): CallAdmission {
    assertCallAdmission(key, limits, lease);
    const { admission, next } = admitCallTo(live(quotas, key), limits, lease, now());
    if (next !== undefined) setNewest(quotas, key, next, maxQuotas);
    return admission;
  }

  return {
    async lookup(jti, server) {
      return lookup(jti, server);
    },
    async ensureBackendSession(jti, server, ttlSeconds, create) {
      const existing = live(sessions, jti)?.backends.get(server);
      if (existing !== undefined) return existing;
      const key = `${jti}\u0000${server}`;
      const running = creating.get(key);
      if (running !== undefined) return running;
      const promise = (async () => {
        try {
          const id = await create();
          const entry = session(jti, ttlSeconds);
          if (!entry.terminated) entry.backends.set(server, id);
          return id;
        } finally {
          creating.delete(key);
        }
      })();
      creating.set(key, promise);
      return promise;
    },
    async dropBackendSession(jti, server, backendSessionId) {
      const entry = live(sessions, jti);
      if (entry?.backends.get(server) === backendSessionId) entry.backends.delete(server);
    },
    async terminate(jti, ttlSeconds) {
      const entry = session(jti, ttlSeconds);
      const held = Object.fromEntries(entry.backends);
      entry.backends.clear();
      entry.terminated = true;
      // The marker must outlive the token it ends, even if the entry began with a shorter TTL.
      entry.expiresAt = Math.max(entry.expiresAt, now() + ttlSeconds * 1000);
      return held;
    },
    async putPending(id, value, ttlSeconds) {
      pending.set(id, { value, expiresAt: now() + ttlSeconds * 1000 });
      wrote();
    },
    async takePending(id) {
      const entry = live(pending, id);
      pending.delete(id);
      return entry?.value;
    },
    async backendSessions(jti) {
      return Object.fromEntries(live(sessions, jti)?.backends ?? []);
    },
    async readSelection(owner) {
      return live(selections, owner)?.value;
    },
    async writeSelection(owner, tools, ttlSeconds) {
      assertToolSelection(tools);
      selections.delete(owner);
      if (tools.length === 0) return;
      const entry = { value: Object.freeze([...tools]), expiresAt: now() + ttlSeconds * 1000 };
      setNewest(selections, owner, entry, maxSelections);
    },
    async admitCall(key, limits, lease) {
      return admitCall(key, limits, lease);
    },
    async admitSessionCall(jti, server, key, limits, lease) {
      // Admitted first: limits out of bounds are refused before anything is read, as in the other stores.
      const admission = admitCall(key, limits, lease);
      return { session: lookup(jti, server), admission };
    },
    async releaseCall(key, lease) {
      assertCallRelease(key, lease);
      const entry = live(quotas, key);
      if (entry === undefined) return;
      const next = releaseCallFrom(entry, lease, now());
      // A release keeps the key's place: only admissions make it the newest.
      if (next === undefined) quotas.delete(key);
      else quotas.set(key, next);
    },
    async readPins(server) {
      const text = pins.get(server);
      return text === undefined ? undefined : parseStoredPinRecord(text);
    },
    async writePins(server, record) {
      const text = toPinRecordJson(record);
      const stored = pins.get(server);
      const revision = stored === undefined ? 0 : (parseStoredPinRecord(stored)?.revision ?? 0);
      if (revision !== record.revision - 1) return false;
      pins.set(server, text);
      return true;
    },
    async readCredential(owner, server) {
      assertCredentialKey(owner, server);
      const held = credentials.get(owner);
      return held === undefined ? undefined : live(held, server)?.value;
    },
    async writeCredential(owner, server, sealed, ttlSeconds) {
      assertCredentialWrite(owner, server, sealed, ttlSeconds);
      let held = credentials.get(owner);
      if (held === undefined) credentials.set(owner, (held = new Map()));
      held.set(server, { value: sealed, expiresAt: now() + ttlSeconds * 1000 });
    },
    async deleteCredential(owner, server) {
      assertCredentialKey(owner, server);
      const held = credentials.get(owner);
      const had = held !== undefined && live(held, server) !== undefined && held.delete(server);
      if (held?.size === 0) credentials.delete(owner);
      return had;
    },
    async listCredentials(owner) {
      const held = credentials.get(owner);
      const out: Record<string, string> = {};
      if (held === undefined) return out;
      for (const server of [...held.keys()]) {
        const entry = live(held, server);
        if (entry !== undefined) out[server] = entry.value;
      }
      return out;
    },
    async putGrant(id, value, ttlSeconds) {
      assertGrant(id, value, ttlSeconds);
      grants.set(id, { value, expiresAt: now() + ttlSeconds * 1000 });
      wrote();
    },
    async takeGrant(id) {
      const entry = live(grants, id);
      grants.delete(id);
      return entry?.value;
    },
    async close() {
      credentials.clear();
      grants.clear();
      sessions.clear();
      pending.clear();
      selections.clear();
      quotas.clear();
    },
  };
}
