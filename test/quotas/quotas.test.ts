// Quotas per caller in every host, with real SDK upstreams and clients: a tool's requests per
// window and the server's concurrent calls, a refusal that says when to retry and never reaches
// the upstream, a bucket a re-initialize does not reset; through the broker, a real Envoy with
// the router, the worker in workerd, and three replicas sharing one real Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { startExtProcStack, type ExtProcStack } from '../envoy/extproc-stack.ts';
import {
  connectSdkClient,
  startGateway,
  startRedis,
  startSdkUpstream,
  type RunningGateway,
  type RunningRedis,
  type SdkUpstream,
} from '../harness/index.ts';
import { readRpcMessage } from '../workerd/read-rpc-message.ts';
import { startWorker, type RunningWorker } from '../workerd/start-worker.ts';
import { waitFor } from '../gateway-calls/helpers.ts';

let release: () => void = () => {};

function tools(server: McpServer): void {
  server.registerTool(
    'create_issue',
    { description: 'Open an issue', inputSchema: { title: z.string() } },
    ({ title }) => ({
      content: [{ type: 'text', text: `opened ${title}` }],
    }),
  );
  server.registerTool('ping', { description: 'Answers at once', inputSchema: {} }, () => ({
    content: [{ type: 'text', text: 'pong' }],
  }));
  server.registerTool('export', { description: 'A long export', inputSchema: {} }, async () => {
    await new Promise<void>((resolve) => (release = resolve));
    return { content: [{ type: 'text', text: 'exported' }] };
  });
}

const QUOTAS = `    quotas:
      - tools: [create_issue]
        requests: 3
        windowSeconds: 600
      - concurrentCalls: 1
`;

function callsOf(upstream: SdkUpstream, tool: string): number {
  return upstream.requests.filter(
    (request) => request.method === 'tools/call' && (request.params as { name?: string })?.name === tool,
  ).length;
}

async function refusalOf(
  call: Promise<unknown>,
): Promise<{ code: number; message: string; data: Record<string, unknown> }> {
  try {
    await call;
  } catch (error) {
    // The 1.x SDK throws McpError; the 2.x SDK its own error class with the same code and data.
    if (error instanceof McpError || (error instanceof Error && typeof (error as { code?: unknown }).code === 'number'))
      return {
        code: (error as McpError).code,
        message: error.message,
        data: (error as McpError).data as Record<string, unknown>,
      };
    throw error;
  }
  throw new Error('the call was not refused');
}

async function ready(baseUrl: string): Promise<void> {
  await waitFor('the catalog', async () => {
    const status = (await (await fetch(`${baseUrl}/status`)).json()) as { servers: { ready: boolean }[] };
    return status.servers.every((server) => server.ready) ? true : undefined;
  });
}

/** A legacy client's HTTP exchanges with one host, sent by hand so that a test holds the session id. */
interface LegacyHost {
  /** Opens a session (initialize and notifications/initialized) and returns its id. */
  initialize(): Promise<string>;
  post(message: object, sessionId: string): Promise<Response>;
  /** Ends the session with DELETE. */
  end(sessionId: string): Promise<void>;
}

const LEGACY_VERSION = '2025-11-25';

function legacyHeaders(sessionId?: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    ...(sessionId === undefined ? {} : { 'mcp-session-id': sessionId, 'mcp-protocol-version': LEGACY_VERSION }),
  };
}

/** A LegacyHost on the gateway (or Envoy) at `url`. */
function legacyHttp(url: string): LegacyHost {
  const post = (message: object, sessionId?: string) =>
    fetch(url, { method: 'POST', headers: legacyHeaders(sessionId), body: JSON.stringify(message) });
  return {
    async initialize() {
      const response = await post({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: LEGACY_VERSION, capabilities: {}, clientInfo: { name: 'quotas', version: '1' } },
      });
      const sessionId = response.headers.get('mcp-session-id');
      expect((await readRpcMessage(response, 0)).result).toBeDefined();
      expect(sessionId).toBeTruthy();
      const initialized = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, sessionId!);
      await initialized.body?.cancel();
      return sessionId!;
    },
    post,
    async end(sessionId) {
      const response = await fetch(url, { method: 'DELETE', headers: legacyHeaders(sessionId) });
      expect(response.status).toBeLessThan(300);
      await response.body?.cancel();
    },
  };
}

/**
 * A call of `tool` (under the server's one-at-a-time quota) on a session ended by DELETE is
 * answered 404 and never forwarded, and the slot it was admitted into is given back: a live
 * session's call of the same tool right after is forwarded, not refused for concurrency.
 */
