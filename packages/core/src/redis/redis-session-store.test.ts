import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRedis, type RunningRedis } from '../../../../test/harness/redis.ts';
import { createSessionTokens } from '../session/session-token.ts';
import { runSessionStoreCase } from '../store/session-store.case.ts';
import type { CallLimits } from '../store/call-quota.ts';
import type { SessionStore } from '../store/session-store.ts';
import { connectRedis } from './redis-connection.ts';
import { createRedisSessionStore } from './redis-session-store.ts';

const HOUR = 3600;

let server: RunningRedis;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = await connectRedis(server.url);
});

afterAll(async () => {
  await redis?.quit();
  await server?.stop();
});

/** Calls of each Redis command since `CONFIG RESETSTAT`, from INFO commandstats. */
async function commandCounts(client: Redis): Promise<Record<string, number>> {
  const info = await client.info('commandstats');
  const counts: Record<string, number> = {};
  for (const [, name, calls] of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)) counts[name!] = Number(calls);
  delete counts['info'];
  delete counts['config|resetstat'];
  return counts;
}

/** The commands of `counts` a client sent: without those the admit script runs inside Redis. */
function clientCommands(counts: Record<string, number>): Record<string, number> {
  const inScript = [
    'type',
    'del',
    'zremrangebyscore',
    'zcard',
    'zrange',
    'hmget',
    'hincrby',
    'hset',
    'pexpire',
    'zadd',
    'pttl',
    'hdel',
    'hget',
  ];
  return Object.fromEntries(Object.entries(counts).filter(([name]) => !inScript.includes(name)));
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('createRedisSessionStore', () => {
  runSessionStoreCase(({ now }) => createRedisSessionStore({ redis, now }));
});

describe('createRedisSessionStore across replicas', () => {
  // Two stores on two connections stand in for two gateway replicas.
  let replicaRedis: Redis;
  let stores: SessionStore[] = [];
  const jti = () => `jti-${crypto.randomUUID()}`;

  beforeAll(async () => {
    replicaRedis = await connectRedis(server.url);
  });
  afterAll(async () => {
    await replicaRedis?.quit();
  });
  afterEach(async () => {
    await Promise.all(stores.map((store) => store.close()));
    stores = [];
  });

  function replicas(): [SessionStore, SessionStore] {
    stores = [
      createRedisSessionStore({ redis, lockPollMs: 5 }),
      createRedisSessionStore({ redis: replicaRedis, lockPollMs: 5 }),
    ];
    return stores as [SessionStore, SessionStore];
  }

  it('creates one backend session when two replicas race for the same pair', async () => {
    const [a, b] = replicas();
    const id = jti();
    const gate = deferred<void>();
    const createA = vi.fn(async () => (await gate.promise, 'from-a'));
    const createB = vi.fn(async () => (await gate.promise, 'from-b'));

    const calls = [
      ...Array.from({ length: 5 }, () => a.ensureBackendSession(id, 'weather', HOUR, createA)),
      ...Array.from({ length: 5 }, () => b.ensureBackendSession(id, 'weather', HOUR, createB)),
    ];
    await vi.waitFor(() => expect(createA.mock.calls.length + createB.mock.calls.length).toBe(1));
    gate.resolve();
    const results = await Promise.all(calls);

    expect(createA.mock.calls.length + createB.mock.calls.length).toBe(1);
    expect(new Set(results).size).toBe(1);
    expect(await b.lookup(id, 'weather')).toEqual({ terminated: false, backendSessionId: results[0] });
  });

  it('lets a waiting replica create the backend session when the lock holder fails', async () => {
    const [a, b] = replicas();
    const id = jti();
    const started = deferred<void>();
    const gate = deferred<string>();
    const failing = vi.fn(() => (started.resolve(), gate.promise));
    const ensuringA = a.ensureBackendSession(id, 'weather', HOUR, failing);
    await started.promise;

    const createB = vi.fn(async () => 'from-b');
    const ensuringB = b.ensureBackendSession(id, 'weather', HOUR, createB);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(createB).not.toHaveBeenCalled();
    gate.reject(new Error('upstream refused initialize'));

    await expect(ensuringA).rejects.toThrow('upstream refused initialize');
    expect(await ensuringB).toBe('from-b');
    expect(createB).toHaveBeenCalledTimes(1);
    expect(await a.lookup(id, 'weather')).toEqual({ terminated: false, backendSessionId: 'from-b' });
  });

  it('sends one claim to Redis for ten concurrent calls in one process', async () => {
    const [a] = replicas();
    const id = jti();
    await redis.config('RESETSTAT');

    const create = vi.fn(async () => 'b1');
    await Promise.all(Array.from({ length: 10 }, () => a.ensureBackendSession(id, 'weather', HOUR, create)));

    expect(create).toHaveBeenCalledTimes(1);
    const counts = await commandCounts(redis);
    // One EVALSHA to claim the lock, one to store the id (plus one EVAL each the first time).
    expect((counts['evalsha'] ?? 0) + (counts['eval'] ?? 0)).toBeLessThanOrEqual(4);
    expect(counts['evalsha']).toBe(2);
  });

  it('answers a warm lookup with one Redis command', async () => {
    const [a] = replicas();
    const id = jti();
    await a.ensureBackendSession(id, 'weather', HOUR, async () => 'b1');
    await redis.config('RESETSTAT');

    expect(await a.lookup(id, 'weather')).toEqual({ terminated: false, backendSessionId: 'b1' });

    expect(await commandCounts(redis)).toEqual({ hmget: 1 });
  });

  it('keys state by jti, never the token, and lets every key expire', async () => {
    await redis.flushdb();
    const [a] = replicas();
    const tokens = createSessionTokens({ key: 'redis-store-test-signing-key-0123456789' });
    const { token, claims } = await tokens.issue({ protocolVersion: '2025-11-25', clientCapabilities: {} });
    await a.ensureBackendSession(claims.jti, 'weather', 60, async () => 'b1');
    await a.putPending('g-1', { jti: claims.jti, server: 'weather', backendSessionId: 'b1', upstreamId: 7 }, 60);
    const signature = token.split('.')[2]!;

    const keys = await redis.keys('mcpgw:*');
    expect(keys.sort()).toEqual([`mcpgw:pending:g-1`, `mcpgw:session:{${claims.jti}}`].sort());
    for (const key of keys) {
      const ttl = await redis.pttl(key);
      expect(ttl, key).toBeGreaterThan(0);
      expect(ttl, key).toBeLessThanOrEqual(60_000);
      const value =
        (await redis.type(key)) === 'hash' ? JSON.stringify(await redis.hgetall(key)) : await redis.get(key);
      expect(key + value).not.toContain(signature);
    }
    await a.takePending('g-1');
    await a.terminate(claims.jti, 60);
    expect(await redis.pttl(`mcpgw:session:{${claims.jti}}`)).toBeGreaterThan(0);
  });

  it('keeps a selection under mcpgw:selection:<owner> with the TTL given, in one command per call', async () => {
    const [a] = replicas();
    const owner = `owner-${crypto.randomUUID()}`;
    const key = `mcpgw:selection:${owner}`;
    await redis.config('RESETSTAT');

    await a.writeSelection(owner, ['weather_get', 'news_top'], 60);
    expect(await commandCounts(redis)).toEqual({ set: 1 });
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);

    await redis.config('RESETSTAT');
    expect(await a.readSelection(owner)).toEqual(['weather_get', 'news_top']);
    expect(await commandCounts(redis)).toEqual({ get: 1 });

    await redis.config('RESETSTAT');
    await a.writeSelection(owner, [], 60);
    expect(await commandCounts(redis)).toEqual({ del: 1 });
    expect(await redis.exists(key)).toBe(0);
  });

  it('reads a selection key holding what this store did not write as no selection', async () => {
    const [a] = replicas();
    const owner = `owner-${crypto.randomUUID()}`;
    const key = `mcpgw:selection:${owner}`;
    const later = Date.now() + 60_000;
    const foreign = [
      'not json',
      '["weather_get"]',
      JSON.stringify({ expiresAt: later, tools: ['weather_get', 7] }),
      JSON.stringify({ expiresAt: String(later), tools: ['weather_get'] }),
      JSON.stringify({ expiresAt: later, tools: Array.from({ length: 251 }, (_, i) => `t${i}`) }),
    ];

    for (const value of foreign) {
      await redis.set(key, value, 'PX', 60_000);
      expect(await a.readSelection(owner), value).toBeUndefined();
    }
    await redis.del(key);
    await redis.hset(key, 'tools', '["weather_get"]');
    expect(await a.readSelection(owner)).toBeUndefined();

    await a.writeSelection(owner, ['weather_get'], 60);
    expect(await a.readSelection(owner)).toEqual(['weather_get']);
  });

  it('shares a selection between replicas', async () => {
    const [a, b] = replicas();
    const owner = `owner-${crypto.randomUUID()}`;

    await a.writeSelection(owner, ['weather_get'], 60);
    expect(await b.readSelection(owner)).toEqual(['weather_get']);

    await b.writeSelection(owner, [], 60);
    expect(await a.readSelection(owner)).toBeUndefined();
  });

  it('admits a call with one EVALSHA and releases it with one ZREM, on keys that expire with the window and the lease', async () => {
    const [a] = replicas();
    const key = `quota-${crypto.randomUUID()}`;
    const limits = { requests: { limit: 5, windowSeconds: 60 }, concurrent: { limit: 2, leaseSeconds: 30 } };
    // Loads the script (the first EVALSHA after a start is NOSCRIPT, then EVAL) outside the count.
    await a.admitCall(`${key}-warm`, limits, 'l0');
    await redis.config('RESETSTAT');

    expect(await a.admitCall(key, limits, 'l1')).toEqual({ admitted: true });
    expect(clientCommands(await commandCounts(redis))).toEqual({ evalsha: 1 });
    const windowTtl = await redis.pttl(`mcpgw:quota:{${key}}:w`);
    expect(windowTtl).toBeGreaterThan(30_000);
    expect(windowTtl).toBeLessThanOrEqual(60_000);
    const leaseTtl = await redis.pttl(`mcpgw:quota:{${key}}:c`);
    expect(leaseTtl).toBeGreaterThan(0);
    expect(leaseTtl).toBeLessThanOrEqual(30_000);
    expect(await redis.hget(`mcpgw:quota:{${key}}:w`, 'count')).toBe('1');
    expect(await redis.zrange(`mcpgw:quota:{${key}}:c`, '0', '-1')).toEqual(['l1']);

    await redis.config('RESETSTAT');
    await a.admitCall(key, limits, 'l2');
    expect(await a.admitCall(key, limits, 'l3')).toMatchObject({ admitted: false, reason: 'concurrent' });
    expect(clientCommands(await commandCounts(redis))).toEqual({ evalsha: 2 });

    await redis.config('RESETSTAT');
    await a.releaseCall(key, 'l1');
    expect(await commandCounts(redis)).toEqual({ zrem: 1 });
    expect(await redis.zrange(`mcpgw:quota:{${key}}:c`, '0', '-1')).toEqual(['l2']);
  });

  it("reads the session and admits a call in one write to Redis: the session's HMGET and the admit EVALSHA pipelined", async () => {
    const [a] = replicas();
    const id = jti();
    const key = `quota-${crypto.randomUUID()}`;
    const limits = { concurrent: { limit: 1, leaseSeconds: 30 } };
    await a.ensureBackendSession(id, 'weather', HOUR, async () => 'b1');
    // Loads the script outside the count, as above.
    await a.admitCall(`${key}-warm`, limits, 'l0');
    await redis.config('RESETSTAT');
    // A spy, not a stand-in: it counts what the real connection writes to its socket.
    const writes = vi.spyOn(redis.stream, 'write');
    try {
      expect(await a.admitSessionCall(id, 'weather', key, limits, 'l1')).toEqual({
        session: { terminated: false, backendSessionId: 'b1' },
        admission: { admitted: true },
      });
      expect(writes).toHaveBeenCalledTimes(1);
    } finally {
      writes.mockRestore();
    }
    const counts = await commandCounts(redis);
    expect(clientCommands(counts)).toEqual({ evalsha: 1 });
    // The session's HMGET, and the one the script runs.
    expect(counts['hmget']).toBe(2);
    expect(await redis.zrange(`mcpgw:quota:{${key}}:c`, '0', '-1')).toEqual(['l1']);
  });

  it('admits a call with its session once, also when the script cache was emptied', async () => {
    const [a] = replicas();
    const key = `quota-${crypto.randomUUID()}`;
    const limits = { requests: { limit: 5, windowSeconds: 60 } };
    await redis.script('FLUSH');

    expect(await a.admitSessionCall(jti(), 'weather', key, limits, 'l1')).toEqual({
      session: { terminated: false },
      admission: { admitted: true },
    });
    expect(await redis.hget(`mcpgw:quota:{${key}}:w`, 'count')).toBe('1');
  });

  it('takes quota keys holding what this store did not write as no calls made', async () => {
    const [a] = replicas();
    const key = `quota-${crypto.randomUUID()}`;
    const windowKey = `mcpgw:quota:{${key}}:w`;
    const leasesKey = `mcpgw:quota:{${key}}:c`;
    const limits = { requests: { limit: 1, windowSeconds: 60 }, concurrent: { limit: 1, leaseSeconds: 30 } };
    const foreign: [string, () => Promise<unknown>][] = [
      ['a string window', () => redis.set(windowKey, '7')],
      ['a window without its end', () => redis.hset(windowKey, 'count', '7')],
      [
        'a window whose count is not a number',
        () => redis.hset(windowKey, 'count', 'many', 'ends', Date.now() + 60_000),
      ],
      ['a string lease set', () => redis.set(leasesKey, 'l0')],
      ['a hash lease set', () => redis.hset(leasesKey, 'l0', '1')],
    ];

    for (const [what, write] of foreign) {
      await redis.del(windowKey, leasesKey);
      await write();
      expect(await a.admitCall(key, limits, 'l1'), what).toEqual({ admitted: true });
      await a.releaseCall(key, 'l1');
      expect(await a.admitCall(key, limits, 'l2'), what).toMatchObject({ admitted: false, reason: 'requests' });
    }
    await redis.del(windowKey);
    await redis.set(leasesKey, 'l0');
    await expect(a.releaseCall(key, 'l0')).resolves.toBeUndefined();
  });

  it('admits exactly the limit across three replicas calling at once', async () => {
    const third = await connectRedis(server.url);
    try {
      const [a, b] = replicas();
      const c = createRedisSessionStore({ redis: third });
      const stores = [a, b, c];
      const calls = (key: string, limits: CallLimits) =>
        Promise.all(Array.from({ length: 10 }, (_, i) => stores[i % 3]!.admitCall(key, limits, `l${i}`)));

      const byRequests = await calls(`quota-${crypto.randomUUID()}`, { requests: { limit: 5, windowSeconds: 60 } });
      expect(byRequests.filter((admission) => admission.admitted)).toHaveLength(5);
      expect(byRequests.filter((admission) => !admission.admitted && admission.reason === 'requests')).toHaveLength(5);

      const byConcurrency = await calls(`quota-${crypto.randomUUID()}`, { concurrent: { limit: 3, leaseSeconds: 30 } });
      expect(byConcurrency.filter((admission) => admission.admitted)).toHaveLength(3);
      expect(
        byConcurrency.filter((admission) => !admission.admitted && admission.reason === 'concurrent'),
      ).toHaveLength(7);
    } finally {
      await third.quit();
    }
  });

  it('stores a server whose name starts with ~ apart from the reserved fields', async () => {
    const [a] = replicas();
    const id = jti();
    await a.ensureBackendSession(id, '~terminated', HOUR, async () => 'b1');

    expect(await a.lookup(id, '~terminated')).toEqual({ terminated: false, backendSessionId: 'b1' });
    expect(await a.backendSessions(id)).toEqual({ '~terminated': 'b1' });
    expect(await a.terminate(id, HOUR)).toEqual({ '~terminated': 'b1' });
  });

  it("keeps an owner's credentials in one hash that lives as long as the longest of them, one command per call", async () => {
    const [a] = replicas();
    const owner = crypto.randomUUID().replaceAll('-', '');
    const key = `mcpgw:cred:${owner}`;
    // Loads the scripts (the first EVALSHA after a start is NOSCRIPT, then EVAL) outside the count.
    await a.writeCredential(`${owner}-warm`, 'tracker', 'sealed', 1);
    await a.deleteCredential(`${owner}-warm`, 'tracker');
    await redis.config('RESETSTAT');

    await a.writeCredential(owner, 'tracker', 'sealed-t', 60);
    expect(clientCommands(await commandCounts(redis))).toEqual({ evalsha: 1 });
    const first = await redis.pttl(key);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(60_000);

    await a.writeCredential(owner, 'wiki', 'sealed-w', 600);
    expect(await redis.pttl(key)).toBeGreaterThan(60_000);
    await a.writeCredential(owner, 'tracker', 'sealed-t2', 10);
    expect(await redis.pttl(key)).toBeGreaterThan(60_000);
    expect(await redis.hkeys(key)).toEqual(['tracker', 'wiki']);

    await redis.config('RESETSTAT');
    expect(await a.readCredential(owner, 'tracker')).toBe('sealed-t2');
    expect(await commandCounts(redis)).toEqual({ hget: 1 });
    await redis.config('RESETSTAT');
    expect(await a.listCredentials(owner)).toEqual({ tracker: 'sealed-t2', wiki: 'sealed-w' });
    expect(await commandCounts(redis)).toEqual({ hgetall: 1 });
    await redis.config('RESETSTAT');
    expect(await a.deleteCredential(owner, 'tracker')).toBe(true);
    expect(clientCommands(await commandCounts(redis))).toEqual({ evalsha: 1 });
    expect(await redis.hkeys(key)).toEqual(['wiki']);
  });

  it('keeps a grant under mcpgw:grant:<id> with the TTL given and takes it with one GETDEL', async () => {
    const [a] = replicas();
    const id = `te:${crypto.randomUUID()}`;
    await redis.config('RESETSTAT');

    await a.putGrant(id, '{"owner":"o1"}', 120);
    expect(await commandCounts(redis)).toEqual({ set: 1 });
    const ttl = await redis.pttl(`mcpgw:grant:${id}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(120_000);

    await redis.config('RESETSTAT');
    expect(await a.takeGrant(id)).toBe('{"owner":"o1"}');
    expect(await commandCounts(redis)).toEqual({ getdel: 1 });
    expect(await redis.exists(`mcpgw:grant:${id}`)).toBe(0);
  });

  it('sends nothing to Redis for a credential or a grant out of bounds', async () => {
    const [a] = replicas();
    await redis.config('RESETSTAT');

    await expect(a.writeCredential('o'.repeat(65), 'tracker', 'sealed', 60)).rejects.toMatchObject({
      code: 'INVALID_PARAMS',
    });
    await expect(a.writeCredential('o1', 'tracker', 'x'.repeat(24 * 1024 + 1), 60)).rejects.toMatchObject({
      code: 'INVALID_PARAMS',
    });
    await expect(a.putGrant('te:1', 'x'.repeat(16 * 1024 + 1), 60)).rejects.toMatchObject({ code: 'INVALID_PARAMS' });
    await expect(a.putGrant('te:1', 'x', 0)).rejects.toMatchObject({ code: 'INVALID_PARAMS' });

    expect(await commandCounts(redis)).toEqual({});
  });

  it('reads credential and grant keys holding what this store did not write as none, and replaces them on write', async () => {
    const [a] = replicas();
    const owner = crypto.randomUUID().replaceAll('-', '');
    const key = `mcpgw:cred:${owner}`;
    const id = `te:${crypto.randomUUID()}`;

    await redis.hset(key, 'tracker', 'sealed-without-expiry', 'wiki', 'x:sealed');
    expect(await a.readCredential(owner, 'tracker')).toBeUndefined();
    expect(await a.listCredentials(owner)).toEqual({});
    expect(await a.deleteCredential(owner, 'tracker')).toBe(false);
    await redis.del(key);
    await redis.set(key, 'a string');
    expect(await a.readCredential(owner, 'tracker')).toBeUndefined();
    expect(await a.listCredentials(owner)).toEqual({});
    expect(await a.deleteCredential(owner, 'tracker')).toBe(false);
    await a.writeCredential(owner, 'tracker', 'sealed', 60);
    expect(await a.readCredential(owner, 'tracker')).toBe('sealed');

    await redis.hset(`mcpgw:grant:${id}`, 'value', 'x');
    expect(await a.takeGrant(id)).toBeUndefined();
    await redis.del(`mcpgw:grant:${id}`);
    await redis.set(`mcpgw:grant:${id}`, 'no expiry');
    expect(await a.takeGrant(id)).toBeUndefined();
  });

  it('shares credentials between replicas, and gives a grant taken on two replicas at once to one of them', async () => {
    const [a, b] = replicas();
    const owner = crypto.randomUUID().replaceAll('-', '');
    const id = `te:${crypto.randomUUID()}`;

    await a.writeCredential(owner, 'tracker', 'sealed', 60);
    expect(await b.readCredential(owner, 'tracker')).toBe('sealed');
    expect(await b.deleteCredential(owner, 'tracker')).toBe(true);
    expect(await a.readCredential(owner, 'tracker')).toBeUndefined();

    await a.putGrant(id, 'once', 120);
    const taken = await Promise.all([a.takeGrant(id), b.takeGrant(id)]);
    expect(taken.filter((value) => value !== undefined)).toEqual(['once']);
  });
});

describe('createRedisSessionStore while Redis is down', () => {
  let own: RunningRedis;
  let client: Redis;

  beforeAll(async () => {
    own = await startRedis();
    client = await connectRedis(own.url, { maxReconnectDelayMs: 200 });
  });
  afterAll(async () => {
    client?.disconnect();
    await own?.stop();
  });

  it('rejects with STORE_UNAVAILABLE and works again once Redis is back', async () => {
    const store = createRedisSessionStore({ redis: client });
    const id = `jti-${crypto.randomUUID()}`;
    await store.ensureBackendSession(id, 'weather', HOUR, async () => 'b1');
    await own.stop();

    const create = vi.fn(async () => 'b2');
    const pending = { jti: id, server: 'weather', backendSessionId: 'b1', upstreamId: 1 };
    const outcomes = await Promise.allSettled([
      store.lookup(id, 'weather'),
      store.ensureBackendSession(id, 'news', HOUR, create),
      store.dropBackendSession(id, 'weather', 'b1'),
      store.terminate(id, HOUR),
      store.putPending('g-1', pending, HOUR),
      store.takePending('g-1'),
      store.backendSessions(id),
      store.readSelection(`owner-${id}`),
      store.writeSelection(`owner-${id}`, ['weather_get'], HOUR),
      store.writeSelection(`owner-${id}`, [], HOUR),
      store.admitCall(`quota-${id}`, { requests: { limit: 1, windowSeconds: 60 } }, 'l1'),
      store.releaseCall(`quota-${id}`, 'l1'),
    ]);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const reason = (outcome as PromiseRejectedResult).reason as { code?: string; message?: string };
      expect(reason.code).toBe('STORE_UNAVAILABLE');
      expect(reason.message).toMatch(/^session store \(Redis\) unavailable: /);
    }
    expect(create).not.toHaveBeenCalled();

    await own.restart();
    await vi.waitFor(() => expect(store.lookup(id, 'weather')).resolves.toEqual({ terminated: false }), {
      timeout: 10_000,
      interval: 50,
    });
    expect(await store.ensureBackendSession(id, 'weather', HOUR, async () => 'b3')).toBe('b3');
    await store.close();
  });
});
