import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  ElicitRequestSchema,
  ElicitResultSchema,
  LoggingMessageNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGate, fetchStatus, sessionsCarrying, waitFor, within } from '../gateway-calls/helpers.ts';
import {
  connectRotatingClient,
  createRotatingFetch,
  jtiOf,
  startCluster,
  waitForSubscribers,
  type Cluster,
  type Route,
} from './cluster.ts';

const heard = createGate();

function setup(server: McpServer) {
  server.registerTool('echo', {}, async () => ({ content: [{ type: 'text', text: 'echoed' }] }));
  server.registerTool('ask', {}, async (extra) => {
    const answer = await extra.sendRequest(
      {
        method: 'elicitation/create',
        params: {
          message: 'Pick a size',
          requestedSchema: { type: 'object', properties: { size: { type: 'string' } }, required: ['size'] },
        },
      },
      ElicitResultSchema,
    );
    return { content: [{ type: 'text', text: JSON.stringify(answer) }] };
  });
  server.registerTool('log_until_heard', {}, async (extra) => {
    for (let attempt = 0; attempt < 100; attempt++) {
      await server.sendLoggingMessage({ level: 'info', data: 'from outside the call' }, extra.sessionId);
      const outcome = await Promise.race([heard.promise.then(() => 'heard'), pause(100)]);
      if (outcome === 'heard') return { content: [{ type: 'text', text: 'heard' }] };
    }
    return { content: [{ type: 'text', text: 'never heard' }], isError: true };
  });
}

function pause(ms: number): Promise<'paused'> {
  return new Promise((resolve) => setTimeout(() => resolve('paused'), ms));
}

/** Sends POSTs of `method` to `replica`. */
function byMethod(routes: Record<string, number>): Route {
  return ({ body }) => {
    if (body === undefined) return undefined;
    const method = (JSON.parse(body) as { method?: string }).method;
    return method === undefined ? undefined : routes[method];
  };
}

/** Raw JSON-RPC POST to one replica. */
async function post(url: string, body: object, sessionId?: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      ...(sessionId === undefined ? {} : { 'mcp-session-id': sessionId }),
    },
    body: JSON.stringify({ jsonrpc: '2.0', ...body }),
  });
}

