import { createMemorySessionStore, type Logger, type SessionStore } from '@mcp-gateway/core';
import { createDurableSessionStore } from './durable-session-store.ts';
import { createRequestScopedStore, createStoreScope, type StoreScope } from './request-scoped-store.ts';
import type { GatewaySessionObject } from './session-object.ts';

/**
 * How long a request waits for its Redis connection: shorter than on Node, where the connection
 * is opened once, because here every request that needs state opens one.
 */
export const EDGE_REDIS_CONNECT_TIMEOUT_MS = 2_000;

/** The bindings that choose where the worker keeps session state. */
export interface SessionStateEnv {
  /** Redis URL (redis:// or rediss://); when set, Redis holds the state, one connection per request. */
  CACHE_CONNECTION_STRING?: string;
  /** The GatewaySessionObject Durable Object binding (wrangler.toml declares it). */
  GATEWAY_SESSIONS?: DurableObjectNamespace<GatewaySessionObject>;
}

/** Where session state lives, as chosen from the bindings. */
export type SessionState =
  | {
      kind: 'redis';
      store: SessionStore;
      describe: string;
      scope(): StoreScope;
      run<T>(scope: StoreScope, fn: () => T): T;
    }
  | { kind: 'durable-object' | 'memory'; store: SessionStore; describe: string };

/**
 * Chooses the session store from the bindings: Redis when CACHE_CONNECTION_STRING is set (an
 * explicit choice, the same store the Node replicas share), else the Durable Object when
 * GATEWAY_SESSIONS is bound, else isolate memory (a warning: isolates do not share it).
 * @throws Error naming the binding when CACHE_CONNECTION_STRING is not a redis URL.
 */
export function chooseSessionState(env: SessionStateEnv, logger: Logger): SessionState {
  const url = env.CACHE_CONNECTION_STRING?.trim();
  if (url !== undefined && url !== '') {
    const where = checkRedisUrl(url);
    const scoped = createRequestScopedStore();
    return {
      kind: 'redis',
      store: scoped.store,
      describe: `Redis at ${where}, a connection per request`,
      scope: () => openRedisScope(url, logger),
      run: scoped.run,
    };
  }
  if (env.GATEWAY_SESSIONS !== undefined) {
    return {
      kind: 'durable-object',
      store: createDurableSessionStore({ namespace: env.GATEWAY_SESSIONS }),
      describe: 'Durable Object GATEWAY_SESSIONS',
    };
  }
  logger.warn(
    'no GATEWAY_SESSIONS Durable Object binding and no CACHE_CONNECTION_STRING: session state stays in this isolate',
  );
  return { kind: 'memory', store: createMemorySessionStore(), describe: 'isolate memory' };
}

/** The Redis store of one request: ioredis over node:net, connected on first use. */
function openRedisScope(url: string, logger: Logger): StoreScope {
  return createStoreScope(
    async () => {
      // Loaded on first use: isolates that never reach Redis do not evaluate ioredis at start-up.
      const { connectRedis, createRedisSessionStore } = await import('@mcp-gateway/core/redis');
      const redis = await connectRedis(url, {
        connectionName: 'mcpgw-edge',
        connectTimeoutMs: EDGE_REDIS_CONNECT_TIMEOUT_MS,
        logger,
      });
      return { store: createRedisSessionStore({ redis }), handle: redis };
    },
    async (redis) => {
      await redis.quit().catch(() => redis.disconnect());
    },
  );
}

/** `redis://host:port` of a valid URL, for logs (never the credentials). */
function checkRedisUrl(url: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || parsed.host === '') {
    throw new Error(
      'CACHE_CONNECTION_STRING is not a redis:// or rediss:// URL (redis://[[user]:password@]host[:port][/db])',
    );
  }
  return `${parsed.protocol}//${parsed.host}`;
}
