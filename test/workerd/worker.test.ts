import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startSdkUpstream, type SdkUpstream } from '../harness/index.ts';
import { readRpcMessage } from './read-rpc-message.ts';
import { PROTOCOL_VERSION, startWorker, type RunningWorker } from './start-worker.ts';

/** The upstreams behind the worker: one answers POSTs with SSE, the other with JSON. */
const UPSTREAMS = [
  { name: 'sse', prefix: 'w_', enableJsonResponse: false, answer: 'SSE', contentType: 'text/event-stream' },
  { name: 'json', prefix: 'j_', enableJsonResponse: true, answer: 'JSON', contentType: 'application/json' },
] as const;

function startEchoUpstream(name: string, enableJsonResponse: boolean): Promise<SdkUpstream> {
  return startSdkUpstream({
    name: `${name}-upstream`,
    enableJsonResponse,
    setup(server) {
      server.registerTool(
        'echo',
        { description: 'Echoes its text', inputSchema: { text: z.string() } },
        ({ text }) => ({ content: [{ type: 'text', text: `echo: ${text}` }] }),
      );
    },
  });
}

function echoCall(id: number, name: string, text: string) {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: { text } } };
}

function toolCalls(upstream: SdkUpstream) {
  return upstream.requests.filter((request) => request.method === 'tools/call');
}

describe('the built edge worker in workerd', () => {
  const upstreams = new Map<string, SdkUpstream>();
  let worker: RunningWorker;

  beforeAll(async () => {
    for (const { name, enableJsonResponse } of UPSTREAMS) {
      upstreams.set(name, await startEchoUpstream(name, enableJsonResponse));
    }
    worker = await startWorker(UPSTREAMS.map(({ name, prefix }) => ({ name, prefix, url: upstreams.get(name)!.url })));
  });

  afterAll(async () => {
    await worker?.dispose();
    await Promise.all([...upstreams.values()].map((upstream) => upstream.stop()));
  });

  it('answers /healthz', async () => {
    const response = await worker.fetch('/healthz');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok\n');
  });

  it('issues a session on initialize and lists every upstream tool under its prefix', async () => {
    const sessionId = await worker.initialize();
    const response = await worker.post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, sessionId);
    expect(response.status).toBe(200);
    const { result } = await readRpcMessage(response, 1);
    const names = (result as { tools: { name: string }[] }).tools.map((tool) => tool.name);
    expect(names.sort()).toEqual(['j_echo', 'w_echo']);
  });

  it('reports the upstreams a request has listed as ready on /status', async () => {
    const sessionId = await worker.initialize();
    await (await worker.post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, sessionId)).text();

    const response = await worker.fetch('/status');
    expect(response.status).toBe(200);
    const report = (await response.json()) as { servers: unknown[]; healthyServers: number };
    expect(report.servers).toEqual(
      UPSTREAMS.map(({ name, prefix }) => expect.objectContaining({ name, prefix, ready: true, totalTools: 1 })),
    );
    expect(report.healthyServers).toBe(UPSTREAMS.length);
  });

  for (const { name, prefix, answer, contentType } of UPSTREAMS) {
    it(`forwards a call to the upstream that answers with ${answer} without the prefix, over one backend session`, async () => {
      const upstream = upstreams.get(name)!;
      const sessionId = await worker.initialize();
      const initializesBefore = upstream.initializeCount;

      const first = await worker.post(echoCall(2, `${prefix}echo`, 'one'), sessionId);
      expect(first.status).toBe(200);
      expect(first.headers.get('content-type')).toContain(contentType);
      expect((await readRpcMessage(first, 2)).result).toEqual({ content: [{ type: 'text', text: 'echo: one' }] });
      const forwarded = toolCalls(upstream).at(-1);
      expect(forwarded?.params).toEqual({ name: 'echo', arguments: { text: 'one' } });
      expect(upstream.sessions()).toContain(forwarded?.sessionId);
      expect(upstream.initializeCount).toBe(initializesBefore + 1);

      const second = await worker.post(echoCall(3, `${prefix}echo`, 'two'), sessionId);
      expect((await readRpcMessage(second, 3)).result).toEqual({ content: [{ type: 'text', text: 'echo: two' }] });
      expect(toolCalls(upstream).at(-1)).toMatchObject({
        sessionId: forwarded?.sessionId,
        params: { name: 'echo', arguments: { text: 'two' } },
      });
      expect(upstream.initializeCount).toBe(initializesBefore + 1);
    });

    it(`ends the session and its backend session on the ${answer} upstream on DELETE`, async () => {
      const upstream = upstreams.get(name)!;
      const sessionId = await worker.initialize();
      await readRpcMessage(await worker.post(echoCall(2, `${prefix}echo`, 'bye'), sessionId), 2);
      const backendSession = toolCalls(upstream).at(-1)?.sessionId;
      expect(upstream.sessions()).toContain(backendSession);

      const ended = await worker.fetch('/mcp', {
        method: 'DELETE',
        headers: { 'mcp-session-id': sessionId, 'mcp-protocol-version': PROTOCOL_VERSION },
      });
      expect(ended.status).toBe(200);
      // The backend DELETE runs in waitUntil, after the client has its answer.
      await expect.poll(() => upstream.sessions()).not.toContain(backendSession);

      const after = await worker.post({ jsonrpc: '2.0', id: 3, method: 'tools/list' }, sessionId);
      expect(after.status).toBe(404);
      await after.body?.cancel();
    });
  }
});

describe('a cold edge worker isolate', () => {
  let upstream: SdkUpstream;
  let worker: RunningWorker;

  beforeAll(async () => {
    upstream = await startEchoUpstream('cold', false);
    worker = await startWorker([{ name: 'cold', prefix: 'w_', url: upstream.url }]);
  });

  afterAll(async () => {
    await worker?.dispose();
    await upstream?.stop();
  });

  it('answers concurrent first calls once the upstream is listed, over one backend session', async () => {
    const sessionId = await worker.initialize();
    const texts = ['a', 'b', 'c'];
    const results = await Promise.all(
      texts.map(async (text, index) => {
        const response = await worker.post(echoCall(index + 1, 'w_echo', text), sessionId);
        return (await readRpcMessage(response, index + 1)).result;
      }),
    );

    expect(results).toEqual(texts.map((text) => ({ content: [{ type: 'text', text: `echo: ${text}` }] })));
    const backendSessions = new Set(toolCalls(upstream).map((call) => call.sessionId));
    expect(backendSessions.size).toBe(1);
    // One session for the worker's own discovery, one on the client's behalf.
    expect(upstream.initializeCount).toBe(2);
  });
});