describe('three replicas sharing one Redis', () => {
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

  it('continues a session initialized on A with a list on B and a call on C', async () => {
    const rotating = createRotatingFetch(cluster.replicas);
    rotating.route = byMethod({ initialize: 0, 'tools/list': 1, 'tools/call': 2 });
    const { client } = await connectRotatingClient(cluster, rotating);
    try {
      const tools = await client.listTools();
      expect(tools.tools.map((tool) => tool.name)).toContain('r_echo');
      const result = await client.callTool({ name: 'r_echo', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'echoed' }]);
      const replicaOf = (method: string) =>
        rotating.sent.filter((sent) => sent.body?.includes(`"method":"${method}"`)).map((sent) => sent.replica);
      expect(replicaOf('initialize')).toEqual([0]);
      expect(replicaOf('tools/list')).toEqual([1]);
      expect(replicaOf('tools/call')).toEqual([2]);
    } finally {
      await client.close();
    }
  });

  it('reuses one backend session for calls through A, B and C', async () => {
    const rotating = createRotatingFetch(cluster.replicas);
    let turn = 0;
    rotating.route = ({ body }) => (body?.includes('"method":"tools/call"') ? turn++ % 3 : undefined);
    const { client } = await connectRotatingClient(cluster, rotating);
    try {
      const mark = cluster.upstream.requests.length;
      for (let i = 0; i < 3; i++) await client.callTool({ name: 'r_echo', arguments: {} });
      expect(sessionsCarrying(cluster.upstream.requests.slice(mark), 'tools/call')).toHaveLength(1);
      expect(turn).toBe(3);
    } finally {
      await client.close();
    }
  });

  it('creates exactly one backend session for concurrent first calls through different replicas', async () => {
    const rotating = createRotatingFetch(cluster.replicas);
    let turn = 0;
    rotating.route = ({ body }) => (body?.includes('"method":"tools/call"') ? turn++ % 3 : undefined);
    const { client } = await connectRotatingClient(cluster, rotating);
    try {
      const mark = cluster.upstream.requests.length;
      const initializes = cluster.upstream.initializeCount;
      const results = await Promise.all([0, 1, 2].map(() => client.callTool({ name: 'r_echo', arguments: {} })));
      expect(results.every((result) => result.isError !== true)).toBe(true);
      expect(sessionsCarrying(cluster.upstream.requests.slice(mark), 'tools/call')).toHaveLength(1);
      expect(cluster.upstream.initializeCount - initializes).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('takes the answer to an elicitation asked during a call on A through B', async () => {
    const rotating = createRotatingFetch(cluster.replicas);
    rotating.route = ({ body }) => {
      if (body?.includes('"method":"tools/call"')) return 0;
      // The client's answer: a JSON-RPC response, no method.
      if (body !== undefined && !body.includes('"method"')) return 1;
      return undefined;
    };
    const { client } = await connectRotatingClient(cluster, rotating, { elicitation: {} });
    try {
      client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { size: 'large' } }));
      const result = await within(client.callTool({ name: 'r_ask', arguments: {} }), 'the elicitation round trip');
      expect(result.content).toEqual([
        { type: 'text', text: JSON.stringify({ action: 'accept', content: { size: 'large' } }) },
      ]);
      const answers = rotating.sent.filter((sent) => sent.body !== undefined && !sent.body.includes('"method"'));
      expect(answers.map((sent) => sent.replica)).toEqual([1]);
      const upstreamAnswer = cluster.upstream.requests.find(
        (request) => request.method === undefined && JSON.stringify(request.message).includes('large'),
      );
      expect(upstreamAnswer).toBeDefined();
    } finally {
      await client.close();
    }
  });

  it("relays an upstream's message outside any call to the client's stream on another replica", async () => {
    const rotating = createRotatingFetch(cluster.replicas);
    rotating.route = ({ method, body }) => {
      if (method === 'GET') return 1;
      if (body?.includes('"method":"tools/call"')) return 0;
      return undefined;
    };
    const { client, transport } = await connectRotatingClient(cluster, rotating);
    try {
      const logs: unknown[] = [];
      client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
        logs.push(notification.params.data);
        heard.open();
      });
      // B's stream listens for this session's new backend sessions before A creates one.
      await waitForSubscribers(cluster.redis, `backend:${jtiOf(transport.sessionId)}`);
      const result = await client.callTool({ name: 'r_log_until_heard', arguments: {} });
      expect(result.isError).not.toBe(true);
      expect(logs).toContain('from outside the call');
      expect(rotating.sent.filter((sent) => sent.method === 'GET').every((sent) => sent.replica === 1)).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('ends a session deleted through A on B and C, and ends the stream B holds', async () => {
    const [a, b, c] = cluster.replicas.map((replica) => replica.url) as [string, string, string];
    const initialized = await post(a, {
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    const sessionId = initialized.headers.get('mcp-session-id')!;
    await initialized.body?.cancel();
    await (await post(a, { method: 'notifications/initialized' }, sessionId)).body?.cancel();

    const stream = await fetch(b, {
      headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
    });
    expect(stream.status).toBe(200);
    await waitForSubscribers(cluster.redis, `session:${jtiOf(sessionId)}`);
    const drained = (async () => {
      const reader = stream.body!.getReader();
      let text = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return text;
        text += new TextDecoder().decode(value);
      }
    })();

    const deleted = await fetch(a, { method: 'DELETE', headers: { 'mcp-session-id': sessionId } });
    expect(deleted.status).toBe(200);

    const text = await within(drained, "the end of B's stream");
    expect(text).not.toContain('gateway/terminated');
    for (const url of [b, c]) {
      const response = await post(url, { id: 2, method: 'tools/list' }, sessionId);
      expect(response.status).toBe(404);
      await response.body?.cancel();
    }
  });
  // Last: it changes the upstream's tool list for the rest of the suite.
  it('tells a client whose stream is on B that the tools changed, whichever replica it called', async () => {
    const rotating = createRotatingFetch(cluster.replicas);
    rotating.route = ({ method }) => (method === 'GET' ? 1 : undefined);
    const { client, transport } = await connectRotatingClient(cluster, rotating);
    try {
      const changed = createGate();
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => changed.open());
      await waitForSubscribers(cluster.redis, `session:${jtiOf(transport.sessionId)}`);
      for (const server of cluster.upstream.servers()) {
        server.registerTool('late', {}, async () => ({ content: [{ type: 'text', text: 'late' }] }));
      }
      await within(changed.promise, 'tools/list_changed on the stream held by B');
      await waitFor('r_late listed through every replica', async () => {
        const names = await Promise.all([0, 1, 2].map(async () => (await client.listTools()).tools.map((t) => t.name)));
        return names.every((list) => list.includes('r_late')) ? true : undefined;
      });
    } finally {
      await client.close();
    }
  });
});
