import { Redis, type RedisOptions } from 'ioredis';
import { GatewayError } from '../errors.ts';
import { NOOP_LOGGER, type Logger } from '../logger.ts';

/** How long `connectRedis` waits for the first connection, and each later connect attempt. */
export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 5_000;
/** A command without a reply after this long fails (a stalled Redis must not hang requests). */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 2_000;
/** Ceiling of the reconnect backoff (50 ms, doubling). */
export const DEFAULT_REDIS_MAX_RECONNECT_DELAY_MS = 2_000;

/** Where and how to connect, from a `redis://` or `rediss://` URL. */
export type RedisEndpoint = Pick<RedisOptions, 'host' | 'port' | 'username' | 'password' | 'db' | 'tls'>;

/** Options of `connectRedis`. */
export interface RedisConnectionOptions {
  /** Default DEFAULT_REDIS_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number;
  /** Default DEFAULT_REDIS_COMMAND_TIMEOUT_MS. */
  commandTimeoutMs?: number;
  /** Default DEFAULT_REDIS_MAX_RECONNECT_DELAY_MS. */
  maxReconnectDelayMs?: number;
  /** Shown by CLIENT LIST, e.g. `mcpgw-store` or `mcpgw-bus`. */
  connectionName?: string;
  /** Receives one warning per outage and a note when the connection is back. Default: silent. */
  logger?: Logger;
  /**
   * Default true: reject when the first connection fails. False: resolve after the first
   * attempt either way and, if it failed, keep reconnecting in the background (commands fail
   * at once until Redis answers; `status` is `'ready'` once it does). For a process that must
   * start, and serve what needs no store, while Redis is down.
   */
  requireConnection?: boolean;
}

const DEFAULT_PORT = 6379;

function invalidUrl(problem: string): GatewayError {
  return new GatewayError(
    'CONFIG_INVALID',
    `Redis URL ${problem}; expected redis://[[user]:password@]host[:port][/db]`,
    {
      expose: false,
    },
  );
}

/**
 * Parses a `redis://` or `rediss://` (TLS) URL with optional user, password and database
 * number. Percent-encoded credentials are decoded.
 * @throws GatewayError CONFIG_INVALID whose message never repeats the password.
 * @see https://www.iana.org/assignments/uri-schemes/prov/redis
 */
export function parseRedisUrl(url: string): RedisEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidUrl('is not a URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw invalidUrl(`has scheme ${parsed.protocol.slice(0, 16)}`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw invalidUrl('has no host');
  const path = parsed.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,5}$/.test(path)) throw invalidUrl('has a database that is not a number');

  const endpoint: RedisEndpoint = {
    host,
    port: parsed.port === '' ? DEFAULT_PORT : Number(parsed.port),
    db: path === '' ? 0 : Number(path),
  };
  if (parsed.username !== '') endpoint.username = decodeURIComponent(parsed.username);
  if (parsed.password !== '') endpoint.password = decodeURIComponent(parsed.password);
  if (parsed.protocol === 'rediss:') endpoint.tls = {};
  return endpoint;
}

/** `redis://host:port/db` for logs and errors: never the credentials. */
export function describeRedisEndpoint(endpoint: RedisEndpoint): string {
  const host = endpoint.host?.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.tls === undefined ? 'redis' : 'rediss'}://${host}:${endpoint.port}/${endpoint.db ?? 0}`;
}

/**
 * Opens an ioredis connection tuned to fail fast: while Redis is unreachable every command
 * rejects at once (no offline queue, no resend of commands in flight when the socket dropped,
 * a command timeout), and the client reconnects in the background with capped exponential
 * backoff, forever. Resolves once the first connection is ready (or, with
 * `requireConnection: false`, once the first attempt is over). The caller owns the connection
 * and closes it with `quit()` (or `disconnect()` while it is down).
 * @throws GatewayError CONFIG_INVALID for a bad URL, STORE_UNAVAILABLE when Redis cannot be
 * reached within the connect timeout (unless `requireConnection` is false).
 */
export async function connectRedis(url: string, options: RedisConnectionOptions = {}): Promise<Redis> {
  const endpoint = parseRedisUrl(url);
  const where = describeRedisEndpoint(endpoint);
  const logger = (options.logger ?? NOOP_LOGGER).child({ redis: where });
  const maxDelay = options.maxReconnectDelayMs ?? DEFAULT_REDIS_MAX_RECONNECT_DELAY_MS;
  const connectTimeout = options.connectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS;

  const redis = new Redis({
    ...endpoint,
    lazyConnect: true,
    enableOfflineQueue: false,
    // 0: commands in flight when the socket closes fail with it instead of waiting for a reconnect.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 16), maxDelay),
    ...(options.connectionName === undefined ? {} : { connectionName: options.connectionName }),
  });

  // Without an 'error' listener ioredis prints every failed reconnect to the console.
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.warn('Redis connection lost; reconnecting in the background', { error: error.message });
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info('Redis connection restored');
  });

  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no connection within ${connectTimeout} ms`)), connectTimeout);
  });
  try {
    await Promise.race([redis.connect(), timeout]);
    return redis;
  } catch (error) {
    if (options.requireConnection === false) return redis;
    redis.disconnect();
    const reason = error instanceof Error ? error.message : String(error);
    throw new GatewayError('STORE_UNAVAILABLE', `Redis at ${where} unreachable: ${reason}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}