async function expectEndedSessionRefused(host: LegacyHost, upstream: SdkUpstream, tool: string): Promise<void> {
  const ended = await host.initialize();
  await host.end(ended);
  const before = callsOf(upstream, 'export');
  const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: {} } });

  const refused = await host.post(call(1), ended);
  expect(refused.status).toBe(404);
  expect(await readRpcMessage(refused, 1)).toMatchObject({
    error: { message: expect.stringMatching(/Session not found/) },
  });
  expect(callsOf(upstream, 'export')).toBe(before);

  // The slot is given back in the background: a moment later it is free.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const live = await host.initialize();
  try {
    const answer = host.post(call(2), live).then((response) => readRpcMessage(response, 2));
    const forwarded = waitFor('the live export', () => (callsOf(upstream, 'export') === before + 1 ? true : undefined));
    forwarded.catch(() => undefined);
    // A slot still held would refuse the call at once, before anything reaches the upstream.
    const early = await Promise.race([answer, forwarded.then(() => undefined)]);
    expect(early).toBeUndefined();
    release();
    expect(await answer).toMatchObject({ result: { content: [{ type: 'text', text: 'exported' }] } });
  } finally {
    await host.end(live);
  }
}

describe('quotas on the broker', () => {
  let upstream: SdkUpstream;
  let gateway: RunningGateway;

  beforeAll(async () => {
    upstream = await startSdkUpstream({ name: 'tracker', setup: tools });
    gateway = await startGateway({
      config: `servers:\n  - name: tracker\n    url: ${JSON.stringify(upstream.url)}\n    prefix: t_\n${QUOTAS}`,
    });
    await ready(gateway.baseUrl);
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  it("refuses the call past the window's limit with when to retry, upstream untouched, across a re-initialize", async () => {
    const first = await connectSdkClient(gateway.url, { version: 1 });
    try {
      for (let i = 0; i < 3; i++)
        await first.client.callTool({ name: 't_create_issue', arguments: { title: `n${i}` } });
      const refused = await refusalOf(first.client.callTool({ name: 't_create_issue', arguments: { title: 'n3' } }));
      expect(refused.code).toBe(-32029);
      expect(refused.message).toMatch(
        /quota exceeded for create_issue on tracker: at most 3 calls per 600 s; retry in \d+ s/,
      );
      expect(refused.data).toMatchObject({ reason: 'requests', limit: 3, windowSeconds: 600 });
      expect(refused.data['retryAfterMs']).toBeGreaterThan(0);
      expect(refused.data['retryAfterMs']).toBeLessThanOrEqual(600_000);
    } finally {
      await first.close();
    }
    expect(callsOf(upstream, 'create_issue')).toBe(3);
    const again = await connectSdkClient(gateway.url, { version: 1 });
    try {
      const refused = await refusalOf(again.client.callTool({ name: 't_create_issue', arguments: { title: 'n4' } }));
      expect(refused.data).toMatchObject({ reason: 'requests' });
    } finally {
      await again.close();
    }
    expect(callsOf(upstream, 'create_issue')).toBe(3);
    await waitFor('the refusal logged', () => (/call refused by its quota/.test(gateway.logs()) ? true : undefined));
  });

  it('refuses a 2026-07-28 client of the 2.x SDK from the same bucket, with the same error', async () => {
    // The anonymous bucket of create_issue was used up by the test above: a client of the other
    // era, with no session at all, counts against it too.
    const modern = await connectSdkClient(gateway.url, { version: 2, negotiation: 'auto' });
    try {
      expect(modern.sessionId()).toBeUndefined();
      const refused = await refusalOf(modern.client.callTool({ name: 't_create_issue', arguments: { title: 'm' } }));
      expect(refused.code).toBe(-32029);
      expect(refused.message).toMatch(/quota exceeded for create_issue on tracker: at most 3 calls per 600 s/);
      expect(refused.data).toMatchObject({ reason: 'requests', limit: 3, windowSeconds: 600 });
    } finally {
      await modern.close();
    }
    expect(callsOf(upstream, 'create_issue')).toBe(3);
  });

  it('holds a concurrent call slot until the call ends', async () => {
    const connected = await connectSdkClient(gateway.url, { version: 1 });
    try {
      const running = connected.client.callTool({ name: 't_export', arguments: {} });
      await waitFor('the export upstream', () => (callsOf(upstream, 'export') === 1 ? true : undefined));
      const refused = await refusalOf(connected.client.callTool({ name: 't_export', arguments: {} }));
      expect(refused.data).toMatchObject({ reason: 'concurrent', limit: 1 });
      expect(refused.message).toMatch(/at most 1 calls at once/);
      release();
      expect(await running).toMatchObject({ content: [{ type: 'text', text: 'exported' }] });
      // The slot is given back as the answer is relayed (in the background): a moment later it is free.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const next = connected.client.callTool({ name: 't_export', arguments: {} });
      await waitFor('the second export', () => (callsOf(upstream, 'export') === 2 ? true : undefined));
      release();
      expect(await next).toMatchObject({ content: [{ type: 'text', text: 'exported' }] });
    } finally {
      await connected.close();
    }
  });

  it('answers a call on an ended session 404, never forwarded, and keeps no slot for it', async () => {
    await expectEndedSessionRefused(legacyHttp(gateway.url), upstream, 't_export');
  });
});

describe('quotas behind a real Envoy with the ext_proc router', () => {
  let stack: ExtProcStack;

  beforeAll(async () => {
    stack = await startExtProcStack({ setup: tools, serverYaml: QUOTAS });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('routes the calls within the limit and has the broker refuse the one past it, to clients of both eras', async () => {
    const connected = await connectSdkClient(stack.mcpUrl, { version: 1 });
    try {
      for (let i = 0; i < 3; i++) {
        await connected.client.callTool({ name: 's1_create_issue', arguments: { title: `e${i}` } });
      }
      const refused = await refusalOf(
        connected.client.callTool({ name: 's1_create_issue', arguments: { title: 'e3' } }),
      );
      expect(refused).toMatchObject({ code: -32029, data: { reason: 'requests' } });
      expect(callsOf(stack.upstreams[0], 'create_issue')).toBe(3);
      // Another server's bucket is its own.
      await connected.client.callTool({ name: 's2_create_issue', arguments: { title: 'other' } });
    } finally {
      await connected.close();
    }
    const modern = await connectSdkClient(stack.mcpUrl, { version: 2, negotiation: 'auto' });
    try {
      const refused = await refusalOf(modern.client.callTool({ name: 's1_create_issue', arguments: { title: 'm' } }));
      expect(refused).toMatchObject({ code: -32029, data: { reason: 'requests' } });
    } finally {
      await modern.close();
    }
    expect(callsOf(stack.upstreams[0], 'create_issue')).toBe(3);
  });

  it('answers a call on an ended session 404, never forwarded, and keeps no slot for it', async () => {
    await expectEndedSessionRefused(legacyHttp(stack.mcpUrl), stack.upstreams[0], 's1_export');
  });
});

describe('quotas in the built worker', () => {
  let upstream: SdkUpstream;
  let worker: RunningWorker;

  beforeAll(async () => {
    upstream = await startSdkUpstream({ name: 'tracker', setup: tools });
    worker = await startWorker([{ name: 'tracker', prefix: 'w_', url: upstream.url, yaml: QUOTAS }]);
  });

  afterAll(async () => {
    await worker?.dispose();
    await upstream?.stop();
  });

  it('refuses the call past the limit, counted in the Durable Object across sessions', async () => {
    const call = async (sessionId: string, id: number) =>
      readRpcMessage(
        await worker.post(
          { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'w_create_issue', arguments: { title: 'x' } } },
          sessionId,
        ),
        id,
      );
    const first = await worker.initialize();
    for (let id = 1; id <= 3; id++) expect((await call(first, id)).result).toBeDefined();
    const refused = await call(await worker.initialize(), 4);
    expect(refused.error).toMatchObject({ code: -32029, data: { reason: 'requests', limit: 3 } });
    expect(callsOf(upstream, 'create_issue')).toBe(3);
  });

  it('answers a call on an ended session 404, never forwarded, and keeps no slot for it', async () => {
    const host: LegacyHost = {
      initialize: () => worker.initialize(),
      post: (message, sessionId) => worker.post(message, sessionId) as unknown as Promise<Response>,
      async end(sessionId) {
        const response = await worker.fetch('/mcp', { method: 'DELETE', headers: legacyHeaders(sessionId) });
        expect(response.status).toBeLessThan(300);
        await response.body?.cancel();
      },
    };
    await expectEndedSessionRefused(host, upstream, 'w_export');
  });
});

describe('quotas across three replicas on one Redis', () => {
  let redis: RunningRedis;
  let upstream: SdkUpstream;
  const replicas: RunningGateway[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startSdkUpstream({ name: 'tracker', setup: tools });
    const config = `servers:\n  - name: tracker\n    url: ${JSON.stringify(upstream.url)}\n    prefix: t_\n${QUOTAS}`;
    for (let i = 0; i < 3; i++) {
      replicas.push(await startGateway({ config, env: { CACHE_CONNECTION_STRING: redis.url } }));
    }
    for (const replica of replicas) await ready(replica.baseUrl);
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(replicas.map((replica) => replica.stop()));
    await upstream?.stop();
    await redis?.stop();
  });

  it('admits the limit once in all, whichever replicas the calls reach', async () => {
    const clients = await Promise.all(replicas.map((replica) => connectSdkClient(replica.url, { version: 1 })));
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 9 }, (_, i) =>
          clients[i % 3]!.client.callTool({ name: 't_create_issue', arguments: { title: `r${i}` } })
            .then(() => 'ok')
            .catch((error: unknown) =>
              error instanceof McpError && error.code === -32029 ? 'limited' : String(error),
            ),
        ),
      );
      expect(outcomes.filter((outcome) => outcome === 'ok')).toHaveLength(3);
      expect(outcomes.filter((outcome) => outcome === 'limited')).toHaveLength(6);
      expect(callsOf(upstream, 'create_issue')).toBe(3);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });

  it('reads the session and admits a warm call in one store operation before its answer', async () => {
    const connected = await connectSdkClient(replicas[0]!.url, { version: 1 });
    try {
      // The first call opens the backend session; the next ones are warm.
      await connected.client.callTool({ name: 't_ping', arguments: {} });
      // Its slot is given back after the answer, in the background: counted before the count starts.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const before = await storeOperations(replicas[0]!.baseUrl);
      for (let i = 0; i < 5; i++) await connected.client.callTool({ name: 't_ping', arguments: {} });
      // The slot is given back after the answer, in the background.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const after = await storeOperations(replicas[0]!.baseUrl);

      const made = Object.fromEntries(
        Object.entries(after)
          .map(([operation, count]) => [operation, count - (before[operation] ?? 0)])
          .filter(([, count]) => count !== 0),
      );
      expect(made).toEqual({ admitSessionCall: 5, releaseCall: 5 });
    } finally {
      await connected.close();
    }
  });

  it('answers a call on a session ended on another replica 404, never forwarded, and keeps no slot for it', async () => {
    const [first, second, third] = replicas.map((replica) => legacyHttp(replica.url));
    const host: LegacyHost = { initialize: first!.initialize, end: second!.end, post: third!.post };
    await expectEndedSessionRefused(host, upstream, 't_export');
  });
});

