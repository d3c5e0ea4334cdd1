import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectSdkClient,
  startGateway,
  startSdkUpstream,
  type RunningGateway,
  type SdkUpstream,
} from '../harness/index.ts';
import { configYaml, echoAndGreet, initializeRequest, post, waitForHealthy } from './helpers.ts';

describe('initialize through the gateway', () => {
  let upstream: SdkUpstream;
  let gateway: RunningGateway;

  beforeAll(async () => {
    upstream = await startSdkUpstream({ setup: echoAndGreet });
    gateway = await startGateway({ config: configYaml([{ name: 'echo', url: upstream.url, prefix: 'e_' }]) });
    await waitForHealthy(gateway, 1);
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  it('answers with the capabilities of an aggregating server and its own server info', async () => {
    const reply = await post(gateway.url, initializeRequest('2025-11-25'));
    expect(reply.status).toBe(200);
    expect(reply.json?.result).toEqual({
      protocolVersion: '2025-11-25',
      capabilities: {
        tools: { listChanged: true },
        prompts: { listChanged: true },
        resources: { listChanged: true, subscribe: true },
        completions: {},
        logging: {},
      },
      serverInfo: { name: 'mcp-gateway', version: expect.any(String) },
    });
  });

  it('agrees to a protocol version it serves', async () => {
    for (const version of ['2025-06-18', '2025-03-26']) {
      const reply = await post(gateway.url, initializeRequest(version));
      expect(reply.json?.result).toMatchObject({ protocolVersion: version });
    }
  });

  it('proposes its newest version to a client asking for one it does not know', async () => {
    const reply = await post(gateway.url, initializeRequest('2099-01-01'));
    expect(reply.status).toBe(200);
    expect(reply.json?.result).toMatchObject({ protocolVersion: '2025-11-25' });
  });

  it('issues a session id that is an HS256 JWT with issuer, audience, id and expiry', async () => {
    const before = Math.floor(Date.now() / 1000);
    const reply = await post(gateway.url, initializeRequest());
    const sessionId = reply.headers.get('mcp-session-id');
    expect(sessionId).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    expect(decodeProtectedHeader(sessionId!)).toMatchObject({ alg: 'HS256' });
    const payload = decodeJwt(sessionId!);
    expect(payload.iss).toBe('mcp-gateway');
    expect(payload.aud).toBe('mcp-gateway');
    expect(payload.jti).toEqual(expect.any(String));
    // Default session length: 24 h from now.
    expect(payload.exp).toBeGreaterThanOrEqual(before + 24 * 3600);
    expect(payload.exp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 24 * 3600 + 1);
  });

  it('issues a different session id to every initialize', async () => {
    const first = await post(gateway.url, initializeRequest());
    const second = await post(gateway.url, initializeRequest());
    const jtis = [first, second].map((reply) => decodeJwt(reply.headers.get('mcp-session-id')!).jti);
    expect(jtis[0]).not.toBe(jtis[1]);
  });

  it('serves a 1.x SDK client: lists and calls a prefixed tool', async () => {
    const connected = await connectSdkClient(gateway.url, { version: 1 });
    try {
      expect(connected.client.getServerVersion()?.name).toBe('mcp-gateway');
      const { tools } = await connected.client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(['e_echo']);
      const result = await connected.client.callTool({ name: 'e_echo', arguments: { text: 'from v1' } });
      expect(result.content).toEqual([{ type: 'text', text: 'echo: from v1' }]);
    } finally {
      await connected.close();
    }
    const call = upstream.requests.findLast((request) => request.method === 'tools/call');
    expect(call?.params).toMatchObject({ name: 'echo', arguments: { text: 'from v1' } });
  });

  it('serves a 2.x SDK client in legacy mode: lists and calls a prefixed tool', async () => {
    const connected = await connectSdkClient(gateway.url, { version: 2 });
    try {
      expect(connected.sessionId()).toBeDefined();
      const { tools } = await connected.client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(['e_echo']);
      const result = await connected.client.callTool({ name: 'e_echo', arguments: { text: 'from v2' } });
      expect(result.content).toEqual([{ type: 'text', text: 'echo: from v2' }]);
      const prompt = await connected.client.getPrompt({ name: 'e_greet', arguments: { who: 'v2' } });
      expect(prompt.messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Hello, v2' } }]);
    } finally {
      await connected.close();
    }
    const call = upstream.requests.findLast((request) => request.method === 'tools/call');
    expect(call?.params).toMatchObject({ name: 'echo', arguments: { text: 'from v2' } });
  });
});

describe('session length', () => {
  it('issues session ids that expire after --session-length minutes', async () => {
    const gateway = await startGateway({ config: 'servers: []\n', args: ['--session-length', '5'] });
    try {
      const before = Math.floor(Date.now() / 1000);
      const reply = await post(gateway.url, initializeRequest());
      const payload = decodeJwt(reply.headers.get('mcp-session-id')!);
      expect(payload.exp).toBeGreaterThanOrEqual(before + 5 * 60);
      expect(payload.exp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 5 * 60 + 1);
    } finally {
      await gateway.stop();
    }
  });
});
