// GET /metrics of the built gateway on a real redis-server: the store's operations timed by
// operation and outcome (ok while Redis serves, error once it is stopped, the broker answering
// errors meanwhile), and the served catalog's size by kind.
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  startGateway,
  startRedis,
  startSdkUpstream,
  type RunningGateway,
  type RunningRedis,
  type SdkUpstream,
} from '../harness/index.ts';
import {
  configYaml,
  echoAndGreet,
  onSession,
  openSession,
  pollUntil,
  post,
  request,
  sample,
  waitForHealthy,
} from './helpers.ts';

const STORE = 'mcp_gateway_store_operation_duration_seconds';

/** Two tools, a listed resource and a template, next to echoAndGreet's tool and prompt. */
function arithmetic(server: McpServer): void {
  server.registerTool('add', { inputSchema: { a: z.number(), b: z.number() } }, ({ a, b }) => ({
    content: [{ type: 'text', text: String(a + b) }],
  }));
  server.registerTool('sub', { inputSchema: { a: z.number(), b: z.number() } }, ({ a, b }) => ({
    content: [{ type: 'text', text: String(a - b) }],
  }));
  server.registerResource('table', 'math://table', { mimeType: 'text/plain' }, (uri) => ({
    contents: [{ uri: uri.href, text: '1 2 3' }],
  }));
  server.registerResource('square', new ResourceTemplate('math://square/{n}', { list: undefined }), {}, (uri) => ({
    contents: [{ uri: uri.href, text: 'n²' }],
  }));
}

/** The count of the store histogram for one operation and outcome (0 when it has no series yet). */
const storeCount = (text: string, operation: string, outcome: 'ok' | 'error') =>
  sample(text, `${STORE}_count`, { operation, outcome }) ?? 0;

describe('GET /metrics with the session store on Redis', () => {
  let redis: RunningRedis;
  let alpha: SdkUpstream;
  let beta: SdkUpstream;
  let gateway: RunningGateway;
  let exited = false;

  beforeAll(async () => {
    redis = await startRedis();
    alpha = await startSdkUpstream({ setup: echoAndGreet });
    beta = await startSdkUpstream({ setup: arithmetic });
    gateway = await startGateway({
      config: configYaml([
        { name: 'alpha', url: alpha.url, prefix: 'a_' },
        { name: 'beta', url: beta.url, prefix: 'b_' },
      ]),
      env: { CACHE_CONNECTION_STRING: redis.url },
    });
    void gateway.process.exited.then(() => (exited = true));
    await waitForHealthy(gateway, 2);
  });

  afterAll(async () => {
    await gateway?.stop();
    await alpha?.stop();
    await beta?.stop();
    await redis?.stop();
  });

  const scrape = async () => {
    const response = await fetch(`${gateway.baseUrl}/metrics`);
    expect(response.status).toBe(200);
    return response.text();
  };

  it('counts the served catalog by kind', async () => {
    const text = await scrape();
    // alpha serves echo and greet; beta add, sub, one resource and one template.
    expect(sample(text, 'mcp_gateway_catalog_items', { kind: 'tools' })).toBe(3);
    expect(sample(text, 'mcp_gateway_catalog_items', { kind: 'prompts' })).toBe(1);
    expect(sample(text, 'mcp_gateway_catalog_items', { kind: 'resources' })).toBe(1);
    expect(sample(text, 'mcp_gateway_catalog_items', { kind: 'resource_templates' })).toBe(1);
    const sessionId = await openSession(gateway.url);
    const listed = await post(gateway.url, request('tools/list'), onSession(sessionId));
    const tools = (listed.json?.result as { tools: unknown[] }).tools;
    expect(sample(text, 'mcp_gateway_catalog_items', { kind: 'tools' })).toBe(tools.length);
  });

  it('times the store operations of a session and its calls on Redis as ok', async () => {
    const before = await scrape();
    const sessionId = await openSession(gateway.url);
    for (const [name, args] of [
      ['a_echo', { text: 'x' }],
      ['b_add', { a: 1, b: 2 }],
      ['a_echo', { text: 'y' }],
    ] as const) {
      const reply = await post(gateway.url, request('tools/call', { name, arguments: args }), onSession(sessionId));
      expect(reply.json?.error).toBeUndefined();
    }
    const ended = await fetch(gateway.url, { method: 'DELETE', headers: onSession(sessionId) });
    expect(ended.status).toBeLessThan(300);
    const text = await scrape();

    const added = (operation: string) => storeCount(text, operation, 'ok') - storeCount(before, operation, 'ok');
    // Every request on the session reads it once; the first call to each upstream opens its backend session once.
    expect(added('lookup')).toBeGreaterThanOrEqual(4);
    expect(added('ensureBackendSession')).toBe(2);
    // Each new backend session is announced on the session's topic, through Redis.
    expect(added('publish')).toBeGreaterThanOrEqual(2);
    expect(added('terminate')).toBe(1);
    for (const operation of ['lookup', 'ensureBackendSession', 'publish', 'terminate']) {
      expect(storeCount(text, operation, 'error')).toBe(0);
      // Every sample falls in a finite bucket: no store operation took more than a second.
      expect(sample(text, `${STORE}_bucket`, { operation, outcome: 'ok', le: '1' })).toBe(
        storeCount(text, operation, 'ok'),
      );
    }
    expect(text).toContain(`# TYPE ${STORE} histogram`);
  });

  it('times failures as errors while Redis is stopped, and the broker keeps answering', async () => {
    const sessionId = await openSession(gateway.url);
    const first = await post(gateway.url, request('tools/call', { name: 'a_echo', arguments: { text: 'x' } }), {
      ...onSession(sessionId),
    });
    expect(first.json?.error).toBeUndefined();
    const before = await scrape();
    expect(storeCount(before, 'lookup', 'error')).toBe(0);

    await redis.stop();
    for (let i = 0; i < 3; i++) {
      const reply = await post(
        gateway.url,
        request('tools/call', { name: 'a_echo', arguments: { text: 'x' } }),
        onSession(sessionId),
      );
      expect(reply.status).toBe(503);
      expect(reply.json?.error?.message).toMatch(/^session store \(Redis\) unavailable/);
    }
    const during = await scrape();
    expect(storeCount(during, 'lookup', 'error')).toBeGreaterThanOrEqual(3);
    expect((await fetch(`${gateway.baseUrl}/healthz`)).status).toBe(200);
    expect(exited).toBe(false);

    await redis.restart();
    const answered = await pollUntil(
      () =>
        post(gateway.url, request('tools/call', { name: 'a_echo', arguments: { text: 'z' } }), onSession(sessionId)),
      (reply) => reply.status === 200 && reply.json?.error === undefined,
      { what: 'a call once Redis is back' },
    );
    expect(JSON.stringify(answered.json?.result)).toContain('echo: z');
    const after = await scrape();
    expect(storeCount(after, 'lookup', 'ok')).toBeGreaterThan(storeCount(during, 'lookup', 'ok'));
    expect(exited).toBe(false);
  });
});
