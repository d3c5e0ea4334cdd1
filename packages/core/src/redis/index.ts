// `@mcp-gateway/core/redis`: the Node-only Redis adapters of core's SessionStore and
// NotificationBus ports (ioredis). Kept out of core's main entry, which stays web-standard.
export {
  DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
  DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
  DEFAULT_REDIS_MAX_RECONNECT_DELAY_MS,
  connectRedis,
  describeRedisEndpoint,
  parseRedisUrl,
} from './redis-connection.ts';
export type { RedisConnectionOptions, RedisEndpoint } from './redis-connection.ts';
export {
  DEFAULT_REDIS_KEY_PREFIX,
  DEFAULT_REDIS_LOCK_POLL_MS,
  DEFAULT_REDIS_LOCK_TTL_MS,
  createRedisSessionStore,
} from './redis-session-store.ts';
export type { RedisSessionStoreOptions } from './redis-session-store.ts';
export { DEFAULT_REDIS_CHANNEL_PREFIX, createRedisNotificationBus } from './redis-notification-bus.ts';
export type { RedisNotificationBus, RedisNotificationBusOptions } from './redis-notification-bus.ts';
