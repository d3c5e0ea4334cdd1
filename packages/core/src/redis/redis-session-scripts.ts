import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * The Lua scripts behind the Redis SessionStore. Each runs atomically in Redis, so a check
 * and the write it guards cannot interleave with another replica's. Times (`now`, expiry)
 * come from the caller's clock as ms; key TTLs are set relative to it with PEXPIRE.
 *
 * A session hash holds a field per server (the backend session id) and two reserved fields
 * whose names start with `~`: `~expires` (ms since the epoch, on the writer's clock) and
 * `~terminated`. A server name that itself starts with `~` is stored with one more `~`.
 * @see docs/redis.md (key layout)
 */

/** A script and its SHA1, run with EVALSHA (falling back to EVAL after a Redis restart). */
export interface LuaScript {
  readonly source: string;
  readonly sha1: string;
}

function defineScript(source: string): LuaScript {
  return { source, sha1: createHash('sha1').update(source).digest('hex') };
}

/** Runs `script`; on NOSCRIPT (script cache empty, e.g. Redis restarted) loads it with EVAL. */
export async function runScript(
  redis: Redis,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await redis.evalsha(script.sha1, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return await redis.eval(script.source, keys.length, ...keys, ...args);
  }
}

/** Hash field of a server's backend session (reserved fields start with one `~`). */
export function toServerField(server: string): string {
  return server.startsWith('~') ? `~${server}` : server;
}

/** The server a hash field belongs to; undefined for a reserved field. */
export function fromServerField(field: string): string | undefined {
  if (field.startsWith('~~')) return field.slice(1);
  return field.startsWith('~') ? undefined : field;
}

/**
 * Fast path and lock in one round trip. KEYS: session, lock. ARGV: field, now, token, lockTtlMs.
 * Returns the live backend session id, 1 when this caller took the lock, 0 when another holds it.
 */
export const CLAIM_SCRIPT = defineScript(`
local held = redis.call('HMGET', KEYS[1], '~expires', ARGV[1])
local expires = tonumber(held[1])
if expires and expires > tonumber(ARGV[2]) and held[2] then return held[2] end
if redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[4]) then return 1 end
return 0
`);

/**
 * Stores the lock holder's backend session and releases its lock. KEYS: session, lock.
 * ARGV: field, id, now, expiresAt, token. Drops a hash whose `~expires` has passed first; keeps
 * the longer of the two expiries. Returns the id to use: an id another replica stored first
 * (its lock had expired) wins; a terminated session stores nothing and gets the caller's id back.
 */
export const STORE_SCRIPT = defineScript(`
if redis.call('GET', KEYS[2]) == ARGV[5] then redis.call('DEL', KEYS[2]) end
local now = tonumber(ARGV[3])
local held = redis.call('HMGET', KEYS[1], '~expires', '~terminated', ARGV[1])
local expires = tonumber(held[1])
if not expires or expires <= now then
  redis.call('DEL', KEYS[1])
  held = {false, false, false}
  expires = nil
end
if held[2] then return ARGV[2] end
if held[3] then return held[3] end
local target = ARGV[4]
if expires and expires > tonumber(target) then target = held[1] end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], '~expires', target)
redis.call('PEXPIRE', KEYS[1], tonumber(target) - now)
return ARGV[2]
`);

/** Releases a lock if this caller still holds it. KEYS: lock. ARGV: token. */
export const UNLOCK_SCRIPT = defineScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/** Deletes a backend session if it is still the given id. KEYS: session. ARGV: field, id. */
export const DROP_SCRIPT = defineScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
`);

/**
 * Replaces the session by a termination marker that lives until the later of its current
 * expiry and `expiresAt`. KEYS: session. ARGV: now, expiresAt. Returns the live hash's
 * fields and values (flat), empty when the session had expired.
 */
export const TERMINATE_SCRIPT = defineScript(`
local now = tonumber(ARGV[1])
local all = redis.call('HGETALL', KEYS[1])
local expires
for i = 1, #all, 2 do
  if all[i] == '~expires' then expires = all[i + 1] end
end
local target = ARGV[2]
if expires and tonumber(expires) > now then
  if tonumber(expires) > tonumber(target) then target = expires end
else
  all = {}
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '~terminated', '1', '~expires', target)
redis.call('PEXPIRE', KEYS[1], tonumber(target) - now)
return all
`);

/**
 * `admitCall` in one round trip, by the rule of `admitCallTo`. KEYS: window (a hash: `count`,
 * `ends`), leases (a sorted set: lease → expiry). ARGV: now, lease, requests limit, window ms,
 * concurrent limit, lease ms; a limit of 0 skips its check. Both checks come before any write, so
 * a refused call changes nothing (beyond dropping expired leases). A key of another type, or a
 * window without a numeric `count` and `ends`, is taken as none (something this store did not
 * write). Returns {1} when admitted, {0, reason, retryAfterMs} when not.
 */
export const ADMIT_CALL_SCRIPT = defineScript(`
local now = tonumber(ARGV[1])
local requests = tonumber(ARGV[3])
local concurrent = tonumber(ARGV[5])
for i = 1, 2 do
  local kind = redis.call('TYPE', KEYS[i]).ok
  if kind ~= 'none' and kind ~= (i == 1 and 'hash' or 'zset') then redis.call('DEL', KEYS[i]) end
