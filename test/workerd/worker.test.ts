import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startSdkUpstream, TEST_SIGNING_KEY, type SdkUpstream } from '../harness/index.ts';
import { readRpcMessage } from './read-rpc-message.ts';

const WORKER_BUNDLE = fileURLToPath(new URL('../../packages/edge-broker/dist/worker.js', import.meta.url));
const PROTOCOL_VERSION = '2025-11-25';
/** The date wrangler.toml deploys with; workerd 2026-07-30 supports it. */
const COMPATIBILITY_DATE = '2026-07-01';

/** The upstreams behind the worker: one answers POSTs with SSE, the other with JSON. */
const UPSTREAMS = [
  { name: 'sse', prefix: 'w_', enableJsonResponse: false },
  { name: 'json', prefix: 'j_', enableJsonResponse: true },
] as const;

describe('the built edge worker in workerd', () => {
  const upstreams = new Map<string, SdkUpstream>();
  let mf: Miniflare;

  beforeAll(async () => {
    if (!existsSync(WORKER_BUNDLE)) {
      throw new Error(`${WORKER_BUNDLE} does not exist; run \`npm run build\` first`);
    }
    for (const { name, enableJsonResponse } of UPSTREAMS) {
      upstreams.set(
        name,
        await startSdkUpstream({
          name: `${name}-upstream`,
          enableJsonResponse,
          setup(server) {
            server.registerTool(
              'echo',
              { description: 'Echoes its text', inputSchema: { text: z.string() } },
              ({ text }) => ({ content: [{ type: 'text', text: `echo: ${text}` }] }),
            );
          },
        }),
      );
    }
    const config = UPSTREAMS.map(
      ({ name, prefix }) => `  - name: ${name}\n    url: ${upstreams.get(name)!.url}\n    prefix: ${prefix}\n`,
    ).join('');
    mf = new Miniflare({
      modules: true,
      scriptPath: WORKER_BUNDLE,
      compatibilityDate: COMPATIBILITY_DATE,
      compatibilityFlags: ['nodejs_compat'],
      bindings: { MCP_GATEWAY_CONFIG: `servers:\n${config}`, GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY },
    });
    await mf.ready;
  });

  afterAll(async () => {
    await mf?.dispose();
    await Promise.all([...upstreams.values()].map((upstream) => upstream.stop()));
  });

  async function post(body: object, sessionId?: string) {
    return mf.dispatchFetch('http://localhost/mcp', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(sessionId === undefined ? {} : { 'mcp-session-id': sessionId, 'mcp-protocol-version': PROTOCOL_VERSION }),
      },
      body: JSON.stringify(body),
    });
  }

  async function initialize(): Promise<string> {
    const response = await post({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'workerd-test', version: '1.0.0' } },
    });
    expect(response.status).toBe(200);
    const sessionId = response.headers.get('mcp-session-id');
    expect(sessionId).toBeTruthy();
    const message = await readRpcMessage(response, 0);
    expect(message.result).toMatchObject({ protocolVersion: PROTOCOL_VERSION });
    const initialized = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, sessionId!);
    expect(initialized.status).toBe(202);
    await initialized.body?.cancel();
    return sessionId!;
  }

  it('answers /healthz', async () => {
    const response = await mf.dispatchFetch('http://localhost/healthz');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok\n');
  });

  it('initializes a session and lists every upstream tool under its prefix', async () => {
    const sessionId = await initialize();
    const response = await post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, sessionId);
    expect(response.status).toBe(200);
    const message = await readRpcMessage(response, 1);
    const tools = (message.result as { tools: { name: string }[] }).tools.map((tool) => tool.name);
    expect(tools.sort()).toEqual(['j_echo', 'w_echo']);
  });

  it('reports the upstreams as ready on /status', async () => {
    const response = await mf.dispatchFetch('http://localhost/status');
    expect(response.status).toBe(200);
    const report = (await response.json()) as { servers: { name: string; ready: boolean; totalTools: number }[] };
    expect(report.servers).toEqual(
      UPSTREAMS.map(({ name }) => expect.objectContaining({ name, ready: true, totalTools: 1 })),
    );
  });

  for (const { name, prefix, enableJsonResponse } of UPSTREAMS) {
    const answer = enableJsonResponse ? 'JSON' : 'SSE';

    it(`calls a tool on an upstream that answers with ${answer}, over one backend session, until DELETE`, async () => {
      const upstream = upstreams.get(name)!;
      const sessionId = await initialize();
      const initializesBefore = upstream.initializeCount;

      const first = await post(
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: `${prefix}echo`, arguments: { text: 'one' } } },
        sessionId,
      );
      expect(first.status).toBe(200);
      expect((await readRpcMessage(first, 2)).result).toEqual({ content: [{ type: 'text', text: 'echo: one' }] });
      expect(upstream.initializeCount).toBe(initializesBefore + 1);
      const calls = () => upstream.requests.filter((request) => request.method === 'tools/call');
      expect(calls().at(-1)?.params).toEqual({ name: 'echo', arguments: { text: 'one' } });
      const backendSession = calls().at(-1)?.sessionId;
      expect(upstream.sessions()).toContain(backendSession);

      const second = await post(
        { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: `${prefix}echo`, arguments: { text: 'two' } } },
        sessionId,
      );
      expect((await readRpcMessage(second, 3)).result).toEqual({ content: [{ type: 'text', text: 'echo: two' }] });
      expect(calls().at(-1)).toMatchObject({ sessionId: backendSession, params: { arguments: { text: 'two' } } });
      expect(upstream.initializeCount).toBe(initializesBefore + 1);

      const ended = await mf.dispatchFetch('http://localhost/mcp', {
        method: 'DELETE',
        headers: { 'mcp-session-id': sessionId, 'mcp-protocol-version': PROTOCOL_VERSION },
      });
      expect(ended.status).toBe(200);
      await expect.poll(() => upstream.sessions()).not.toContain(backendSession);

      const after = await post({ jsonrpc: '2.0', id: 4, method: 'tools/list' }, sessionId);
      expect(after.status).toBe(404);
      await after.body?.cancel();
    });
  }
});
