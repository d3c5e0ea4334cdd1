import {
  BROADCAST_TOPIC,
  createMeasuredNotificationBus,
  createMeasuredSessionStore,
  createMemoryNotificationBus,
  createSplitNotificationBus,
  isGatewayError,
  type GatewayMetrics,
  type Logger,
  type NotificationBus,
  type SessionStore,
} from '@mcp-gateway/core';
import {
  connectRedis,
  createRedisNotificationBus,
  createRedisSessionStore,
  describeRedisEndpoint,
  parseRedisUrl,
} from '@mcp-gateway/core/redis';

/** The store and bus replicas share through Redis, and how to let go of them. */
export interface SharedState {
  store: SessionStore;
  bus: NotificationBus;
  /** Closes the three Redis connections (after the gateway closed the store and the bus). */
  close(): Promise<void>;
}

/**
 * Connects the Redis behind CACHE_CONNECTION_STRING: one connection for the session store, one
 * for PUBLISH, one for SUBSCRIBE. Session-scoped topics go through Redis (the client's stream may
 * be on any replica); BROADCAST_TOPIC stays in process, since every replica watches its own
 * upstreams and tells its own clients. When Redis is unreachable the gateway starts anyway: the
 * connections keep retrying and requests that need the store answer 503 STORE_UNAVAILABLE.
 * With `metrics`, every store operation and every PUBLISH is timed there (in-process topics are not).
 * @throws Error naming CACHE_CONNECTION_STRING when the URL is malformed.
 */
export async function connectSharedState(url: string, logger: Logger, metrics?: GatewayMetrics): Promise<SharedState> {
  let where: string;
  try {
    where = describeRedisEndpoint(parseRedisUrl(url));
  } catch (error) {
    if (isGatewayError(error)) throw new Error(`CACHE_CONNECTION_STRING: ${error.message}`, { cause: error });
    throw error;
  }
  const connect = (connectionName: string) => connectRedis(url, { logger, connectionName, requireConnection: false });
  const [redis, publisher, subscriber] = await Promise.all([
    connect('mcpgw-store'),
    connect('mcpgw-publish'),
    connect('mcpgw-subscribe'),
  ]);
  if (redis.status !== 'ready') {
    logger.error('session store (Redis) unreachable at start-up: starting anyway and reconnecting in the background', {
      redis: where,
    });
  } else {
    logger.info('session store (Redis) connected', { redis: where });
  }
  const redisStore = createRedisSessionStore({ redis });
  const redisBus = createRedisNotificationBus({ publisher, subscriber, logger });
  const store = metrics === undefined ? redisStore : createMeasuredSessionStore(redisStore, metrics);
  const bus = createSplitNotificationBus({
    local: createMemoryNotificationBus(),
    shared: metrics === undefined ? redisBus : createMeasuredNotificationBus(redisBus, metrics),
    isShared: (topic) => topic !== BROADCAST_TOPIC,
  });
  return {
    store,
    bus,
    async close() {
      await Promise.allSettled(
        [redis, publisher, subscriber].map((connection) =>
          connection.status === 'ready' ? connection.quit() : Promise.resolve(connection.disconnect()),
        ),
      );
    },
  };
}
