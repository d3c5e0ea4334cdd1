import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { GatewayError } from '../errors.ts';
import { assertCallAdmission, assertCallRelease, type CallAdmission, type CallLimits } from '../store/call-quota.ts';
import { assertCredentialKey, assertCredentialWrite, assertGrant } from '../store/credential-record.ts';
import { parseStoredPinRecord, toPinRecordJson } from '../store/pin-record.ts';
import type { PendingRequest, SessionLookup, SessionStore } from '../store/session-store.ts';
import { assertToolSelection, parseStoredSelection, type StoredSelection } from '../store/tool-selection.ts';
import { orUnavailable, toStoreUnavailable } from './redis-errors.ts';
import {
  ADMIT_CALL_SCRIPT,
  CLAIM_SCRIPT,
  DELETE_CREDENTIAL_SCRIPT,
  DROP_SCRIPT,
  STORE_SCRIPT,
  TERMINATE_SCRIPT,
  UNLOCK_SCRIPT,
  WRITE_CREDENTIAL_SCRIPT,
  WRITE_PINS_SCRIPT,
  fromExpiringValue,
  fromServerField,
  runScript,
  toExpiringValue,
  toServerField,
  type LuaScript,
} from './redis-session-scripts.ts';

/** Prefix of every key the store writes. */
export const DEFAULT_REDIS_KEY_PREFIX = 'mcpgw:';
/** How long a replica may hold the lock that makes backend-session creation happen once. */
export const DEFAULT_REDIS_LOCK_TTL_MS = 10_000;
/** How often a replica waiting for another one's backend session looks again. */
export const DEFAULT_REDIS_LOCK_POLL_MS = 20;

/** Options of `createRedisSessionStore`. */
export interface RedisSessionStoreOptions {
  /** A connection from `connectRedis`; the caller owns it (the store never closes it). */
  redis: Redis;
  /** Default DEFAULT_REDIS_KEY_PREFIX. */
  keyPrefix?: string;
  /** Clock in ms for every expiry decision (tests); default Date.now. */
  now?: () => number;
  /** Default DEFAULT_REDIS_LOCK_TTL_MS; keep it above the upstream initialize timeout. */
  lockTtlMs?: number;
  /** Default DEFAULT_REDIS_LOCK_POLL_MS. */
  lockPollMs?: number;
}

/** What a pending-request key holds: the entry and its expiry on the writer's clock. */
interface StoredPending {
  expiresAt: number;
  entry: PendingRequest;
}

const RESERVED_FIELDS = ['~expires', '~terminated'] as const;

/**
 * The SessionStore shared by gateway replicas. One hash per gateway session, keyed by its
 * jti (never the token), expiring with it; pending server-to-client requests as JSON strings
 * taken with GETDEL; an owner's tool selection as a JSON string (SET … PX, GET, DEL); a quota
 * key's window as a hash and its concurrency leases as a sorted set, both changed by one script
 * per `admitCall` (a ZREM per `releaseCall`), and `admitSessionCall` the session's HMGET and that
 * script sent as one pipeline; a pinned server's record as a hash (`rev`, `record`)
 * without TTL, written by compare and set in one script; an owner's sealed upstream credentials as
 * one hash (server → value with its expiry) whose TTL a write script extends to the longest
 * credential's; one-time grants as strings taken with GETDEL. A warm `lookup` is one HMGET.
 * `ensureBackendSession` creates once cluster-wide: a single flight per pair in this process,
 * then a Redis lock (SET NX PX) whose holder creates and stores while the others poll for its
 * result, and take the lock over if the holder fails. Expiry is decided against `now` from a field in
 * the hash; Redis TTLs (PEXPIRE) remove the keys.
 * Every Redis failure rejects with GatewayError STORE_UNAVAILABLE; errors of `create` pass
 * through as they are.
 * @see docs/redis.md for the key layout
 */
