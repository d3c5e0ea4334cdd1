import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCallQuotaCase } from './call-quota.case.ts';
import { runCredentialRecordCase } from './credential-record.case.ts';
import { runPinRecordCase } from './pin-record.case.ts';
import type { PendingRequest, SessionStore } from './session-store.ts';
import { MAX_SELECTED_TOOL_NAME_LENGTH, MAX_SELECTED_TOOLS } from './tool-selection.ts';

/** What a SessionStore implementation's test gives the shared suite. */
export interface SessionStoreCaseOptions {
  /** The clock, in ms, the store must use for every TTL; the suite moves it forward. */
  now: () => number;
}

/** Creates a fresh store for one test; the suite closes it afterwards. */
export type SessionStoreFactory = (options: SessionStoreCaseOptions) => SessionStore | Promise<SessionStore>;

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * A `create` callback that signals when it starts and finishes only when the test says so,
 * so that concurrent callers can be lined up behind it.
 */
function gatedCreate() {
  const started = deferred<void>();
  const gate = deferred<string>();
  const create = vi.fn(() => {
    started.resolve();
    return gate.promise;
  });
  return { create, started: started.promise, gate };
}

const HOUR = 3600;

/**
 * The behaviour every SessionStore must show (memory, Redis, Durable Object). Registers the
 * tests in the calling file; `createStore` must build a store whose TTLs follow `now`.
 * @see SessionStore
 */
