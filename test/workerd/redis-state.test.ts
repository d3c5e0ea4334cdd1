import { connectRedis } from '@mcp-gateway/core/redis';
import type { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startRedis, startSdkUpstream, type RunningRedis, type SdkUpstream } from '../harness/index.ts';
import { readRpcMessage } from './read-rpc-message.ts';
import { PROTOCOL_VERSION, startWorker, type RunningWorker } from './start-worker.ts';

function echoCall(id: number, text: string) {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'r_echo', arguments: { text } } };
}

/** Connections the worker holds open on Redis right now (it names them mcpgw-edge). */
async function edgeConnections(redis: Redis): Promise<number> {
  const list = (await redis.client('LIST')) as string;
  return list.split('\n').filter((line) => line.includes('name=mcpgw-edge')).length;
}

describe('the built edge worker with CACHE_CONNECTION_STRING', () => {
  let redisServer: RunningRedis;
  let redis: Redis;
  let upstream: SdkUpstream;
  let workers: RunningWorker[] = [];

  beforeAll(async () => {
    redisServer = await startRedis();
    redis = await connectRedis(redisServer.url);
    upstream = await startSdkUpstream({
      name: 'redis-upstream',
      setup(server) {
        server.registerTool('echo', { inputSchema: { text: z.string() } }, ({ text }) => ({
          content: [{ type: 'text', text: `echo: ${text}` }],
        }));
      },
    });
    const servers = [{ name: 'remote', url: upstream.url, prefix: 'r_' }];
    // Two separate workerd processes sharing one Redis; the Durable Object binding is there
    // too, and CACHE_CONNECTION_STRING takes precedence over it.
    workers = await Promise.all(
      [0, 1].map(() => startWorker(servers, { bindings: { CACHE_CONNECTION_STRING: redisServer.url } })),
    );
  });

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.dispose()));
    await upstream?.stop();
    await redis?.quit();
    await redisServer?.stop();
  });

  it('keeps the backend session in Redis, shared by two workers, over a connection per request', async () => {
    const [first, second] = workers as [RunningWorker, RunningWorker];
    const sessionId = await first.initialize();
    const { jti } = decodeJwt(sessionId);

    const one = await first.post(echoCall(1, 'one'), sessionId);
    expect((await readRpcMessage(one, 1)).result).toEqual({ content: [{ type: 'text', text: 'echo: one' }] });
    const two = await second.post(echoCall(2, 'two'), sessionId);
    expect((await readRpcMessage(two, 2)).result).toEqual({ content: [{ type: 'text', text: 'echo: two' }] });

    const calls = upstream.requests.filter((request) => request.method === 'tools/call');
    expect(new Set(calls.map((call) => call.sessionId)).size).toBe(1);
    expect(await redis.hget(`mcpgw:session:{${jti}}`, 'remote')).toBe(calls[0]?.sessionId);
    // Each request quit its connection once its response was sent.
    await expect.poll(() => edgeConnections(redis)).toBe(0);

    const ended = await second.fetch('/mcp', {
      method: 'DELETE',
      headers: { 'mcp-session-id': sessionId, 'mcp-protocol-version': PROTOCOL_VERSION },
    });
    expect(ended.status).toBe(200);
    await expect.poll(() => upstream.sessions()).not.toContain(calls[0]?.sessionId);
    const after = await first.post({ jsonrpc: '2.0', id: 3, method: 'tools/list' }, sessionId);
    expect(after.status).toBe(404);
    await after.body?.cancel();
    expect(await redis.hget(`mcpgw:session:{${jti}}`, '~terminated')).toBe('1');
  });

  it('answers 503 naming the store when Redis is unreachable, and recovers when it is back', async () => {
    const [first] = workers as [RunningWorker];
    const sessionId = await first.initialize();
    await redisServer.stop();
    try {
      const refused = await first.post(echoCall(4, 'down'), sessionId);
      expect(refused.status).toBe(503);
      expect(JSON.stringify(await refused.json())).toContain('Redis');
    } finally {
      await redisServer.restart();
    }
    const sessionAfter = await first.initialize();
    const back = await first.post(echoCall(5, 'back'), sessionAfter);
    expect((await readRpcMessage(back, 5)).result).toEqual({ content: [{ type: 'text', text: 'echo: back' }] });
  });

  it('refuses to serve with a CACHE_CONNECTION_STRING that is not a Redis URL, naming the binding', async () => {
    const misconfigured = await startWorker([], { bindings: { CACHE_CONNECTION_STRING: 'http://127.0.0.1:6379' } });
    try {
      const response = await misconfigured.fetch('/healthz');
      expect(response.status).toBe(500);
      expect(await response.text()).toContain('CACHE_CONNECTION_STRING is not a redis:// or rediss:// URL');
    } finally {
      await misconfigured.dispose();
    }
  });
});
