import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TEST_SIGNING_KEY, connectSdkClient, startSdkUpstream, type SdkUpstream } from '../harness/index.ts';
import { startIsolateFront, workerFetcher, type IsolateFront } from './isolate-front.ts';
import {
  COMPATIBILITY_DATE,
  COMPATIBILITY_FLAGS,
  PROTOCOL_VERSION,
  SESSION_OBJECT_BINDING,
  WORKER_BUNDLE,
  assertWorkerBuilt,
  workerConfig,
} from './start-worker.ts';

/**
 * Two workers running the same gateway bundle in one Miniflare: two isolates, each with its own
 * module state, sharing the GatewaySessionObject class that `isolate-a` defines.
 */
function twoIsolates(config: string): Miniflare {
  const common = {
    modules: true,
    scriptPath: WORKER_BUNDLE,
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: [...COMPATIBILITY_FLAGS],
    bindings: { MCP_GATEWAY_CONFIG: config, GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY, DISCOVERY_TOOLS_ENABLED: 'false' },
  };
  return new Miniflare({
    workers: [
      { ...common, name: 'isolate-a', durableObjects: SESSION_OBJECT_BINDING },
      {
        ...common,
        name: 'isolate-b',
        durableObjects: { GATEWAY_SESSIONS: { className: 'GatewaySessionObject', scriptName: 'isolate-a' } },
      },
    ],
  });
}

describe('a client session served by two isolates sharing the Durable Object', () => {
  let upstream: SdkUpstream;
  let mf: Miniflare;
  let front: IsolateFront;

  beforeAll(async () => {
    assertWorkerBuilt();
    upstream = await startSdkUpstream({
      name: 'shared-upstream',
      setup(server) {
        server.registerTool(
          'echo',
          { description: 'Echoes its text', inputSchema: { text: z.string() } },
          ({ text }) => ({ content: [{ type: 'text', text: `echo: ${text}` }] }),
        );
      },
    });
    mf = twoIsolates(workerConfig([{ name: 'shared', url: upstream.url, prefix: 's_' }]));
    await mf.ready;
    front = await startIsolateFront(mf, ['isolate-a', 'isolate-b']);
  });

  afterAll(async () => {
    await front?.close();
    await mf?.dispose();
    await upstream?.stop();
  });

  it('opens one backend session used from both isolates, and a DELETE through one ends it for the other', async () => {
    const connected = await connectSdkClient(front.url, { version: 1 });
    const sessionId = connected.sessionId();
    expect(sessionId).toBeDefined();

    for (const text of ['one', 'two', 'three', 'four']) {
      const result = await connected.client.callTool({ name: 's_echo', arguments: { text } });
      expect(result.content).toEqual([{ type: 'text', text: `echo: ${text}` }]);
    }

    const callers = new Set(front.served.filter((r) => r.rpcMethod === 'tools/call').map((r) => r.worker));
    expect(callers).toEqual(new Set(['isolate-a', 'isolate-b']));
    const backendSessions = new Set(upstream.requests.filter((r) => r.method === 'tools/call').map((r) => r.sessionId));
    expect(backendSessions.size).toBe(1);
    const [backendSession] = backendSessions;
    expect(upstream.sessions()).toContain(backendSession);

    // DELETE through the isolate that holds the client's GET stream (its stream ends through the
    // bus, not from the DELETE request, which workerd would refuse); the other isolate, which
    // served calls of this session too, must refuse the session afterwards.
    const streamHolder = front.served.find((r) => r.method === 'GET')?.worker ?? 'isolate-a';
    const deleter = streamHolder;
    const otherIsolate = streamHolder === 'isolate-a' ? 'isolate-b' : 'isolate-a';
    front.pinNext(deleter);
    await connected.close();
    expect(front.served.at(-1)).toMatchObject({ worker: deleter, method: 'DELETE' });
    await expect.poll(() => upstream.sessions()).not.toContain(backendSession);

    const other = await workerFetcher(mf, otherIsolate);
    const after = await other.fetch('http://localhost/mcp', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sessionId!,
        'mcp-protocol-version': PROTOCOL_VERSION,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 9,
        method: 'tools/call',
        params: { name: 's_echo', arguments: { text: 'late' } },
      }),
    });
    expect(after.status).toBe(404);
    await after.body?.cancel();
    expect(upstream.requests.filter((r) => r.method === 'tools/call')).toHaveLength(4);
  });
});
