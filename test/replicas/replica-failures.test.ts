import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchStatus, sessionsCarrying, waitFor } from '../gateway-calls/helpers.ts';
import { connectRotatingClient, createRotatingFetch, startCluster, type Cluster } from './cluster.ts';

function setup(server: McpServer) {
  server.registerTool('echo', {}, async () => ({ content: [{ type: 'text', text: 'echoed' }] }));
}

describe('replicas when a part fails', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster(setup);
    for (const replica of cluster.replicas) {
      await waitFor('the upstream listed on every replica', async () =>
        (await fetchStatus(replica)).servers[0]?.ready === true ? true : undefined,
      );
    }
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('answers 503 naming the store while Redis is down, and serves again once it is back', async () => {
    const rotating = createRotatingFetch(cluster.replicas);
    const { client, transport } = await connectRotatingClient(cluster, rotating);
    try {
      await client.callTool({ name: 'r_echo', arguments: {} });
      await cluster.redis.stop();

      await expect(client.callTool({ name: 'r_echo', arguments: {} })).rejects.toThrow(
        /session store \(Redis\) unavailable/,
      );
      const raw = await fetch(cluster.replicas[1]!.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': transport.sessionId!,
          'mcp-protocol-version': '2025-06-18',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' }),
      });
      expect(raw.status).toBe(503);
      const body = (await raw.json()) as { error: { code: number; message: string } };
      expect(body.error.code).toBe(-32603);
      expect(body.error.message).toMatch(/^session store \(Redis\) unavailable/);

      await cluster.redis.restart();
      const result = await waitFor('a call once Redis is back', async () => {
        const answered = await client.callTool({ name: 'r_echo', arguments: {} });
        return answered.isError === true ? undefined : answered;
      });
      expect(result.content).toEqual([{ type: 'text', text: 'echoed' }]);
    } finally {
      await client.close();
    }
  });

  it('continues the same session and backend session on B after A is killed', async () => {
    const rotating = createRotatingFetch(cluster.replicas);
    let turn = 0;
    rotating.route = ({ body }) => (body?.includes('"method":"tools/call"') ? [0, 1][turn++] : undefined);
    const { client, transport } = await connectRotatingClient(cluster, rotating);
    try {
      const mark = cluster.upstream.requests.length;
      const sessionId = transport.sessionId;
      await client.callTool({ name: 'r_echo', arguments: {} });
      await cluster.replicas[0]!.process.stop('SIGKILL');
      rotating.live = [1, 2];

      const result = await client.callTool({ name: 'r_echo', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'echoed' }]);
      expect(transport.sessionId).toBe(sessionId);
      expect(sessionsCarrying(cluster.upstream.requests.slice(mark), 'tools/call')).toHaveLength(1);
      const calls = rotating.sent.filter((sent) => sent.body?.includes('"method":"tools/call"'));
      expect(calls.map((sent) => sent.replica)).toEqual([0, 1]);
    } finally {
      await client.close();
    }
  });
});