export function createRedisSessionStore(options: RedisSessionStoreOptions): SessionStore {
  const { redis } = options;
  const prefix = options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX;
  const now = options.now ?? Date.now;
  const lockTtlMs = options.lockTtlMs ?? DEFAULT_REDIS_LOCK_TTL_MS;
  const lockPollMs = options.lockPollMs ?? DEFAULT_REDIS_LOCK_POLL_MS;
  const creating = new Map<string, Promise<string>>();
  let closed = false;

  // `{jti}` is a cluster hash tag: a session's hash and its locks share one slot, as the scripts need.
  const sessionKey = (jti: string) => `${prefix}session:{${jti}}`;
  const lockKey = (jti: string, server: string) => `${prefix}lock:{${jti}}:${server}`;
  const pendingKey = (id: string) => `${prefix}pending:${id}`;
  const selectionKey = (owner: string) => `${prefix}selection:${owner}`;
  const pinsKey = (server: string) => `${prefix}pins:${server}`;
  const credentialKey = (owner: string) => `${prefix}cred:${owner}`;
  const grantKey = (id: string) => `${prefix}grant:${id}`;
  // `{key}` is a hash tag too: the admit script touches both keys of a quota.
  const quotaKeys = (key: string) => [`${prefix}quota:{${key}}:w`, `${prefix}quota:{${key}}:c`] as const;

  const call = <T>(command: Promise<T>) => orUnavailable('session store', command);
  const script = (lua: LuaScript, keys: string[], args: (string | number)[]) => call(runScript(redis, lua, keys, args));
  // Whole ms, so that the TTLs derived from them are integers as PEXPIRE requires.
  const clock = () => Math.floor(now());
  const expiryAfter = (ttlSeconds: number) => Math.ceil(clock() + ttlSeconds * 1000);
  const isLive = (expires: string | null | undefined) => expires != null && Number(expires) > now();
  const ttlMsOf = (ttlSeconds: number) => Math.max(1, Math.ceil(ttlSeconds * 1000));

  /** The admit script's ARGV for one call. */
  const admitArgs = ({ requests, concurrent }: CallLimits, lease: string) => [
    clock(),
    lease,
    requests?.limit ?? 0,
    (requests?.windowSeconds ?? 0) * 1000,
    concurrent?.limit ?? 0,
    (concurrent?.leaseSeconds ?? 0) * 1000,
  ];

  /** A session hash's [~expires, ~terminated, server field?] as a lookup answer. */
  const toSessionLookup = ([expires, terminated, backendSessionId]: readonly (string | null)[]): SessionLookup => {
    if (!isLive(expires)) return { terminated: false };
    return backendSessionId == null
      ? { terminated: terminated != null }
      : { terminated: terminated != null, backendSessionId };
  };

  async function claim(jti: string, server: string, ttlSeconds: number, create: () => Promise<string>) {
    const keys = [sessionKey(jti), lockKey(jti, server)];
    const field = toServerField(server);
    const token = crypto.randomUUID();
    // The lock expires after lockTtlMs, so a waiter normally gets a result or the lock well before this.
    const deadline = Date.now() + 2 * lockTtlMs;
    for (;;) {
      const claimed = await script(CLAIM_SCRIPT, keys, [field, clock(), token, lockTtlMs]);
      if (typeof claimed === 'string') return claimed;
      if (claimed === 1) return createAndStore(keys, field, token, ttlSeconds, create);
      if (closed) throw toStoreUnavailable('session store', new Error('the store was closed'));
      if (Date.now() >= deadline) {
        throw new GatewayError(
          'UPSTREAM_TIMEOUT',
          `gave up after ${2 * lockTtlMs} ms waiting for another replica to create the backend session of ${server}`,
        );
      }
      await sleep(lockPollMs);
    }
  }

  async function createAndStore(
    keys: string[],
    field: string,
    token: string,
    ttlSeconds: number,
    create: () => Promise<string>,
  ): Promise<string> {
    let id: string;
    try {
      id = await create();
    } catch (error) {
      // Hand the lock on now rather than when it expires; if Redis is down it expires anyway.
      await script(UNLOCK_SCRIPT, [keys[1]!], [token]).catch(() => undefined);
      throw error;
    }
    const stored = await script(STORE_SCRIPT, keys, [field, id, clock(), expiryAfter(ttlSeconds), token]);
    return typeof stored === 'string' ? stored : id;
  }

  return {
    async lookup(jti, server): Promise<SessionLookup> {
      const fields = server === undefined ? RESERVED_FIELDS : [...RESERVED_FIELDS, toServerField(server)];
      return toSessionLookup(await call(redis.hmget(sessionKey(jti), ...fields)));
    },
    async ensureBackendSession(jti, server, ttlSeconds, create) {
      const flight = `${jti}\u0000${server}`;
      const running = creating.get(flight);
      if (running !== undefined) return running;
      const promise = claim(jti, server, ttlSeconds, create).finally(() => creating.delete(flight));
      creating.set(flight, promise);
      return promise;
    },
    async dropBackendSession(jti, server, backendSessionId) {
      await script(DROP_SCRIPT, [sessionKey(jti)], [toServerField(server), backendSessionId]);
    },
    async terminate(jti, ttlSeconds) {
      const held = await script(TERMINATE_SCRIPT, [sessionKey(jti)], [clock(), expiryAfter(ttlSeconds)]);
      return toBackendSessions(Array.isArray(held) ? (held as string[]) : []);
    },
    async putPending(id, entry, ttlSeconds) {
      const stored: StoredPending = { expiresAt: expiryAfter(ttlSeconds), entry };
      await call(redis.set(pendingKey(id), JSON.stringify(stored), 'PX', ttlMsOf(ttlSeconds)));
    },
    async takePending(id) {
      const text = await call(redis.getdel(pendingKey(id)));
      if (text === null) return undefined;
      const stored = parseStoredPending(text);
      return stored !== undefined && stored.expiresAt > now() ? stored.entry : undefined;
    },
    async backendSessions(jti) {
      const hash = await call(redis.hgetall(sessionKey(jti)));
      return isLive(hash['~expires']) ? toBackendSessions(Object.entries(hash).flat()) : {};
    },
    async readSelection(owner) {
      const text = await call(redis.get(selectionKey(owner)).catch(wrongTypeAsNull));
      return text === null ? undefined : parseStoredSelection(text, now());
    },
    async writeSelection(owner, tools, ttlSeconds) {
      assertToolSelection(tools);
      if (tools.length === 0) {
        await call(redis.del(selectionKey(owner)));
        return;
      }
      const stored: StoredSelection = { expiresAt: expiryAfter(ttlSeconds), tools };
      await call(redis.set(selectionKey(owner), JSON.stringify(stored), 'PX', ttlMsOf(ttlSeconds)));
    },
    async admitCall(key, limits, lease) {
      assertCallAdmission(key, limits, lease);
      return toCallAdmission(await script(ADMIT_CALL_SCRIPT, [...quotaKeys(key)], admitArgs(limits, lease)));
    },
    async admitSessionCall(jti, server, key, limits, lease) {
      assertCallAdmission(key, limits, lease);
      const keys = [...quotaKeys(key)];
      const args = admitArgs(limits, lease);
      // Two slots ({jti} and {key}), so two commands, not one script: sent as one pipeline, one
      // write and one round trip on the gateway's connection.
      const replies = await call(
        redis
          .pipeline()
          .hmget(sessionKey(jti), ...RESERVED_FIELDS, toServerField(server))
          .evalsha(ADMIT_CALL_SCRIPT.sha1, keys.length, ...keys, ...args)
          .exec(),
      );
      const [[readError, fields] = [], [scriptError, reply] = []] = replies ?? [];
      if (readError != null) throw toStoreUnavailable('session store', readError);
      let admitted = reply;
      if (scriptError != null) {
        if (!scriptError.message.startsWith('NOSCRIPT')) throw toStoreUnavailable('session store', scriptError);
        // The script cache was empty (a restarted Redis): nothing ran, so it is sent once more, with its source.
        admitted = await script(ADMIT_CALL_SCRIPT, keys, args);
      }
      const read = Array.isArray(fields) ? (fields as (string | null)[]) : [];
      return { session: toSessionLookup(read), admission: toCallAdmission(admitted) };
    },
    async releaseCall(key, lease) {
      assertCallRelease(key, lease);
      await call(redis.zrem(quotaKeys(key)[1], lease).catch(wrongTypeAsNull));
    },
    async readPins(server) {
      const text = await call(redis.hget(pinsKey(server), 'record').catch(wrongTypeAsNull));
      return text === null ? undefined : parseStoredPinRecord(text);
    },
    async writePins(server, record) {
      const text = toPinRecordJson(record);
      return (await script(WRITE_PINS_SCRIPT, [pinsKey(server)], [record.revision, text])) === 1;
    },
    async readCredential(owner, server) {
      assertCredentialKey(owner, server);
      return fromExpiringValue(await call(redis.hget(credentialKey(owner), server).catch(wrongTypeAsNull)), now());
    },
    async writeCredential(owner, server, sealed, ttlSeconds) {
      assertCredentialWrite(owner, server, sealed, ttlSeconds);
      const value = toExpiringValue(expiryAfter(ttlSeconds), sealed);
      await script(WRITE_CREDENTIAL_SCRIPT, [credentialKey(owner)], [server, value, ttlMsOf(ttlSeconds)]);
    },
    async deleteCredential(owner, server) {
      assertCredentialKey(owner, server);
      return (await script(DELETE_CREDENTIAL_SCRIPT, [credentialKey(owner)], [server, clock()])) === 1;
    },
    async listCredentials(owner) {
      const hash = await call(redis.hgetall(credentialKey(owner)).catch(wrongTypeAsNull));
      const live: Record<string, string> = {};
      const at = now();
      for (const [server, stored] of Object.entries(hash ?? {})) {
        const sealed = fromExpiringValue(stored, at);
        if (sealed !== undefined) live[server] = sealed;
      }
      return live;
    },
    async putGrant(id, value, ttlSeconds) {
      assertGrant(id, value, ttlSeconds);
      const stored = toExpiringValue(expiryAfter(ttlSeconds), value);
      await call(redis.set(grantKey(id), stored, 'PX', ttlMsOf(ttlSeconds)));
    },
    async takeGrant(id) {
      return fromExpiringValue(await call(redis.getdel(grantKey(id)).catch(wrongTypeAsNull)), now());
    },
    async close() {
      // The connection belongs to the caller (it may also carry the notification bus).
      closed = true;
    },
  };
}

