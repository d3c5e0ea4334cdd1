/** A JSON-RPC notification (or server-to-client request) to deliver on clients' GET streams. */
export type BusMessage = { [key: string]: unknown };

/** Topic that reaches every session's notification stream. */
export const BROADCAST_TOPIC = 'broadcast';

/** Topic of one gateway session (by jti). */
export function sessionTopic(jti: string): string {
  return `session:${jti}`;
}

/**
 * Delivers notifications to whichever replica holds a client's GET stream. In memory for the
 * standalone gateway; Redis pub/sub when replicas share a store.
 */
export interface NotificationBus {
  publish(topic: string, message: BusMessage): Promise<void>;
  /** Returns a function that ends the subscription. */
  subscribe(topic: string, listener: (message: BusMessage) => void): () => void;
  close(): Promise<void>;
}

/** The in-process NotificationBus. */
export function createMemoryNotificationBus(): NotificationBus {
  const listeners = new Map<string, Set<(message: BusMessage) => void>>();
  return {
    async publish(topic, message) {
      for (const listener of listeners.get(topic) ?? []) listener(message);
    },
    subscribe(topic, listener) {
      let set = listeners.get(topic);
      if (set === undefined) listeners.set(topic, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(topic);
      };
    },
    async close() {
      listeners.clear();
    },
  };
}