export function runSessionStoreCase(createStore: SessionStoreFactory): void {
  let time = 0;
  let store: SessionStore;
  // Fresh ids per test, so that shared backends (Redis) never see another test's keys.
  let jti: string;
  let owner: string;
  const now = () => time;

  beforeEach(async () => {
    time = Date.UTC(2026, 0, 1);
    jti = `jti-${crypto.randomUUID()}`;
    owner = `owner-${crypto.randomUUID()}`;
    store = await createStore({ now });
  });

  afterEach(async () => {
    await store.close();
  });

  const pending = (server = 'weather'): PendingRequest => ({ jti, server, backendSessionId: 'b1', upstreamId: 7 });

  describe('lookup', () => {
    it('reports an unknown session as not terminated and without a backend session', async () => {
      expect(await store.lookup(jti)).toEqual({ terminated: false });
      expect(await store.lookup(jti, 'weather')).toEqual({ terminated: false });
    });
  });

  describe('ensureBackendSession', () => {
    it('creates a backend session once and returns the stored id afterwards', async () => {
      const create = vi.fn(async () => 'b1');

      expect(await store.ensureBackendSession(jti, 'weather', HOUR, create)).toBe('b1');
      expect(await store.ensureBackendSession(jti, 'weather', HOUR, async () => 'b2')).toBe('b1');
      expect(create).toHaveBeenCalledTimes(1);
      expect(await store.lookup(jti, 'weather')).toEqual({ terminated: false, backendSessionId: 'b1' });
    });

    it('keeps backend sessions of different servers and different sessions apart', async () => {
      const other = `${jti}-other`;

      await store.ensureBackendSession(jti, 'weather', HOUR, async () => 'w1');
      await store.ensureBackendSession(jti, 'news', HOUR, async () => 'n1');
      await store.ensureBackendSession(other, 'weather', HOUR, async () => 'w2');

      expect(await store.lookup(jti, 'weather')).toEqual({ terminated: false, backendSessionId: 'w1' });
      expect(await store.lookup(jti, 'news')).toEqual({ terminated: false, backendSessionId: 'n1' });
      expect(await store.lookup(other, 'weather')).toEqual({ terminated: false, backendSessionId: 'w2' });
      expect(await store.lookup(other, 'news')).toEqual({ terminated: false });
    });

    it('runs create exactly once for concurrent callers and gives all of them its id', async () => {
      const { create, started, gate } = gatedCreate();

      const calls = Array.from({ length: 5 }, () => store.ensureBackendSession(jti, 'weather', HOUR, create));
      await started;
      gate.resolve('b1');

      expect(await Promise.all(calls)).toEqual(['b1', 'b1', 'b1', 'b1', 'b1']);
      expect(create).toHaveBeenCalledTimes(1);
    });

    it('rejects every waiter when create fails and retries on a later call', async () => {
      const { create, started, gate } = gatedCreate();
      const failure = new Error('upstream refused initialize');

      const calls = Array.from({ length: 3 }, () => store.ensureBackendSession(jti, 'weather', HOUR, create));
      await started;
      gate.reject(failure);

      const settled = await Promise.allSettled(calls);
      expect(settled.map((result) => result.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(create).toHaveBeenCalledTimes(1);
      expect(await store.lookup(jti, 'weather')).toEqual({ terminated: false });

      const retry = vi.fn(async () => 'b2');
      expect(await store.ensureBackendSession(jti, 'weather', HOUR, retry)).toBe('b2');
      expect(retry).toHaveBeenCalledTimes(1);
    });
  });

  describe('dropBackendSession', () => {
    it('drops the backend session only when it is still the given id', async () => {
      await store.ensureBackendSession(jti, 'weather', HOUR, async () => 'b1');

      await store.dropBackendSession(jti, 'weather', 'b0');
      expect(await store.lookup(jti, 'weather')).toEqual({ terminated: false, backendSessionId: 'b1' });

      await store.dropBackendSession(jti, 'weather', 'b1');
      expect(await store.lookup(jti, 'weather')).toEqual({ terminated: false });
    });

    it('lets the next ensureBackendSession create a fresh backend session', async () => {
      await store.ensureBackendSession(jti, 'weather', HOUR, async () => 'b1');
      await store.dropBackendSession(jti, 'weather', 'b1');

      expect(await store.ensureBackendSession(jti, 'weather', HOUR, async () => 'b2')).toBe('b2');
    });

    it('ignores an unknown session', async () => {
      await store.dropBackendSession(jti, 'weather', 'b1');

      expect(await store.lookup(jti, 'weather')).toEqual({ terminated: false });
    });
  });

  describe('terminate', () => {
    it('returns the backend sessions held and marks the session terminated', async () => {
      await store.ensureBackendSession(jti, 'weather', HOUR, async () => 'w1');
      await store.ensureBackendSession(jti, 'news', HOUR, async () => 'n1');

      expect(await store.terminate(jti, HOUR)).toEqual({ weather: 'w1', news: 'n1' });
      expect(await store.lookup(jti)).toEqual({ terminated: true });
      expect(await store.lookup(jti, 'weather')).toEqual({ terminated: true });
      expect(await store.backendSessions(jti)).toEqual({});
    });

    it('marks a session without backend sessions terminated', async () => {
      expect(await store.terminate(jti, HOUR)).toEqual({});
      expect(await store.lookup(jti)).toEqual({ terminated: true });
    });

    it('does not store backend sessions created after the session was terminated', async () => {
      await store.terminate(jti, HOUR);

      await store.ensureBackendSession(jti, 'weather', HOUR, async () => 'b1');

      expect(await store.lookup(jti, 'weather')).toEqual({ terminated: true });
      expect(await store.backendSessions(jti)).toEqual({});
    });

    it('does not store a backend session whose creation finishes after the session was terminated', async () => {
      const { create, started, gate } = gatedCreate();
      const ensuring = store.ensureBackendSession(jti, 'weather', HOUR, create);
      await started;

      expect(await store.terminate(jti, HOUR)).toEqual({});
      gate.resolve('b1');
      await Promise.allSettled([ensuring]);

      expect(await store.lookup(jti, 'weather')).toEqual({ terminated: true });
      expect(await store.backendSessions(jti)).toEqual({});
    });

    it('leaves other sessions alone', async () => {
      const other = `${jti}-other`;
      await store.ensureBackendSession(other, 'weather', HOUR, async () => 'b1');

      await store.terminate(jti, HOUR);

      expect(await store.lookup(other, 'weather')).toEqual({ terminated: false, backendSessionId: 'b1' });
    });
  });

  describe('pending requests', () => {
    it('takes a pending request once', async () => {
      await store.putPending('g-1', pending(), HOUR);

      expect(await store.takePending('g-1')).toEqual(pending());
      expect(await store.takePending('g-1')).toBeUndefined();
    });

    it('returns undefined for an unknown id', async () => {
      expect(await store.takePending('g-unknown')).toBeUndefined();
    });

    it('keeps pending requests apart by id', async () => {
      await store.putPending('g-1', pending('weather'), HOUR);
      await store.putPending('g-2', pending('news'), HOUR);

      expect(await store.takePending('g-2')).toEqual(pending('news'));
      expect(await store.takePending('g-1')).toEqual(pending('weather'));
    });
  });

  describe('backendSessions', () => {
    it('lists the backend sessions a session holds by server', async () => {
      await store.ensureBackendSession(jti, 'weather', HOUR, async () => 'w1');
      await store.ensureBackendSession(jti, 'news', HOUR, async () => 'n1');
      await store.ensureBackendSession(`${jti}-other`, 'maps', HOUR, async () => 'm1');

      expect(await store.backendSessions(jti)).toEqual({ weather: 'w1', news: 'n1' });
    });

    it('lists nothing for an unknown session', async () => {
      expect(await store.backendSessions(jti)).toEqual({});
    });
  });

  describe('tool selections', () => {
    const tools = (count: number, length = 8) =>
      Array.from({ length: count }, (_, i) => `t${i}_`.padEnd(length, 'x').slice(0, length));

    it('reads no selection for an owner that never wrote one', async () => {
      expect(await store.readSelection(owner)).toBeUndefined();
    });

    it('reads back the written tools in the order they were written', async () => {
      await store.writeSelection(owner, ['weather_get', 'news_top', 'maps_route'], HOUR);

      expect(await store.readSelection(owner)).toEqual(['weather_get', 'news_top', 'maps_route']);
    });

    it('clears the selection when an empty list is written', async () => {
      await store.writeSelection(owner, ['weather_get'], HOUR);

      await store.writeSelection(owner, [], HOUR);

      expect(await store.readSelection(owner)).toBeUndefined();
    });

    it('replaces the selection on a second write', async () => {
      await store.writeSelection(owner, ['weather_get', 'news_top'], HOUR);

      await store.writeSelection(owner, ['maps_route'], HOUR);

      expect(await store.readSelection(owner)).toEqual(['maps_route']);
    });

    it('keeps the selections of different owners apart', async () => {
      const other = `jti:${jti}`;
      await store.writeSelection(owner, ['weather_get'], HOUR);
      await store.writeSelection(other, ['news_top'], HOUR);

      await store.writeSelection(owner, [], HOUR);

      expect(await store.readSelection(owner)).toBeUndefined();
      expect(await store.readSelection(other)).toEqual(['news_top']);
    });

    it('keeps a selection apart from the session whose jti is the same string', async () => {
      await store.ensureBackendSession(jti, 'weather', HOUR, async () => 'b1');
      await store.writeSelection(jti, ['weather_get'], HOUR);

      expect(await store.lookup(jti, 'weather')).toEqual({ terminated: false, backendSessionId: 'b1' });
      expect(await store.terminate(jti, HOUR)).toEqual({ weather: 'b1' });
      expect(await store.readSelection(jti)).toEqual(['weather_get']);
    });

    it(`keeps ${MAX_SELECTED_TOOLS} tools of ${MAX_SELECTED_TOOL_NAME_LENGTH} characters`, async () => {
      const most = tools(MAX_SELECTED_TOOLS, MAX_SELECTED_TOOL_NAME_LENGTH);

      await store.writeSelection(owner, most, HOUR);

      expect(await store.readSelection(owner)).toEqual(most);
    });

    it(`refuses more than ${MAX_SELECTED_TOOLS} tools with INVALID_PARAMS and keeps the earlier selection`, async () => {
      await store.writeSelection(owner, ['weather_get'], HOUR);

      await expect(store.writeSelection(owner, tools(MAX_SELECTED_TOOLS + 1), HOUR)).rejects.toMatchObject({
        code: 'INVALID_PARAMS',
        message: expect.stringContaining(`at most ${MAX_SELECTED_TOOLS} tools`),
      });

      expect(await store.readSelection(owner)).toEqual(['weather_get']);
    });

    it(`refuses a tool name longer than ${MAX_SELECTED_TOOL_NAME_LENGTH} characters with INVALID_PARAMS`, async () => {
      const long = 'x'.repeat(MAX_SELECTED_TOOL_NAME_LENGTH + 1);

      await expect(store.writeSelection(owner, ['weather_get', long], HOUR)).rejects.toMatchObject({
        code: 'INVALID_PARAMS',
        message: expect.stringContaining(`at most ${MAX_SELECTED_TOOL_NAME_LENGTH}`),
      });

      expect(await store.readSelection(owner)).toBeUndefined();
    });
  });

  describe('call quotas', () => {
    runCallQuotaCase({ store: () => store, advance: (ms) => (time += ms) });
  });

  describe('pin records', () => {
    runPinRecordCase({ store: () => store, advance: (ms) => (time += ms) });
  });

  describe('user credentials and grants', () => {
    runCredentialRecordCase({ store: () => store, advance: (ms) => (time += ms) });
  });

  describe('expiry', () => {
    it('forgets a backend session once its TTL has passed', async () => {
      await store.ensureBackendSession(jti, 'weather', 10, async () => 'b1');

      time += 9_999;
      expect(await store.lookup(jti, 'weather')).toEqual({ terminated: false, backendSessionId: 'b1' });

      time += 1;
      expect(await store.lookup(jti, 'weather')).toEqual({ terminated: false });
      expect(await store.backendSessions(jti)).toEqual({});
      expect(await store.ensureBackendSession(jti, 'weather', 10, async () => 'b2')).toBe('b2');
    });

    it('forgets the termination once its TTL has passed', async () => {
      await store.terminate(jti, 10);

      time += 9_999;
      expect(await store.lookup(jti)).toEqual({ terminated: true });

      time += 1;
      expect(await store.lookup(jti)).toEqual({ terminated: false });
    });

    it('keeps the termination for its own TTL when backend sessions were stored with a shorter one', async () => {
      await store.ensureBackendSession(jti, 'weather', 10, async () => 'b1');

      await store.terminate(jti, 100);
      time += 50_000;

      expect(await store.lookup(jti)).toEqual({ terminated: true });
    });

    it('forgets a selection once its TTL has passed', async () => {
      await store.writeSelection(owner, ['weather_get'], 10);

      time += 9_999;
      expect(await store.readSelection(owner)).toEqual(['weather_get']);

      time += 1;
      expect(await store.readSelection(owner)).toBeUndefined();
    });

    it('gives a rewritten selection a TTL of its own', async () => {
      await store.writeSelection(owner, ['weather_get'], 10);
      time += 5_000;
      await store.writeSelection(owner, ['news_top'], 10);

      time += 9_999;
      expect(await store.readSelection(owner)).toEqual(['news_top']);

      time += 1;
      expect(await store.readSelection(owner)).toBeUndefined();
    });

    it('forgets a pending request once its TTL has passed', async () => {
      await store.putPending('g-1', pending(), 10);
      await store.putPending('g-2', pending(), 10);

      time += 9_999;
      expect(await store.takePending('g-1')).toEqual(pending());

      time += 1;
      expect(await store.takePending('g-2')).toBeUndefined();
    });
  });
}