/** The store operations a gateway counted so far, by operation (its /metrics). */
async function storeOperations(baseUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const [, operation, count] of text.matchAll(
    /^mcp_gateway_store_operation_duration_seconds_count\{operation="([^"]+)",outcome="ok"\} (\d+)/gm,
  )) {
    counts[operation!] = Number(count);
  }
  return counts;
}

describe('quotas when the store that counts them is gone', () => {
  let redis: RunningRedis;
  let upstream: SdkUpstream;
  let gateway: RunningGateway;

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startSdkUpstream({ name: 'tracker', setup: tools });
    const config = `servers:\n  - name: tracker\n    url: ${JSON.stringify(upstream.url)}\n    prefix: t_\n${QUOTAS}`;
    gateway = await startGateway({ config, env: { CACHE_CONNECTION_STRING: redis.url } });
    await ready(gateway.baseUrl);
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
    await redis?.stop();
  });

  it('refuses a 2026-07-28 call it cannot count with a clear error, never forwards it, and stays up', async () => {
    const modern = await connectSdkClient(gateway.url, { version: 2, negotiation: 'auto' });
    try {
      await redis.stop();
      const refused = await refusalOf(modern.client.callTool({ name: 't_create_issue', arguments: { title: 'x' } }));
      expect(refused.message).toMatch(/session store \(Redis\) unavailable/);
      expect(callsOf(upstream, 'create_issue')).toBe(0);
      // The gateway's log arrives on its stdout, which may trail the answer a little.
      await waitFor('the refusal logged', () =>
        /its quota could not be counted/.test(gateway.logs()) ? true : undefined,
      );
      await redis.restart();
      await waitFor('the store back', async () =>
        (await modern.client.callTool({ name: 't_create_issue', arguments: { title: 'y' } }).catch(() => undefined))
          ? true
          : undefined,
      );
      expect(callsOf(upstream, 'create_issue')).toBe(1);
    } finally {
      await modern.close();
    }
  }, 60_000);
});
