// Both protocol eras through the built gateway: 2026-07-28 clients (SDK 2.x, negotiated with
// server/discover) and legacy clients (SDK 1.x), in front of a 2026-07-28-only upstream
// (SDK 2.x createMcpHandler) and a legacy upstream (SDK 1.x), each seeing and calling both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { registerShout, registerWhisperAndAsk } from '../harness/era-tools.ts';
import { inputRequired, acceptedContent } from '@modelcontextprotocol/server';
import {
  connectSdkClient,
  startModernUpstream,
  startSdkUpstream,
  type ModernUpstream,
  type RunningGateway,
  type SdkUpstream,
} from '../harness/index.ts';
import { startGatewayFor, waitFor } from '../gateway-calls/helpers.ts';

let modern: ModernUpstream;
/** Whether the modern upstream offers its `late` tool (it builds a server per request). */
let lateTool = false;
/** Set when the modern upstream's `slow` tool started, and when it saw its request aborted. */
let slowStarted = false;
let slowCancelled = false;
let legacy: SdkUpstream;
let gateway: RunningGateway;

beforeAll(async () => {
  modern = await startModernUpstream({
    setup(server) {
      if (lateTool) {
        server.registerTool('late', { description: 'Added later', inputSchema: z.object({}) }, () => ({
          content: [{ type: 'text', text: 'late' }],
        }));
      }
      registerShout(server);
      server.registerTool('slow', { description: 'Waits until cancelled', inputSchema: z.object({}) }, (_args, ctx) => {
        slowStarted = true;
        return new Promise((resolve) => {
          ctx.mcpReq.signal.addEventListener('abort', () => {
            slowCancelled = true;
            resolve({ content: [{ type: 'text', text: 'cancelled' }] });
          });
        });
      });
      server.registerTool(
        'confirm',
        {
          description: 'Asks the client to confirm first (multi-round-trip)',
          inputSchema: z.object({ what: z.string() }),
        },
        ({ what }, ctx) => {
          const answer = acceptedContent(ctx.mcpReq.inputResponses, 'ok');
          if (answer === undefined) {
            return inputRequired({
              inputRequests: {
                ok: inputRequired.elicit({
                  message: `Really ${what}?`,
                  requestedSchema: z.object({ sure: z.boolean() }),
                }),
              },
            });
          }
          return { content: [{ type: 'text', text: `${what}: ${JSON.stringify(answer)}` }] };
        },
      );
    },
  });
  legacy = await startSdkUpstream({ setup: registerWhisperAndAsk });
  gateway = await startGatewayFor([
    { name: 'modern', url: modern.url, prefix: 'm_' },
    { name: 'legacy', url: legacy.url, prefix: 'l_' },
  ]);
  await waitFor('both upstreams ready', async () => {
    const status = (await (await fetch(`${gateway.baseUrl}/status`)).json()) as {
      servers: { name: string; ready: boolean }[];
    };
    return status.servers.every((s) => s.ready) ? true : undefined;
  });
});

afterAll(async () => {
  await gateway?.stop();
  await modern?.stop();
  await legacy?.stop();
});

const MODERN_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2026-07-28',
};
const envelope = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

