import type { Redis } from 'ioredis';
import { NOOP_LOGGER, type Logger } from '../logger.ts';
import type { BusMessage, NotificationBus } from '../store/notification-bus.ts';
import { orUnavailable } from './redis-errors.ts';

/** Prefix of the pub/sub channels, followed by the topic (`session:<jti>` or `broadcast`). */
export const DEFAULT_REDIS_CHANNEL_PREFIX = 'mcpgw:bus:';

/** Options of `createRedisNotificationBus`. */
export interface RedisNotificationBusOptions {
  /** Any connection (the store's may be reused); PUBLISH only. */
  publisher: Redis;
  /** A connection of its own: once subscribed, Redis reserves it for pub/sub. */
  subscriber: Redis;
  /** Default DEFAULT_REDIS_CHANNEL_PREFIX. */
  channelPrefix?: string;
  /** Receives dropped messages and failed (re)subscriptions. Default: silent. */
  logger?: Logger;
}

/** The Redis NotificationBus, plus a way to know when subscriptions are in force. */
export interface RedisNotificationBus extends NotificationBus {
  /**
   * Resolves once every SUBSCRIBE/UNSUBSCRIBE issued so far has been acknowledged by Redis:
   * from then on, messages published anywhere on those topics arrive here.
   * @throws GatewayError STORE_UNAVAILABLE when one of them failed (it is retried on reconnect).
   */
  subscribed(): Promise<void>;
}

type Listener = (message: BusMessage) => void;

/**
 * Delivers notifications across replicas with Redis PUBLISH/SUBSCRIBE: one channel per topic,
 * JSON messages, one Redis subscription per topic however many local listeners it has.
 * Delivery is at most once: a replica that is disconnected when a message is published misses
 * it. After a reconnect every topic with listeners is subscribed again.
 * @see https://redis.io/docs/latest/develop/interact/pubsub/
 */
export function createRedisNotificationBus(options: RedisNotificationBusOptions): RedisNotificationBus {
  const { publisher, subscriber } = options;
  const prefix = options.channelPrefix ?? DEFAULT_REDIS_CHANNEL_PREFIX;
  const logger = options.logger ?? NOOP_LOGGER;
  const listeners = new Map<string, Set<Listener>>();
  const inFlight = new Set<Promise<void>>();
  // Channels with listeners whose last SUBSCRIBE failed, and why; retried when the subscriber is ready again.
  const failing = new Map<string, Error>();

  /** Sends SUBSCRIBE or UNSUBSCRIBE; a failure is logged here and reported by subscribed(). */
  function track(verb: 'subscribe' | 'unsubscribe', channels: string[]): void {
    if (channels.length === 0) return;
    const command = verb === 'subscribe' ? subscriber.subscribe(...channels) : subscriber.unsubscribe(...channels);
    const settled = orUnavailable('notification bus', command).then(() => undefined);
    inFlight.add(settled);
    settled.then(
      () => {
        inFlight.delete(settled);
        for (const channel of channels) failing.delete(channel);
      },
      (error: Error) => {
        inFlight.delete(settled);
        for (const channel of channels) {
          if (verb === 'subscribe' && listeners.has(channel)) failing.set(channel, error);
          else failing.delete(channel);
        }
        logger.warn(`notification bus: ${verb} failed`, { channels, error: error.message });
      },
    );
  }

  function onMessage(channel: string, text: string): void {
    const topicListeners = listeners.get(channel);
    if (topicListeners === undefined) return;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      logger.warn('notification bus: dropped a message that is not JSON', { channel });
      return;
    }
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      logger.warn('notification bus: dropped a message that is not a JSON object', { channel });
      return;
    }
    for (const listener of [...topicListeners]) {
      try {
        listener(message as BusMessage);
      } catch (error) {
        logger.error('notification bus: a listener threw', { channel, error: String(error) });
      }
    }
  }

  // Covers topics whose SUBSCRIBE failed while Redis was away (ioredis only restores successful ones).
  const onReady = () => track('subscribe', [...listeners.keys()]);
  subscriber.on('message', onMessage);
  subscriber.on('ready', onReady);

  return {
    async publish(topic, message) {
      return orUnavailable('notification bus', publisher.publish(prefix + topic, JSON.stringify(message)));
    },
    subscribe(topic, listener) {
      const channel = prefix + topic;
      let set = listeners.get(channel);
      if (set === undefined) {
        listeners.set(channel, (set = new Set()));
        track('subscribe', [channel]);
      }
      set.add(listener);
      return () => {
        if (!set.delete(listener) || set.size > 0 || listeners.get(channel) !== set) return;
        listeners.delete(channel);
        failing.delete(channel);
        track('unsubscribe', [channel]);
      };
    },
    async subscribed() {
      await Promise.allSettled(inFlight);
      const [failure] = failing.values();
      if (failure !== undefined) throw failure;
    },
    async settled() {
      await Promise.allSettled(inFlight);
    },
    async close() {
      const channels = [...listeners.keys()];
      listeners.clear();
      failing.clear();
      subscriber.off('message', onMessage);
      subscriber.off('ready', onReady);
      track('unsubscribe', channels);
      await Promise.allSettled(inFlight);
    },
  };
}
