import type { NotificationBus } from '../store/notification-bus.ts';
import type { SessionStore } from '../store/session-store.ts';
import type { GatewayMetrics, StoreOperation } from './gateway-metrics.ts';

/**
 * Reports one settled operation and hands its result on as it came: the same value, or the same
 * rejection. One `then` per call, with `performance.now()` read at the start and the end.
 */
function timed<T>(
  metrics: GatewayMetrics,
  operation: StoreOperation,
  started: number,
  pending: Promise<T>,
): Promise<T> {
  return pending.then(
    (value) => {
      metrics.storeOperation(operation, true, (performance.now() - started) / 1000);
      return value;
    },
    (error: unknown) => {
      metrics.storeOperation(operation, false, (performance.now() - started) / 1000);
      throw error;
    },
  );
}

/**
 * Wraps a SessionStore so that each operation is reported through
 * `metrics.storeOperation(method, ok, seconds)`; results and rejections pass through unchanged
 * (the same objects), and `close` is not reported. A rejection is a store error (`ok` false),
 * except in `ensureBackendSession`, where an error thrown by a `create` callback (the upstream's
 * initialize, passed through by the store) is not the store's: that operation counts as ok. Its
 * time leaves out the caller's own `create`, but includes waiting for another caller's (in this
 * process, or on another replica holding the lock), since that wait is spent in the store.
 * A host wraps its store only when it records metrics; the cost is two `performance.now()`
 * calls and one `then` per operation, plus a closure per `ensureBackendSession` (once per
 * session and upstream).
 * @see docs/observability.md
 */
export function createMeasuredSessionStore(store: SessionStore, metrics: GatewayMetrics): SessionStore {
  // Errors some create callback threw, so that callers sharing one creation (single flight)
  // recognise them too; weak, so nothing is kept once the error is gone.
  const createErrors = new WeakSet<object>();
  return {
    lookup: (jti, server) => timed(metrics, 'lookup', performance.now(), store.lookup(jti, server)),
    ensureBackendSession(jti, server, ttlSeconds, create) {
      const started = performance.now();
      let createSeconds = 0;
      const measuredCreate = async () => {
        const createStarted = performance.now();
        try {
          return await create();
        } catch (error) {
          if (typeof error === 'object' && error !== null) createErrors.add(error);
          throw error;
        } finally {
          createSeconds += performance.now() - createStarted;
        }
      };
      const seconds = () => (performance.now() - started - createSeconds) / 1000;
      return store.ensureBackendSession(jti, server, ttlSeconds, measuredCreate).then(
        (id) => {
          metrics.storeOperation('ensureBackendSession', true, seconds());
          return id;
        },
        (error: unknown) => {
          const fromCreate = typeof error === 'object' && error !== null && createErrors.has(error);
          metrics.storeOperation('ensureBackendSession', fromCreate, seconds());
          throw error;
        },
      );
    },
    dropBackendSession: (jti, server, backendSessionId) =>
      timed(metrics, 'dropBackendSession', performance.now(), store.dropBackendSession(jti, server, backendSessionId)),
    terminate: (jti, ttlSeconds) => timed(metrics, 'terminate', performance.now(), store.terminate(jti, ttlSeconds)),
    putPending: (id, entry, ttlSeconds) =>
      timed(metrics, 'putPending', performance.now(), store.putPending(id, entry, ttlSeconds)),
    takePending: (id) => timed(metrics, 'takePending', performance.now(), store.takePending(id)),
    backendSessions: (jti) => timed(metrics, 'backendSessions', performance.now(), store.backendSessions(jti)),
    readSelection: (owner) => timed(metrics, 'readSelection', performance.now(), store.readSelection(owner)),
    writeSelection: (owner, tools, ttlSeconds) =>
      timed(metrics, 'writeSelection', performance.now(), store.writeSelection(owner, tools, ttlSeconds)),
    admitCall: (key, limits, lease) =>
      timed(metrics, 'admitCall', performance.now(), store.admitCall(key, limits, lease)),
    admitSessionCall: (jti, server, key, limits, lease) =>
      timed(metrics, 'admitSessionCall', performance.now(), store.admitSessionCall(jti, server, key, limits, lease)),
    releaseCall: (key, lease) => timed(metrics, 'releaseCall', performance.now(), store.releaseCall(key, lease)),
    readPins: (server) => timed(metrics, 'readPins', performance.now(), store.readPins(server)),
    writePins: (server, record) => timed(metrics, 'writePins', performance.now(), store.writePins(server, record)),
    readCredential: (owner, server) =>
      timed(metrics, 'readCredential', performance.now(), store.readCredential(owner, server)),
    writeCredential: (owner, server, sealed, ttlSeconds) =>
      timed(metrics, 'writeCredential', performance.now(), store.writeCredential(owner, server, sealed, ttlSeconds)),
    deleteCredential: (owner, server) =>
      timed(metrics, 'deleteCredential', performance.now(), store.deleteCredential(owner, server)),
    listCredentials: (owner) => timed(metrics, 'listCredentials', performance.now(), store.listCredentials(owner)),
    putGrant: (id, value, ttlSeconds) =>
      timed(metrics, 'putGrant', performance.now(), store.putGrant(id, value, ttlSeconds)),
    takeGrant: (id) => timed(metrics, 'takeGrant', performance.now(), store.takeGrant(id)),
    close: () => store.close(),
  };
}

/**
 * Wraps a NotificationBus so that each `publish` is reported as the `publish` store operation
 * (a rejection as an error); the rest passes through. Meant for a bus that leaves the process
 * (Redis pub/sub): an in-memory bus has no latency worth a series.
 * @see docs/observability.md
 */
export function createMeasuredNotificationBus(bus: NotificationBus, metrics: GatewayMetrics): NotificationBus {
  return {
    publish: (topic, message) => timed(metrics, 'publish', performance.now(), bus.publish(topic, message)),
    subscribe: (topic, listener) => bus.subscribe(topic, listener),
    settled: () => bus.settled(),
    close: () => bus.close(),
  };
}
