import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TEST_SIGNING_KEY,
  startGateway,
  startSdkUpstream,
  type RunningGateway,
  type SdkUpstream,
} from '../harness/index.ts';
import {
  configYaml,
  echoAndGreet,
  onSession,
  openSession,
  post,
  request,
  signSessionToken,
  waitForHealthy,
} from './helpers.ts';

describe('the JSON-RPC error contract', () => {
  let upstream: SdkUpstream;
  let gateway: RunningGateway;
  let sessionId: string;

  beforeAll(async () => {
    upstream = await startSdkUpstream({ setup: echoAndGreet });
    gateway = await startGateway({ config: configYaml([{ name: 'echo', url: upstream.url, prefix: 'e_' }]) });
    await waitForHealthy(gateway, 1);
    sessionId = await openSession(gateway.url);
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  describe('bodies that are not one JSON-RPC message', () => {
    it('answers malformed JSON with 400 and a parse error', async () => {
      const reply = await post(gateway.url, '{"jsonrpc": "2.0", "id": 1, "method": ', onSession(sessionId));
      expect(reply.status).toBe(400);
      expect(reply.json?.error?.code).toBe(-32700);
      expect(reply.json?.error?.message).toMatch(/parse error.*not valid JSON/i);
      expect(reply.json?.id).toBeNull();
    });

    it('answers an empty body with 400 and a parse error saying it is empty', async () => {
      const reply = await post(gateway.url, '', onSession(sessionId));
      expect(reply.status).toBe(400);
      expect(reply.json?.error).toMatchObject({ code: -32700, message: expect.stringMatching(/empty/i) });
    });

    it('answers JSON that is not JSON-RPC with 400 and an invalid request error naming the problem', async () => {
      const reply = await post(gateway.url, { hello: 1 }, onSession(sessionId));
      expect(reply.status).toBe(400);
      expect(reply.json?.error).toMatchObject({
        code: -32600,
        message: expect.stringMatching(/jsonrpc must be "2\.0"/),
      });
    });

    it('answers a batch with 400 and an invalid request error naming batches', async () => {
      const reply = await post(gateway.url, [request('ping'), request('tools/list')], onSession(sessionId));
      expect(reply.status).toBe(400);
      expect(reply.json?.error).toMatchObject({ code: -32600, message: expect.stringMatching(/batch/i) });
    });

    it('answers a JSON value that is not an object with 400 and an invalid request error', async () => {
      const reply = await post(gateway.url, '"tools/list"', onSession(sessionId));
      expect(reply.status).toBe(400);
      expect(reply.json?.error).toMatchObject({ code: -32600, message: expect.stringMatching(/JSON object/) });
    });
  });

  describe('session ids', () => {
    it('answers a request without Mcp-Session-Id with 400 naming the header', async () => {
      const reply = await post(gateway.url, request('tools/list'));
      expect(reply.status).toBe(400);
      expect(reply.json?.error?.message).toMatch(/Mcp-Session-Id/);
      expect(reply.json?.error?.message).toMatch(/initialize/);
    });

    it('accepts a session id signed with its key, as any replica would', async () => {
      const token = await signSessionToken(TEST_SIGNING_KEY, Math.floor(Date.now() / 1000) + 600);
      const reply = await post(gateway.url, request('tools/list'), onSession(token));
      expect(reply.status).toBe(200);
    });

    it('answers a session id signed with another key with 404', async () => {
      const forged = await signSessionToken(
        'another-signing-key-that-is-long-enough-0123',
        Math.floor(Date.now() / 1000) + 600,
      );
      const reply = await post(gateway.url, request('tools/list'), onSession(forged));
      expect(reply.status).toBe(404);
      expect(reply.json?.error?.message).toMatch(/session not found/i);
    });

    it('answers a garbage session id with 404', async () => {
      for (const garbage of ['not-a-session', 'a.b.c', `${sessionId.slice(0, -4)}AAAA`]) {
        const reply = await post(gateway.url, request('tools/list'), onSession(garbage));
        expect(reply.status).toBe(404);
        expect(reply.json?.error?.message).toMatch(/session not found/i);
      }
    });

    it('answers an expired session id with 404 saying it expired', async () => {
      const expired = await signSessionToken(TEST_SIGNING_KEY, Math.floor(Date.now() / 1000) - 60);
      const reply = await post(gateway.url, request('tools/list'), onSession(expired));
      expect(reply.status).toBe(404);
      expect(reply.json?.error?.message).toMatch(/session expired/i);
    });

    it('answers an unsupported MCP-Protocol-Version header with 400 naming the version', async () => {
      const reply = await post(
        gateway.url,
        request('tools/list'),
        onSession(sessionId, { 'mcp-protocol-version': '1999-01-01' }),
      );
      expect(reply.status).toBe(400);
      expect(reply.json?.error?.message).toMatch(/unsupported protocol version: 1999-01-01/i);
    });
  });

  describe('requests on a valid session', () => {
    it('answers ping with an empty result', async () => {
      const ping = request('ping');
      const reply = await post(gateway.url, ping, onSession(sessionId));
      expect(reply.status).toBe(200);
      expect(reply.json).toEqual({ jsonrpc: '2.0', id: ping.id, result: {} });
    });

    it('accepts notifications/initialized with 202 and no body', async () => {
      const reply = await post(
        gateway.url,
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        onSession(sessionId),
      );
      expect(reply.status).toBe(202);
      expect(reply.text).toBe('');
    });

    it('answers an unknown method with a JSON-RPC method-not-found error naming it', async () => {
      const unknown = request('tools/frobnicate');
      const reply = await post(gateway.url, unknown, onSession(sessionId));
      expect(reply.json).toMatchObject({
        id: unknown.id,
        error: { code: -32601, message: expect.stringContaining('tools/frobnicate') },
      });
    });

    it('answers a call of an unknown tool with invalid params naming the tool, without asking the upstream', async () => {
      const before = upstream.requests.length;
      const reply = await post(
        gateway.url,
        request('tools/call', { name: 'e_nope', arguments: {} }),
        onSession(sessionId),
      );
      expect(reply.json?.error).toMatchObject({ code: -32602, message: expect.stringContaining('e_nope') });
      expect(reply.json?.error?.message).toMatch(/unknown tool/i);
      expect(upstream.requests.slice(before).some((r) => r.method === 'tools/call')).toBe(false);
    });

    it('answers a tool name without its prefix as an unknown tool', async () => {
      const reply = await post(
        gateway.url,
        request('tools/call', { name: 'echo', arguments: {} }),
        onSession(sessionId),
      );
      expect(reply.json?.error).toMatchObject({ code: -32602, message: expect.stringContaining('echo') });
    });

    it('answers a get of an unknown prompt with invalid params naming the prompt', async () => {
      const reply = await post(gateway.url, request('prompts/get', { name: 'e_missing' }), onSession(sessionId));
      expect(reply.json?.error).toMatchObject({ code: -32602, message: expect.stringContaining('e_missing') });
      expect(reply.json?.error?.message).toMatch(/unknown prompt/i);
    });

    it('answers tools/call without a name with invalid params naming the field', async () => {
      const reply = await post(gateway.url, request('tools/call', { arguments: {} }), onSession(sessionId));
      expect(reply.json?.error).toMatchObject({ code: -32602, message: expect.stringContaining('params.name') });
    });

    it('passes a known prompt through after all those errors', async () => {
      const reply = await post(
        gateway.url,
        request('prompts/get', { name: 'e_greet', arguments: { who: 'you' } }),
        onSession(sessionId),
      );
      expect(reply.json?.result).toMatchObject({ messages: [{ content: { text: 'Hello, you' } }] });
    });
  });
});
