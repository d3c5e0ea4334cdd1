import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConformanceFixture, type ConformanceFixture } from './fixture-server.ts';

const PROTOCOL_VERSION = '2025-11-25';

let fixture: ConformanceFixture;

beforeAll(async () => {
  fixture = await startConformanceFixture();
});
afterAll(async () => {
  await fixture.stop();
});

/** POSTs with node:http, which, unlike fetch, lets a test choose the Host header. */
function postWithHost(url: string, headers: Record<string, string>): Promise<number> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'host-test', version: '1' } },
  });
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

async function initialize(): Promise<string> {
  const response = await fetch(fixture.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
  await response.text();
  const sessionId = response.headers.get('mcp-session-id');
  if (sessionId === null) throw new Error('initialize returned no session id');
  await fetch(fixture.url, {
    method: 'POST',
    headers: sessionHeaders(sessionId),
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  return sessionId;
}

function sessionHeaders(sessionId: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-session-id': sessionId,
    'mcp-protocol-version': PROTOCOL_VERSION,
  };
}

interface SseEvent {
  id?: string;
  retry?: string;
  data: string;
}

function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '' && !block.startsWith(':'))
    .map((block) => {
      const event: SseEvent = { data: '' };
      for (const line of block.split('\n')) {
        const [field, ...rest] = line.split(':');
        const value = rest.join(':').replace(/^ /, '');
        if (field === 'id') event.id = value;
        if (field === 'retry') event.retry = value;
        if (field === 'data') event.data += value;
      }
      return event;
    });
}

describe('conformance fixture', () => {
  it('refuses a non-localhost Host or Origin with 403 and accepts localhost ones', async () => {
    const { port } = new URL(fixture.url);
    expect(await postWithHost(fixture.url, { host: 'evil.example.com' })).toBe(403);
    expect(await postWithHost(fixture.url, { host: `localhost:${port}`, origin: 'http://evil.example.com' })).toBe(403);
    expect(await postWithHost(fixture.url, { host: `localhost:${port}`, origin: `http://localhost:${port}` })).toBe(
      200,
    );
  });

  it('answers 404 for an unknown session and 400 for a first request that is not initialize', async () => {
    const unknown = await fetch(fixture.url, {
      method: 'POST',
      headers: sessionHeaders('no-such-session'),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(unknown.status).toBe(404);
    const sessionless = await fetch(fixture.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(sessionless.status).toBe(400);
  });

  it('primes the stream, closes it mid-call and replays the result after Last-Event-ID', async () => {
    const sessionId = await initialize();
    const call = await fetch(fixture.url, {
      method: 'POST',
      headers: sessionHeaders(sessionId),
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'test_reconnection' } }),
    });
    const events = parseSse(await call.text());
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ retry: '1000', data: '' });
    const primingId = events[0]!.id!;

    const resumed = await fetch(fixture.url, {
      headers: { ...sessionHeaders(sessionId), accept: 'text/event-stream', 'last-event-id': primingId },
    });
    expect(resumed.status).toBe(200);
    const replayed = parseSse(await resumed.text()).filter((event) => event.data !== '');
    expect(replayed.map((event) => JSON.parse(event.data))).toEqual([
      { jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'Reconnection test completed' }] } },
    ]);
  });

  it('gives an SDK client the result of a call whose stream closed mid-call', async () => {
    const client = new Client({ name: 'fixture-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(fixture.url)));
    try {
      const result = await client.callTool({ name: 'test_reconnection', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'Reconnection test completed' }]);
    } finally {
      await client.close();
    }
  });

  it('keeps the JSON Schema 2020-12 keywords of json_schema_2020_12_tool on the wire', async () => {
    const client = new Client({ name: 'fixture-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(fixture.url)));
    try {
      const { tools } = await client.listTools();
      const tool = tools.find((candidate) => candidate.name === 'json_schema_2020_12_tool');
      expect(tool?.inputSchema).toMatchObject({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        $defs: { address: { type: 'object' } },
        additionalProperties: false,
      });
    } finally {
      await client.close();
    }
  });
});
