import type { BusMessage, NotificationBus } from './notification-bus.ts';

/** Options of `createSplitNotificationBus`. */
export interface SplitNotificationBusOptions {
  /** Carries the topics that stay in this process. */
  local: NotificationBus;
  /** Carries the topics every replica must see (Redis pub/sub, say). */
  shared: NotificationBus;
  /** True for a topic that goes through `shared`; the rest go through `local`. */
  isShared(topic: string): boolean;
}

/**
 * A NotificationBus that sends some topics across replicas and keeps the others in process.
 * The gateway shares session-scoped topics (a session's client stream may be on any replica)
 * and keeps BROADCAST_TOPIC local: each replica watches its own upstreams and tells its own
 * clients, so sending list_changed through Redis would deliver it once per replica.
 * `close()` closes both buses.
 */
export function createSplitNotificationBus(options: SplitNotificationBusOptions): NotificationBus {
  const { local, shared, isShared } = options;
  const busFor = (topic: string) => (isShared(topic) ? shared : local);
  return {
    publish(topic: string, message: BusMessage) {
      return busFor(topic).publish(topic, message);
    },
    subscribe(topic, listener) {
      return busFor(topic).subscribe(topic, listener);
    },
    async settled() {
      await Promise.all([local.settled(), shared.settled()]);
    },
    async close() {
      await Promise.all([local.close(), shared.close()]);
    },
  };
}
