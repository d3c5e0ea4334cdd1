import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.ts';
import { createMemorySessionStore } from '../store/memory-session-store.ts';
import { createMemoryNotificationBus, type NotificationBus } from '../store/notification-bus.ts';
import { runSessionStoreCase } from '../store/session-store.case.ts';
import type { SessionStore } from '../store/session-store.ts';
import { NO_METRICS, type GatewayMetrics, type StoreOperation } from './gateway-metrics.ts';
import { createMeasuredNotificationBus, createMeasuredSessionStore } from './measured-store.ts';

interface StoreFact {
  operation: StoreOperation;
  ok: boolean;
  seconds: number;
}

/** A GatewayMetrics that keeps the store facts it is given. */
function recordingMetrics(): GatewayMetrics & { facts: StoreFact[] } {
  const facts: StoreFact[] = [];
  return {
    ...NO_METRICS,
    facts,
    storeOperation: (operation, ok, seconds) => facts.push({ operation, ok, seconds }),
  };
}

const unavailable = () => new GatewayError('STORE_UNAVAILABLE', 'session store (Redis) unavailable: connection lost');

/**
 * A store whose every operation rejects as a Redis store does when Redis goes away. A stand-in:
 * a real store cannot be made to fail one operation on demand in a unit test (the Redis suite
 * stops a real redis-server for that).
 */
function failingStore(error: unknown): SessionStore {
  const fail = () => Promise.reject(error);
  return {
    lookup: fail,
    ensureBackendSession: fail,
    dropBackendSession: fail,
    terminate: fail,
    putPending: fail,
    takePending: fail,
    backendSessions: fail,
    readSelection: fail,
    writeSelection: fail,
    admitCall: fail,
    admitSessionCall: fail,
    releaseCall: fail,
    readPins: fail,
    writePins: fail,
    readCredential: fail,
    writeCredential: fail,
    deleteCredential: fail,
    listCredentials: fail,
    putGrant: fail,
    takeGrant: fail,
    close: () => Promise.resolve(),
  };
}

const pending = { jti: 'j1', server: 'weather', backendSessionId: 'b1', upstreamId: 7 };

