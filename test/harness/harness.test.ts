import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { connectSdkClient, freePort, startGateway, startProcess, startSdkUpstream, type SdkUpstream } from './index.ts';

describe('startSdkUpstream with connectSdkClient', () => {
  let upstream: SdkUpstream;

  beforeAll(async () => {
    upstream = await startSdkUpstream({
      name: 'echo-upstream',
      setup(server) {
        server.registerTool(
          'echo',
          { description: 'Echoes its text', inputSchema: { text: z.string() } },
          ({ text }) => ({ content: [{ type: 'text', text: `echo: ${text}` }] }),
        );
      },
    });
  });

  afterAll(async () => {
    await upstream.stop();
  });

  for (const version of [1, 2] as const) {
    it(`serves a ${version}.x SDK client: lists and calls a tool`, async () => {
      const connected =
        version === 1
          ? await connectSdkClient(upstream.url, { version, headers: { authorization: 'Bearer harness-token' } })
          : await connectSdkClient(upstream.url, { version, headers: { authorization: 'Bearer harness-token' } });
      try {
        const { tools } = await connected.client.listTools();
        expect(tools.map((tool) => tool.name)).toEqual(['echo']);

        const result = await connected.client.callTool({ name: 'echo', arguments: { text: 'hi' } });
        expect(result.content).toEqual([{ type: 'text', text: 'echo: hi' }]);

        const sessionId = connected.sessionId();
        expect(sessionId).toBeDefined();
        expect(upstream.sessions()).toContain(sessionId);
        const call = upstream.requests.find(
          (request) => request.method === 'tools/call' && request.sessionId === sessionId,
        );
        expect(call?.params).toMatchObject({ name: 'echo', arguments: { text: 'hi' } });
        expect(call?.headers.authorization).toBe('Bearer harness-token');
      } finally {
        await connected.close();
      }
    });
  }

  it('counts initializes and deletes and forgets a closed session', async () => {
    const before = { initialize: upstream.initializeCount, delete: upstream.deleteCount };
    const connected = await connectSdkClient(upstream.url, { version: 1 });
    const sessionId = connected.sessionId()!;
    expect(upstream.initializeCount).toBe(before.initialize + 1);

    await connected.close();
    expect(upstream.deleteCount).toBe(before.delete + 1);
    expect(upstream.sessions()).not.toContain(sessionId);
  });

  it('answers 404 for a session after expireSession', async () => {
    const connected = await connectSdkClient(upstream.url, { version: 2 });
    const sessionId = connected.sessionId()!;
    await upstream.expireSession(sessionId);

    const response = await fetch(upstream.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sessionId,
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(404);
    await expect(connected.client.listTools()).rejects.toThrow();
    await connected.close({ terminate: false });
  });

  it('keeps its port across restart and drops the sessions', async () => {
    const connected = await connectSdkClient(upstream.url, { version: 1 });
    const sessionId = connected.sessionId()!;
    await upstream.restart();
    expect(upstream.sessions()).not.toContain(sessionId);

    const fresh = await connectSdkClient(upstream.url, { version: 1 });
    expect((await fresh.client.listTools()).tools).toHaveLength(1);
    await fresh.close();
    await connected.close({ terminate: false });
  });
});

describe('startProcess', () => {
  it('waits for a URL and stops the process group', async () => {
    const port = await freePort();
    const script = `require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1', () => console.log('listening'))`;
    const child = await startProcess(process.execPath, ['-e', script], {
      readyWhen: { url: `http://127.0.0.1:${port}/`, stdout: /listening/ },
    });
    expect(child.stdout()).toContain('listening');
    await child.stop();
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });

  it('rejects with the output when the process exits before it is ready', async () => {
    const started = startProcess(process.execPath, ['-e', 'console.error("boom"); process.exit(3)'], {
      readyWhen: { stdout: /never/ },
    });
    await expect(started).rejects.toThrow(/exited with code 3[\s\S]*boom/);
  });
});

describe('startGateway', () => {
  it('runs the built gateway in front of an SDK upstream and stops it', async () => {
    const upstream = await startSdkUpstream({
      setup(server) {
        server.registerTool('echo', { inputSchema: { text: z.string() } }, ({ text }) => ({
          content: [{ type: 'text', text }],
        }));
      },
    });
    const gateway = await startGateway({
      config: `servers:\n  - name: harness\n    url: ${upstream.url}\n    prefix: h_\n`,
    });
    try {
      expect(gateway.url).toBe(`http://127.0.0.1:${gateway.port}/mcp`);
      const connected = await connectSdkClient(gateway.url, { version: 1 });
      try {
        await expect
          .poll(async () => (await connected.client.listTools()).tools.map((tool) => tool.name))
          .toContain('h_echo');
        const result = await connected.client.callTool({ name: 'h_echo', arguments: { text: 'via gateway' } });
        expect(result.content).toEqual([{ type: 'text', text: 'via gateway' }]);
        expect(upstream.requests.some((request) => request.method === 'tools/call')).toBe(true);
      } finally {
        await connected.close();
      }
    } finally {
      await gateway.stop();
      await upstream.stop();
    }
    expect(gateway.process.pid).toBeGreaterThan(0);
    await expect(fetch(`${gateway.baseUrl}/healthz`)).rejects.toThrow();
  });
});
