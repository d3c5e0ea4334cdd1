import type { BusMessage, NotificationBus } from '@mcp-gateway/core';

/** How often a subscriber looks for messages published from other requests. */
export const DEFAULT_BUS_POLL_MS = 20;

/** Options of `createRequestSafeNotificationBus`. */
export interface RequestSafeBusOptions {
  /** Default DEFAULT_BUS_POLL_MS. */
  pollMs?: number;
}

/**
 * The isolate's NotificationBus in workerd. A listener belongs to the request that subscribed
 * (a client's GET stream) and touches that request's I/O objects: its stream, its upstream
 * fetches. workerd refuses such I/O from another request's handler, so `publish` only queues the
 * message; each subscription drains its queue on a timer of its own request, which runs the
 * listener in the right context. Delivery is delayed by at most `pollMs`. Reaches the
 * subscriptions of this isolate only.
 */
export function createRequestSafeNotificationBus(options: RequestSafeBusOptions = {}): NotificationBus {
  const pollMs = options.pollMs ?? DEFAULT_BUS_POLL_MS;
  const queues = new Map<string, Set<BusMessage[]>>();

  return {
    async publish(topic, message) {
      const reached = [...(queues.get(topic) ?? [])];
      for (const queue of reached) queue.push(message);
      return reached.length;
    },
    settled: () => Promise.resolve(),
    subscribe(topic, listener) {
      const queue: BusMessage[] = [];
      let set = queues.get(topic);
      if (set === undefined) queues.set(topic, (set = new Set()));
      set.add(queue);
      // Created while the subscribing request runs, so its ticks run in that request.
      const timer = setInterval(() => {
        for (const message of queue.splice(0)) listener(message);
      }, pollMs);
      return () => {
        clearInterval(timer);
        set.delete(queue);
        if (set.size === 0) queues.delete(topic);
      };
    },
    async close() {
      queues.clear();
    },
  };
}
