import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../harness/index.ts';
import {
  POST_HEADERS,
  initializeRequest,
  onSession,
  openSession,
  post,
  postWithHost,
  request,
  toReply,
} from './helpers.ts';

const BODY_LIMIT = 1024;
const PUBLIC_HOST = 'mcp.example.com';

describe('HTTP guards of the MCP endpoint', () => {
  let gateway: RunningGateway;
  let sessionId: string;

  beforeAll(async () => {
    gateway = await startGateway({
      config: 'servers: []\n',
      args: [
        ['--max-request-body-size', String(BODY_LIMIT)],
        ['--allowed-origins', 'https://app.example.com'],
        ['--mcp-gateway-public-host', PUBLIC_HOST],
      ].flat(),
    });
    sessionId = await openSession(gateway.url);
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  const pingStillWorks = async () => {
    const reply = await post(gateway.url, request('ping'), onSession(sessionId));
    expect(reply.status).toBe(200);
    expect(reply.json?.result).toEqual({});
  };

  /** A valid tools/call whose serialised form is about `bytes` long. */
  const oversizedCall = (bytes: number) =>
    JSON.stringify(request('tools/call', { name: 'anything', arguments: { text: 'x'.repeat(bytes) } }));

  describe('request body limit', () => {
    it('refuses a body over --max-request-body-size declared by Content-Length with 413 naming the limit', async () => {
      const body = oversizedCall(4 * BODY_LIMIT);
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { ...POST_HEADERS, ...onSession(sessionId), 'content-length': String(Buffer.byteLength(body)) },
        body,
      });
      const reply = await toReply(response);
      expect(reply.status).toBe(413);
      expect(reply.json?.error?.message).toMatch(new RegExp(`exceeds the limit of ${BODY_LIMIT} bytes`));
      await pingStillWorks();
    });

    it('refuses a chunked body once it grows past the limit, without waiting for its end', async () => {
      // The body never ends on its own: only a gateway that stops reading at the limit can answer.
      const chunk = new TextEncoder().encode(
        `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"${'x'.repeat(600)}`,
      );
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent < 3) {
            sent += 1;
            controller.enqueue(chunk);
            return;
          }
          return new Promise<void>(() => undefined);
        },
      });
      const controller = new AbortController();
      try {
        const response = await fetch(gateway.url, {
          method: 'POST',
          headers: { ...POST_HEADERS, ...onSession(sessionId) },
          body,
          duplex: 'half',
          signal: controller.signal,
        } as RequestInit);
        const reply = await toReply(response);
        expect(reply.status).toBe(413);
        expect(reply.json?.error?.message).toMatch(new RegExp(`exceeds the limit of ${BODY_LIMIT} bytes`));
      } finally {
        controller.abort();
      }
      await pingStillWorks();
    });

    it('accepts a body just under the limit', async () => {
      const body = JSON.stringify({ ...request('ping'), params: { pad: 'x'.repeat(BODY_LIMIT - 100) } });
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(BODY_LIMIT);
      const reply = await post(gateway.url, body, onSession(sessionId));
      expect(reply.status).toBe(200);
    });
  });

  describe('origins', () => {
    it('refuses a browser page of a foreign origin with 403 naming the origin', async () => {
      const reply = await post(gateway.url, initializeRequest(), { origin: 'http://evil.example.com' });
      expect(reply.status).toBe(403);
      expect(reply.json?.error?.message).toContain('http://evil.example.com');
      expect(reply.headers.get('mcp-session-id')).toBeNull();
    });

    it('refuses a foreign origin on an established session too', async () => {
      const reply = await post(
        gateway.url,
        request('tools/list'),
        onSession(sessionId, { origin: 'https://evil.example.com' }),
      );
      expect(reply.status).toBe(403);
    });

    it('accepts a page served from this machine', async () => {
      for (const origin of [`http://localhost:${gateway.port}`, `http://127.0.0.1:${gateway.port}`]) {
        const reply = await post(gateway.url, initializeRequest(), { origin });
        expect(reply.status).toBe(200);
        expect(reply.headers.get('mcp-session-id')).not.toBeNull();
      }
    });

    it('accepts an origin listed in --allowed-origins and no look-alike of it', async () => {
      const allowed = await post(gateway.url, initializeRequest(), { origin: 'https://app.example.com' });
      expect(allowed.status).toBe(200);
      const lookalike = await post(gateway.url, initializeRequest(), {
        origin: 'https://app.example.com.evil.example',
      });
      expect(lookalike.status).toBe(403);
      const otherScheme = await post(gateway.url, initializeRequest(), { origin: 'http://app.example.com' });
      expect(otherScheme.status).toBe(403);
    });

    it('lets a browser page on an allowed origin pass the CORS preflight and read the session id', async () => {
      const preflight = await fetch(gateway.url, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example.com',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type, mcp-session-id',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(preflight.headers.get('access-control-allow-headers')).toContain('mcp-session-id');
      const reply = await post(gateway.url, initializeRequest(), { origin: 'https://app.example.com' });
      expect(reply.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(reply.headers.get('access-control-expose-headers')).toContain('mcp-session-id');
      const refused = await fetch(gateway.url, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
      expect(refused.status).toBe(403);
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('host names', () => {
    it('refuses a Host name it does not answer to, as after DNS rebinding, with 403 naming it', async () => {
      const reply = await postWithHost(gateway.url, `rebind.attacker.example:${gateway.port}`, initializeRequest());
      expect(reply.status).toBe(403);
      expect(reply.json?.error?.message).toContain('rebind.attacker.example');
      expect(reply.headers.get('mcp-session-id')).toBeNull();
    });

    it('answers to its --mcp-gateway-public-host and accepts pages served from it', async () => {
      const byHost = await postWithHost(gateway.url, PUBLIC_HOST, initializeRequest());
      expect(byHost.status).toBe(200);
      const fromPage = await postWithHost(gateway.url, PUBLIC_HOST, initializeRequest(), {
        origin: `https://${PUBLIC_HOST}`,
      });
      expect(fromPage.status).toBe(200);
    });
  });

  describe('methods and media types', () => {
    it('refuses a body that is not JSON with 415 naming the content type it needs', async () => {
      const reply = await post(
        gateway.url,
        JSON.stringify(request('ping')),
        onSession(sessionId, { 'content-type': 'text/plain' }),
      );
      expect(reply.status).toBe(415);
      expect(reply.json?.error?.message).toMatch(/Content-Type must be application\/json/);
    });

    it('refuses a client that accepts neither JSON nor event streams with 406', async () => {
      const reply = await post(gateway.url, request('ping'), onSession(sessionId, { accept: 'text/html' }));
      expect(reply.status).toBe(406);
      expect(reply.json?.error?.message).toMatch(/accept/i);
    });

    it('answers PUT with 405 and the allowed methods', async () => {
      const response = await fetch(gateway.url, {
        method: 'PUT',
        headers: { ...POST_HEADERS, ...onSession(sessionId) },
        body: JSON.stringify(request('ping')),
      });
      const reply = await toReply(response);
      expect(reply.status).toBe(405);
      expect(reply.headers.get('allow')).toBe('GET, POST, DELETE');
      expect(reply.json?.error?.message).toMatch(/PUT is not allowed/);
    });
  });
});
