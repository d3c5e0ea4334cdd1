// Three gateway replicas sharing one real redis-server, and a client whose requests rotate
// across them: the shared parts of the replicas suites.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { connectRedis } from '@mcp-gateway/core/redis';
import { decodeJwt } from 'jose';
import { configYaml, waitFor } from '../gateway-calls/helpers.ts';
import {
  startGateway,
  startRedis,
  startSdkUpstream,
  type RunningGateway,
  type RunningRedis,
  type SdkUpstream,
} from '../harness/index.ts';

/** One redis-server, one SDK upstream (prefix `r_`) and three replicas pointed at both. */
export interface Cluster {
  redis: RunningRedis;
  upstream: SdkUpstream;
  replicas: RunningGateway[];
  stop(): Promise<void>;
}

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** Extra CLI arguments for every replica (e.g. `--upstream-timeout`). */
  gatewayArgs?: readonly string[];
}

export async function startCluster(setup: (server: McpServer) => void, options: ClusterOptions = {}): Promise<Cluster> {
  const redis = await startRedis();
  const upstream = await startSdkUpstream({ setup, capabilities: { logging: {} } });
  const replicas: RunningGateway[] = [];
  const stop = async () => {
    await Promise.allSettled(replicas.map((replica) => replica.stop()));
    await upstream.stop();
    await redis.stop();
  };
  try {
    const config = configYaml([{ name: 'rep', url: upstream.url, prefix: 'r_' }]);
    for (let i = 0; i < 3; i++) {
      replicas.push(
        await startGateway({ config, env: { CACHE_CONNECTION_STRING: redis.url }, args: options.gatewayArgs ?? [] }),
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { redis, upstream, replicas, stop };
}

/** Which replica (index) a request goes to; undefined: the next one round-robin. */
export type Route = (request: { method: string; body: string | undefined }) => number | undefined;

/**
 * A fetch for the SDK client transport that sends each request to the next replica in turn
 * (rewriting the origin), unless `route` picks one. `live` lists the replicas still in play.
 */
export interface RotatingFetch {
  fetch: typeof fetch;
  route: Route;
  live: number[];
  /** The replica index of every request sent, in order. */
  readonly sent: { replica: number; method: string; body: string | undefined }[];
}

export function createRotatingFetch(replicas: readonly RunningGateway[]): RotatingFetch {
  let turn = 0;
  const rotating: RotatingFetch = {
    route: () => undefined,
    live: replicas.map((_, index) => index),
    sent: [],
    fetch: async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const method = init?.method ?? 'GET';
      const body = typeof init?.body === 'string' ? init.body : undefined;
      let replica = rotating.route({ method, body });
      if (replica === undefined) replica = rotating.live[turn++ % rotating.live.length]!;
      const target = new URL(replicas[replica]!.url);
      url.host = target.host;
      rotating.sent.push({ replica, method, body });
      return fetch(url, init);
    },
  };
  return rotating;
}

/** A 1.x SDK client on replica 0's URL whose requests go where `rotating` sends them. */
export async function connectRotatingClient(
  cluster: Cluster,
  rotating: RotatingFetch,
  capabilities: ClientCapabilities = {},
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'replicas-client', version: '1.0.0' }, { capabilities });
  const transport = new StreamableHTTPClientTransport(new URL(cluster.replicas[0]!.url), { fetch: rotating.fetch });
  await client.connect(transport);
  return { client, transport };
}

/** The jti inside a gateway session id (a signed token). */
export function jtiOf(sessionId: string | undefined): string {
  const jti = decodeJwt(sessionId ?? '').jti;
  if (jti === undefined) throw new Error('session id carries no jti');
  return jti;
}

/** Waits until `count` Redis connections subscribe to the bus channel of `topic`. */
export async function waitForSubscribers(redis: RunningRedis, topic: string, count = 1): Promise<void> {
  const connection = await connectRedis(redis.url);
  try {
    await waitFor(`${count} subscriber(s) on ${topic}`, async () => {
      const reply = (await connection.call('PUBSUB', 'NUMSUB', `mcpgw:bus:${topic}`)) as [string, number];
      return reply[1] >= count ? true : undefined;
    });
  } finally {
    await connection.quit();
  }
}