describe('createMeasuredSessionStore', () => {
  describe('keeps the behaviour of the store it wraps', () => {
    runSessionStoreCase(({ now }) => createMeasuredSessionStore(createMemorySessionStore({ now }), NO_METRICS));
  });

  it('reports each operation of a real store as ok, with its time, and passes its result on', async () => {
    const metrics = recordingMetrics();
    const store = createMeasuredSessionStore(createMemorySessionStore(), metrics);

    expect(await store.ensureBackendSession('j1', 'weather', 60, async () => 'b1')).toBe('b1');
    expect(await store.lookup('j1', 'weather')).toEqual({ terminated: false, backendSessionId: 'b1' });
    expect(await store.backendSessions('j1')).toEqual({ weather: 'b1' });
    await store.writeSelection('owner-1', ['weather_get'], 60);
    expect(await store.readSelection('owner-1')).toEqual(['weather_get']);
    const oneAtOnce = { concurrent: { limit: 1, leaseSeconds: 30 } };
    expect(await store.admitCall('quota-1', oneAtOnce, 'l1')).toEqual({ admitted: true });
    expect(await store.admitCall('quota-1', oneAtOnce, 'l2')).toMatchObject({ admitted: false });
    await store.releaseCall('quota-1', 'l1');
    expect(await store.admitSessionCall('j1', 'weather', 'quota-1', oneAtOnce, 'l3')).toEqual({
      session: { terminated: false, backendSessionId: 'b1' },
      admission: { admitted: true },
    });
    const pins = { revision: 1, tools: {}, quarantined: {} };
    expect(await store.writePins('files', pins)).toBe(true);
    expect(await store.readPins('files')).toEqual(pins);
    await store.putPending('g-1', pending, 60);
    expect(await store.takePending('g-1')).toEqual(pending);
    await store.writeCredential('owner-1', 'tracker', 'sealed', 60);
    expect(await store.readCredential('owner-1', 'tracker')).toBe('sealed');
    expect(await store.listCredentials('owner-1')).toEqual({ tracker: 'sealed' });
    expect(await store.deleteCredential('owner-1', 'tracker')).toBe(true);
    await store.putGrant('te:1', 'grant', 60);
    expect(await store.takeGrant('te:1')).toBe('grant');
    await store.dropBackendSession('j1', 'weather', 'b1');
    expect(await store.terminate('j1', 60)).toEqual({});
    await store.close();

    expect(metrics.facts.map(({ operation, ok }) => [operation, ok])).toEqual([
      ['ensureBackendSession', true],
      ['lookup', true],
      ['backendSessions', true],
      ['writeSelection', true],
      ['readSelection', true],
      ['admitCall', true],
      ['admitCall', true],
      ['releaseCall', true],
      ['admitSessionCall', true],
      ['writePins', true],
      ['readPins', true],
      ['putPending', true],
      ['takePending', true],
      ['writeCredential', true],
      ['readCredential', true],
      ['listCredentials', true],
      ['deleteCredential', true],
      ['putGrant', true],
      ['takeGrant', true],
      ['dropBackendSession', true],
      ['terminate', true],
    ]);
    for (const { seconds } of metrics.facts) expect(seconds).toBeGreaterThanOrEqual(0);
  });

  it('rejects with the very error the store rejected with, and reports the operation as failed', async () => {
    const metrics = recordingMetrics();
    const error = unavailable();
    const store = createMeasuredSessionStore(failingStore(error), metrics);

    const attempts: [StoreOperation, Promise<unknown>][] = [
      ['lookup', store.lookup('j1', 'weather')],
      ['ensureBackendSession', store.ensureBackendSession('j1', 'weather', 60, async () => 'b1')],
      ['dropBackendSession', store.dropBackendSession('j1', 'weather', 'b1')],
      ['terminate', store.terminate('j1', 60)],
      ['putPending', store.putPending('g-1', pending, 60)],
      ['takePending', store.takePending('g-1')],
      ['backendSessions', store.backendSessions('j1')],
      ['readSelection', store.readSelection('owner-1')],
      ['writeSelection', store.writeSelection('owner-1', ['weather_get'], 60)],
      ['admitCall', store.admitCall('quota-1', { requests: { limit: 1, windowSeconds: 60 } }, 'l1')],
      [
        'admitSessionCall',
        store.admitSessionCall('j1', 'weather', 'quota-1', { requests: { limit: 1, windowSeconds: 60 } }, 'l1'),
      ],
      ['releaseCall', store.releaseCall('quota-1', 'l1')],
      ['readPins', store.readPins('files')],
      ['writePins', store.writePins('files', { revision: 1, tools: {}, quarantined: {} })],
      ['readCredential', store.readCredential('owner-1', 'tracker')],
      ['writeCredential', store.writeCredential('owner-1', 'tracker', 'sealed', 60)],
      ['deleteCredential', store.deleteCredential('owner-1', 'tracker')],
      ['listCredentials', store.listCredentials('owner-1')],
      ['putGrant', store.putGrant('te:1', 'grant', 60)],
      ['takeGrant', store.takeGrant('te:1')],
    ];
    for (const [, attempt] of attempts) await expect(attempt).rejects.toBe(error);

    expect(metrics.facts.map(({ operation, ok }) => [operation, ok])).toEqual(
      attempts.map(([operation]) => [operation, false]),
    );
  });

  it("leaves the caller's create out of the time of ensureBackendSession", async () => {
    const metrics = recordingMetrics();
    const store = createMeasuredSessionStore(createMemorySessionStore(), metrics);

    await store.ensureBackendSession('j1', 'weather', 60, async () => {
      await sleep(100);
      return 'b1';
    });

    expect(metrics.facts).toHaveLength(1);
    expect(metrics.facts[0]!.operation).toBe('ensureBackendSession');
    expect(metrics.facts[0]!.seconds).toBeLessThan(0.05);
  });

  it("does not count create's error as a store error, for its caller and for a caller sharing the creation", async () => {
    const metrics = recordingMetrics();
    const store = createMeasuredSessionStore(createMemorySessionStore(), metrics);
    const refused = new GatewayError('UPSTREAM_UNAVAILABLE', 'could not open a session on upstream weather');
    const create = async () => {
      await sleep(10);
      throw refused;
    };

    const first = store.ensureBackendSession('j1', 'weather', 60, create);
    const second = store.ensureBackendSession('j1', 'weather', 60, create);
    await expect(first).rejects.toBe(refused);
    await expect(second).rejects.toBe(refused);

    expect(metrics.facts.map(({ operation, ok }) => [operation, ok])).toEqual([
      ['ensureBackendSession', true],
      ['ensureBackendSession', true],
    ]);
  });
});

describe('createMeasuredNotificationBus', () => {
  it('reports each publish, passes its count on, and passes subscriptions through', async () => {
    const metrics = recordingMetrics();
    const bus = createMeasuredNotificationBus(createMemoryNotificationBus(), metrics);
    const received: unknown[] = [];
    const stop = bus.subscribe('session:j1', (message) => received.push(message));
    await bus.settled();

    expect(await bus.publish('session:j1', { hello: 1 })).toBe(1);
    stop();
    expect(await bus.publish('session:j1', { hello: 2 })).toBe(0);
    await bus.close();

    expect(received).toEqual([{ hello: 1 }]);
    expect(metrics.facts.map(({ operation, ok }) => [operation, ok])).toEqual([
      ['publish', true],
      ['publish', true],
    ]);
  });

  it('rejects a failed publish with its own error and reports it as failed', async () => {
    const metrics = recordingMetrics();
    const error = unavailable();
    // A stand-in for a Redis bus whose PUBLISH fails: a fault no real bus produces on demand here.
    const failing: NotificationBus = { ...createMemoryNotificationBus(), publish: () => Promise.reject(error) };
    const bus = createMeasuredNotificationBus(failing, metrics);

    await expect(bus.publish('session:j1', {})).rejects.toBe(error);
    expect(metrics.facts.map(({ operation, ok }) => [operation, ok])).toEqual([['publish', false]]);
  });
});