function modernPost(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  const method = String(body['method']);
  return fetch(gateway.url, {
    method: 'POST',
    headers: { ...MODERN_HEADERS, 'mcp-method': method, ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', ...body }),
  });
}

describe('a 2026-07-28 client (SDK 2.x, auto negotiation)', () => {
  it('negotiates the modern era and sees the tools of both upstreams', async () => {
    const client = await connectSdkClient(gateway.url, { version: 2, negotiation: 'auto' });
    try {
      expect(client.sessionId()).toBeUndefined();
      const { tools } = await client.client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['l_ask', 'l_whisper', 'm_confirm', 'm_shout', 'm_slow']);
    } finally {
      await client.close();
    }
  });

  it('calls a modern upstream statelessly, prefix removed', async () => {
    const client = await connectSdkClient(gateway.url, { version: 2, negotiation: 'auto' });
    try {
      const result = await client.client.callTool({ name: 'm_shout', arguments: { text: 'hi' } });
      expect(result.content).toEqual([{ type: 'text', text: 'HI' }]);
      const call = modern.calls('tools/call').at(-1);
      expect(call?.body?.params?.['name']).toBe('shout');
      expect(call?.headers['mcp-name']).toBe('shout');
      expect(call?.headers['mcp-session-id']).toBeUndefined();
    } finally {
      await client.close();
    }
  });

  it('calls a legacy upstream over one backend session per caller', async () => {
    const headers = { authorization: 'Bearer caller-one' };
    const first = await connectSdkClient(gateway.url, { version: 2, negotiation: 'auto', headers });
    const second = await connectSdkClient(gateway.url, { version: 2, negotiation: 'auto', headers });
    try {
      const initializesBefore = legacy.initializeCount;
      const a = await first.client.callTool({ name: 'l_whisper', arguments: { text: 'HeLLo' } });
      const b = await second.client.callTool({ name: 'l_whisper', arguments: { text: 'AGAIN' } });
      expect(a.content).toEqual([{ type: 'text', text: 'hello' }]);
      expect(b.content).toEqual([{ type: 'text', text: 'again' }]);
      expect(legacy.initializeCount - initializesBefore).toBe(1);
      const forwarded = legacy.requests.filter((r) => r.method === 'tools/call').at(-1);
      expect(forwarded?.params).toMatchObject({ name: 'whisper', arguments: { text: 'AGAIN' } });
      // The modern envelope is not sent to a legacy upstream.
      expect(JSON.stringify(forwarded?.params)).not.toContain('io.modelcontextprotocol/');
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('gets an elicitation of a legacy upstream as input_required and answers it by retrying', async () => {
    const client = await connectSdkClient(gateway.url, {
      version: 2,
      negotiation: 'auto',
      capabilities: { elicitation: { form: {} } },
      headers: { authorization: 'Bearer caller-two' },
    });
    try {
      client.client.setRequestHandler('elicitation/create', () => ({ action: 'accept', content: { name: 'Ada' } }));
      const result = await client.client.callTool({ name: 'l_ask', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'hello Ada (accept)' }]);
      // The first request's answer is input_required, not a failure: nothing is logged as one.
      expect(gateway.logs()).not.toMatch(/"call failed".*"l_ask"|"l_ask".*"call failed"/);
    } finally {
      await client.close();
    }
  });

  it('relays a modern upstream input_required result intact and routes the retry back', async () => {
    const client = await connectSdkClient(gateway.url, {
      version: 2,
      negotiation: 'auto',
      capabilities: { elicitation: { form: {} } },
    });
    try {
      client.client.setRequestHandler('elicitation/create', () => ({ action: 'accept', content: { sure: true } }));
      const result = await client.client.callTool({ name: 'm_confirm', arguments: { what: 'deploy' } });
      expect(result.content).toEqual([{ type: 'text', text: 'deploy: {"sure":true}' }]);
      const calls = modern.calls('tools/call').filter((c) => c.body?.params?.['name'] === 'confirm');
      expect(calls.length).toBeGreaterThanOrEqual(2);
      expect(calls.at(-1)?.body?.params?.['inputResponses']).toBeDefined();
    } finally {
      await client.close();
    }
  });
});

describe('cancellation by a 2026-07-28 client', () => {
  it('closing the request stream cancels the call upstream', async () => {
    slowCancelled = false;
    slowStarted = false;
    const client = await connectSdkClient(gateway.url, { version: 2, negotiation: 'auto' });
    try {
      const abort = new AbortController();
      const call = client.client.callTool({ name: 'm_slow', arguments: {} }, { signal: abort.signal });
      await waitFor('the slow tool running upstream', () => (slowStarted ? true : undefined));
      abort.abort();
      await expect(call).rejects.toThrow();
      await waitFor('the upstream saw the cancellation', () => (slowCancelled ? true : undefined));
    } finally {
      await client.close();
    }
  });
});

describe('a 2026-07-28 upstream', () => {
  it('is watched with subscriptions/listen: its list change reaches the catalog', async () => {
    await waitFor('the gateway listening to the modern upstream', () =>
      modern.calls('subscriptions/listen').length > 0 ? true : undefined,
    );
    lateTool = true;
    modern.handler.notify.toolsChanged();
    const client = await connectSdkClient(gateway.url, { version: 1 });
    try {
      await waitFor('m_late listed', async () => {
        const { tools } = await client.client.listTools();
        return tools.some((t) => t.name === 'm_late') ? true : undefined;
      });
    } finally {
      lateTool = false;
      await client.close();
    }
  });
});

describe('a legacy client (SDK 1.x)', () => {
  it('sees the tools of both upstreams and calls the modern one', async () => {
    const client = await connectSdkClient(gateway.url, { version: 1 });
    try {
      const { tools } = await client.client.listTools();
      expect(tools.map((t) => t.name)).toEqual(
        expect.arrayContaining(['l_ask', 'l_whisper', 'm_confirm', 'm_shout', 'm_slow']),
      );
      const result = await client.client.callTool({ name: 'm_shout', arguments: { text: 'legacy' } });
      expect(result.content).toEqual([{ type: 'text', text: 'LEGACY' }]);
      const call = modern.calls('tools/call').at(-1);
      const meta = call?.body?.params?.['_meta'] as Record<string, unknown>;
      expect(meta['io.modelcontextprotocol/protocolVersion']).toBe('2026-07-28');
    } finally {
      await client.close();
    }
  });

  it('answers a modern multi-round-trip tool: input requests become elicitation requests on the call stream', async () => {
    const client = await connectSdkClient(gateway.url, { version: 1, capabilities: { elicitation: {} } });
    try {
      client.client.setRequestHandler(ElicitRequestSchema, () => ({ action: 'accept', content: { sure: true } }));
      const result = await client.client.callTool({ name: 'm_confirm', arguments: { what: 'ship' } });
      expect(result.content).toEqual([{ type: 'text', text: 'ship: {"sure":true}' }]);
      const retry = modern.calls('tools/call').at(-1);
      expect(retry?.body?.params?.['inputResponses']).toEqual({ ok: { action: 'accept', content: { sure: true } } });
    } finally {
      await client.close();
    }
  });

  it('cancels a call to a modern upstream with notifications/cancelled', async () => {
    slowCancelled = false;
    slowStarted = false;
    const client = await connectSdkClient(gateway.url, { version: 1 });
    try {
      const abort = new AbortController();
      const call = client.client.callTool({ name: 'm_slow', arguments: {} }, undefined, { signal: abort.signal });
      await waitFor('the slow tool running upstream', () => (slowStarted ? true : undefined));
      abort.abort();
      await expect(call).rejects.toThrow();
      await waitFor('the upstream saw the cancellation', () => (slowCancelled ? true : undefined));
    } finally {
      await client.close();
    }
  });

  it('gets an error naming the capability when it cannot answer input requests', async () => {
    const client = await connectSdkClient(gateway.url, { version: 1 });
    try {
      const error = await client.client
        .callTool({ name: 'm_confirm', arguments: { what: 'x' } })
        .catch((e: unknown) => e as Error);
      expect(String((error as Error).message)).toMatch(/capabilit/);
    } finally {
      await client.close();
    }
  });
});

describe('the 2026-07-28 wire rules', () => {
  it('answers server/discover with every version served and cache hints', async () => {
    const response = await modernPost({ id: 1, method: 'server/discover', params: { _meta: envelope } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { result: Record<string, unknown> };
    expect(body.result).toMatchObject({
      resultType: 'complete',
      supportedVersions: expect.arrayContaining(['2026-07-28', '2025-11-25']),
      cacheScope: 'public',
    });
  });

  it('answers lists with resultType, ttlMs and cacheScope', async () => {
    const response = await modernPost({ id: 2, method: 'tools/list', params: { _meta: envelope } });
    const body = (await response.json()) as { result: Record<string, unknown> };
    // The SDK 2.x upstream marks its lists private with ttlMs 0: the aggregate is private too.
    expect(body.result).toMatchObject({ resultType: 'complete', ttlMs: 0, cacheScope: 'private' });
    expect((body.result['tools'] as unknown[]).length).toBeGreaterThanOrEqual(5);
  });

  it('refuses a Mcp-Method header that disagrees with the body (400, -32020)', async () => {
    const response = await modernPost(
      { id: 3, method: 'tools/list', params: { _meta: envelope } },
      { 'mcp-method': 'prompts/list' },
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: number } }).error.code).toBe(-32020);
  });

  it('refuses a Mcp-Name header that disagrees with the tool name', async () => {
    const response = await modernPost(
      { id: 4, method: 'tools/call', params: { name: 'm_shout', arguments: { text: 'x' }, _meta: envelope } },
      { 'mcp-name': 'm_other' },
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: number } }).error.code).toBe(-32020);
  });

  it('answers an unsupported version with 400, -32022 and the supported list', async () => {
    const response = await modernPost(
      {
        id: 5,
        method: 'tools/list',
        params: { _meta: { ...envelope, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } },
      },
      { 'mcp-protocol-version': '2099-01-01' },
    );
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: number; data: { supported: string[] } } };
    expect(body.error.code).toBe(-32022);
    expect(body.error.data.supported).toContain('2026-07-28');
  });

  it('refuses a forged gateway requestState with an error that says what to do', async () => {
    const params = {
      name: 'l_ask',
      arguments: {},
      requestState: 'mcpgw-parked:eyJhbGciOiJIUzI1NiJ9.e30.forged',
      inputResponses: {},
      _meta: envelope,
    };
    const response = await modernPost({ id: 7, method: 'tools/call', params }, { 'mcp-name': 'l_ask' });
    const body = (await response.json()) as { error: { code: number; message: string } };
    expect(body.error.code).toBe(-32602);
    expect(body.error.message).toMatch(/call again without requestState/);
  });

  it('answers an unknown method with 404 and -32601, and GET/DELETE with 405', async () => {
    const unknown = await modernPost({ id: 6, method: 'no/such', params: { _meta: envelope } });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: number } }).error.code).toBe(-32601);
    for (const method of ['GET', 'DELETE']) {
      const response = await fetch(gateway.url, { method, headers: { 'mcp-protocol-version': '2026-07-28' } });
      expect(response.status).toBe(405);
    }
  });

  it('streams list changes on subscriptions/listen, acknowledged first and tagged with the subscription id', async () => {
    const response = await modernPost({
      id: 'listen-1',
      method: 'subscriptions/listen',
      params: { notifications: { toolsListChanged: true }, _meta: envelope },
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const next = await reader.read();
        if (next.done) throw new Error(`stream ended before ${pattern}`);
        text += next.value;
      }
    };
    await readUntil(/notifications\/subscriptions\/acknowledged/);
    expect(text).toContain('"toolsListChanged":true');
    // A config reload tells every listener that the lists may have changed.
    await gateway.writeConfig(
      `servers:\n  - name: modern\n    url: ${JSON.stringify(modern.url)}\n    prefix: m_\n  - name: legacy\n    url: ${JSON.stringify(legacy.url)}\n    prefix: l_\n  - name: again\n    url: ${JSON.stringify(legacy.url)}\n    prefix: again_\n`,
    );
    await readUntil(/notifications\/tools\/list_changed/);
    expect(text).toContain('"io.modelcontextprotocol/subscriptionId":"listen-1"');
    await reader.cancel();
  });
});
