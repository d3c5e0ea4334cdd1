/** A JSON-RPC notification (or server-to-client request) to deliver on clients' GET streams. */
export type BusMessage = { [key: string]: unknown };

/** Topic that reaches every session's notification stream. */
export const BROADCAST_TOPIC = 'broadcast';

/** Topic of one gateway session (by jti). */
export function sessionTopic(jti: string): string {
  return `session:${jti}`;
}

/**
 * The gateway's own control message on `sessionTopic(jti)`: the session ended (a DELETE on some
 * replica), so every replica closes the client stream it holds for it. It has no `jsonrpc`
 * member and is never forwarded to a client.
 */
export const SESSION_TERMINATED_MESSAGE: BusMessage = { 'gateway/terminated': true };

/** True for SESSION_TERMINATED_MESSAGE (as it arrives after a trip through the bus). */
export function isSessionTerminatedMessage(message: BusMessage): boolean {
  return message['gateway/terminated'] === true;
}

/**
 * Delivers notifications to whichever replica holds a client's GET stream. In memory for the
 * standalone gateway; Redis pub/sub when replicas share a store.
 */
export interface NotificationBus {
  /**
   * Publishes `message` on `topic`; resolves with how many subscribers it reached (listeners in
   * memory, subscribed replicas over Redis): 0 means nobody listens on that topic now.
   */
  publish(topic: string, message: BusMessage): Promise<number>;
  /** Returns a function that ends the subscription. */
  subscribe(topic: string, listener: (message: BusMessage) => void): () => void;
  /**
   * Resolves once the subscriptions made so far are in force: from then on, a message
   * published anywhere on their topics reaches them (Redis acknowledges SUBSCRIBE
   * asynchronously; in memory they are at once).
   */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** The in-process NotificationBus. */
export function createMemoryNotificationBus(): NotificationBus {
  const listeners = new Map<string, Set<(message: BusMessage) => void>>();
  return {
    async publish(topic, message) {
      const reached = [...(listeners.get(topic) ?? [])];
      for (const listener of reached) listener(message);
      return reached.length;
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
    settled: () => Promise.resolve(),
    async close() {
      listeners.clear();
    },
  };
}