end
if concurrent > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) >= concurrent then
    local earliest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return {0, 'concurrent', math.max(1, math.ceil(tonumber(earliest[2]) - now))}
  end
end
local window = redis.call('HMGET', KEYS[1], 'count', 'ends')
local count, ends = tonumber(window[1]), tonumber(window[2])
if not (count and ends and ends > now) then count, ends = nil, nil end
if requests > 0 then
  if count and count >= requests then return {0, 'requests', math.max(1, math.ceil(ends - now))} end
  if count then
    redis.call('HINCRBY', KEYS[1], 'count', 1)
  else
    ends = now + tonumber(ARGV[4])
    redis.call('DEL', KEYS[1])
    redis.call('HSET', KEYS[1], 'count', 1, 'ends', ends)
    redis.call('PEXPIRE', KEYS[1], ends - now)
  end
end
if concurrent > 0 then
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[6]), ARGV[2])
  local latest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', KEYS[2], tonumber(latest[2]) - now)
end
return {1}
`);

/**
 * `writePins` in one round trip: compare and set on the record's revision. KEYS: pins (a hash:
 * `rev`, `record`). ARGV: revision, record JSON. Written only when the stored `rev` is
 * `revision - 1` (no key counts as 0); a key of another type is taken as none. No TTL: pins are
 * durable. Returns 1 when written, 0 when another writer got there first.
 */
export const WRITE_PINS_SCRIPT = defineScript(`
local kind = redis.call('TYPE', KEYS[1]).ok
if kind ~= 'none' and kind ~= 'hash' then redis.call('DEL', KEYS[1]) end
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev')) or 0
if rev ~= tonumber(ARGV[1]) - 1 then return 0 end
redis.call('HSET', KEYS[1], 'rev', ARGV[1], 'record', ARGV[2])
return 1
`);

/**
 * A credential's hash field value, or a grant's string value: its expiry (ms since the epoch, on
 * the writer's clock), a colon, then the text as given. The expiry travels with the text because a
 * hash has one TTL for all its fields (per-field TTLs came with Redis 7.4).
 */
export function toExpiringValue(expiresAt: number, text: string): string {
  return `${expiresAt}:${text}`;
}

/** The text of a value `toExpiringValue` made, if it is still live at `now`; undefined otherwise or for a foreign value. */
export function fromExpiringValue(stored: string | null | undefined, now: number): string | undefined {
  if (stored == null) return undefined;
  const colon = stored.indexOf(':');
  const expiresAt = colon > 0 ? Number(stored.slice(0, colon)) : Number.NaN;
  return expiresAt > now ? stored.slice(colon + 1) : undefined;
}

/**
 * `writeCredential` in one round trip. KEYS: the owner's credentials (a hash: server → expiring
 * value). ARGV: server, value, ttlMs. Sets the field, then extends the hash's TTL to `ttlMs` if it
 * had less (or none), so the hash lives as long as its longest-lived credential; a shorter-lived
 * replacement keeps the longer TTL and reads as none once its own expiry passes. A key of another
 * type is replaced.
 */
export const WRITE_CREDENTIAL_SCRIPT = defineScript(`
local kind = redis.call('TYPE', KEYS[1]).ok
if kind ~= 'none' and kind ~= 'hash' then redis.call('DEL', KEYS[1]) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
`);

/**
 * `deleteCredential` in one round trip. KEYS: the owner's credentials. ARGV: server, now.
 * Deletes the field; returns 1 when it held a live credential, 0 when it was absent, expired or
 * foreign (deleted all the same), or the key is of another type.
 */
export const DELETE_CREDENTIAL_SCRIPT = defineScript(`
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return 0 end
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if not stored then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
local expires = tonumber(string.match(stored, '^(%d+):'))
if expires and expires > tonumber(ARGV[2]) then return 1 end
return 0
`);