/** Backend sessions by server from a hash's flat [field, value, …] list, reserved fields left out. */
function toBackendSessions(flat: readonly string[]): Record<string, string> {
  const sessions: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const server = fromServerField(flat[i]!);
    if (server !== undefined) sessions[server] = flat[i + 1]!;
  }
  return sessions;
}

/** The admit script's reply: {1}, or {0, reason, retryAfterMs}; anything else admits nothing. */
function toCallAdmission(reply: unknown): CallAdmission {
  const [admitted, reason, retryAfterMs] = Array.isArray(reply) ? (reply as unknown[]) : [];
  if (admitted === 1) return { admitted: true };
  return {
    admitted: false,
    reason: reason === 'concurrent' ? 'concurrent' : 'requests',
    retryAfterMs: Math.max(1, Number(retryAfterMs) || 1),
  };
}

/**
 * A key of another type (something this store did not write) reads as absent, like any other
 * foreign value; every other error is the store's.
 */
function wrongTypeAsNull(error: unknown): null {
  if (error instanceof Error && error.message.startsWith('WRONGTYPE')) return null;
  throw error;
}

/** A pending-request value, or undefined when the key holds something this store did not write. */
function parseStoredPending(text: string): StoredPending | undefined {
  try {
    const stored = JSON.parse(text) as Partial<StoredPending> | null;
    return typeof stored?.expiresAt === 'number' && typeof stored.entry === 'object' && stored.entry !== null
      ? (stored as StoredPending)
      : undefined;
  } catch {
    return undefined;
  }
}
