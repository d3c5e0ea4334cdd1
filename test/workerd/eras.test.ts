// Both protocol eras through the built worker in workerd: a 2026-07-28 upstream (SDK 2.x) and a
// legacy upstream (SDK 1.x) behind two isolates sharing the Durable Object, called by SDK 2.x
// clients negotiating 2026-07-28 and by SDK 1.x clients, each seeing and calling both upstreams.
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TEST_SIGNING_KEY,
  connectSdkClient,
  startModernUpstream,
  startSdkUpstream,
  type ModernUpstream,
  type SdkUpstream,
} from '../harness/index.ts';
import { registerShout, registerWhisperAndAsk } from '../harness/era-tools.ts';
import { startIsolateFront, type IsolateFront } from './isolate-front.ts';
import {
  COMPATIBILITY_DATE,
  COMPATIBILITY_FLAGS,
  SESSION_OBJECT_BINDING,
  WORKER_BUNDLE,
  assertWorkerBuilt,
  workerConfig,
} from './start-worker.ts';

let modern: ModernUpstream;
let legacy: SdkUpstream;
let mf: Miniflare;
let front: IsolateFront;

beforeAll(async () => {
  assertWorkerBuilt();
  modern = await startModernUpstream({ setup: registerShout });
  // Keeps its events, so a call parked in one request is resumed (Last-Event-ID) by the retry's.
  legacy = await startSdkUpstream({ resumable: true, setup: registerWhisperAndAsk });
  const common = {
    modules: true,
    scriptPath: WORKER_BUNDLE,
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: [...COMPATIBILITY_FLAGS],
    bindings: {
      MCP_GATEWAY_CONFIG: workerConfig([
        { name: 'modern', url: modern.url, prefix: 'm_' },
        { name: 'legacy', url: legacy.url, prefix: 'l_' },
      ]),
      GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY,
      DISCOVERY_TOOLS_ENABLED: 'false',
    },
  };
  mf = new Miniflare({
    workers: [
      { ...common, name: 'isolate-a', durableObjects: SESSION_OBJECT_BINDING },
      {
        ...common,
        name: 'isolate-b',
        durableObjects: { GATEWAY_SESSIONS: { className: 'GatewaySessionObject', scriptName: 'isolate-a' } },
      },
    ],
  });
  await mf.ready;
  front = await startIsolateFront(mf, ['isolate-a', 'isolate-b']);
});

afterAll(async () => {
  await front?.close();
  await mf?.dispose();
  await modern?.stop();
  await legacy?.stop();
});

describe('the worker serving both protocol eras', () => {
  it('serves a 2026-07-28 client (SDK 2.x) the tools of both upstreams and routes its calls', async () => {
    const client = await connectSdkClient(front.url, { version: 2, negotiation: 'auto' });
    try {
      expect(client.sessionId()).toBeUndefined();
      const { tools } = await client.client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['l_ask', 'l_whisper', 'm_shout']);
      const loud = await client.client.callTool({ name: 'm_shout', arguments: { text: 'edge' } });
      expect(loud.content).toEqual([{ type: 'text', text: 'EDGE' }]);
      const quiet = await client.client.callTool({ name: 'l_whisper', arguments: { text: 'EDGE' } });
      expect(quiet.content).toEqual([{ type: 'text', text: 'edge' }]);
      expect(modern.calls('tools/call').at(-1)?.body?.params?.['name']).toBe('shout');
    } finally {
      await client.close();
    }
  });

  it('serves a legacy client (SDK 1.x) the tools of both upstreams and routes its calls', async () => {
    const client = await connectSdkClient(front.url, { version: 1 });
    try {
      const { tools } = await client.client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['l_ask', 'l_whisper', 'm_shout']);
      const loud = await client.client.callTool({ name: 'm_shout', arguments: { text: 'legacy' } });
      expect(loud.content).toEqual([{ type: 'text', text: 'LEGACY' }]);
    } finally {
      await client.close();
    }
  });

  it("turns a legacy upstream's elicitation into input_required for a 2026-07-28 client, whichever isolate takes the retry", async () => {
    const client = await connectSdkClient(front.url, {
      version: 2,
      negotiation: 'auto',
      capabilities: { elicitation: { form: {} } },
      headers: { authorization: 'Bearer edge-caller' },
    });
    try {
      client.client.setRequestHandler('elicitation/create', () => ({ action: 'accept', content: { name: 'Grace' } }));
      const result = await client.client.callTool({ name: 'l_ask', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'hello Grace (accept)' }]);
      // The call and its retry were served by different isolates (the front alternates).
      const calls = front.served.filter((r) => r.rpcMethod === 'tools/call').slice(-2);
      expect(new Set(calls.map((r) => r.worker)).size).toBe(2);
    } finally {
      await client.close();
    }
  });
});
