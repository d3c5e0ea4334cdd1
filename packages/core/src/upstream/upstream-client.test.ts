import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { EmptyResultSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createInMemoryEventStore } from '../../../../test/conformance/fixture/event-store.ts';
import { startSdkUpstream, type SdkUpstream, type SdkUpstreamOptions } from '../../../../test/harness/sdk-upstream.ts';
import type { ServerConfig } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import { NOOP_LOGGER } from '../logger.ts';
import type { JsonObject } from './types.ts';
import { createUpstreamClient, type UpstreamClientOptions } from './upstream-client.ts';
import { UpstreamRpcError, UpstreamSessionExpiredError } from './upstream-errors.ts';
import { buildUpstreamHeaders } from './upstream-headers.ts';

const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.allSettled(stops.splice(0).map((stop) => stop()));
});

function serverConfig(url: string, extra: Partial<ServerConfig> = {}): ServerConfig {
  return {
    name: 'weather',
    url,
    hostname: '127.0.0.1',
    prefix: 'w_',
    enabled: true,
    userSpecificList: false,
    category: [],
    tags: [],
    ...extra,
  };
}

async function upstream(options: SdkUpstreamOptions): Promise<SdkUpstream> {
  const started = await startSdkUpstream(options);
  stops.push(() => started.stop());
  return started;
}

function client(server: ServerConfig, extra: Partial<UpstreamClientOptions> = {}) {
  return createUpstreamClient({ server, logger: NOOP_LOGGER, ...extra });
}

/** A tiny node:http server for faults no real MCP server produces; `handle` decides every answer. */
async function faultServer(
  handle: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => handle(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stops.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, server };
}

/** A fetch that notes when a GET stream's response headers arrived (the upstream has registered the stream). */
function streamAwareFetch(): { fetch: typeof fetch; streamOpen: () => boolean } {
  let open = false;
  return {
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      if (init?.method === 'GET' && response.ok) open = true;
      return response;
    },
    streamOpen: () => open,
  };
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function fullUpstream(): Promise<SdkUpstream> {
  return upstream({
    setup(server) {
      server.registerTool('forecast', { description: 'Forecast', inputSchema: { city: z.string() } }, ({ city }) => ({
        content: [{ type: 'text', text: `sunny in ${city}` }],
      }));
      server.registerPrompt('brief', { description: 'A brief' }, () => ({ messages: [] }));
      server.registerResource('readme', 'file:///readme.md', { mimeType: 'text/markdown' }, (uri) => ({
        contents: [{ uri: uri.href, text: '# hi' }],
      }));
      server.registerResource('city', new ResourceTemplate('weather://{city}', { list: undefined }), {}, () => ({
        contents: [],
      }));
    },
  });
}

describe('createUpstreamClient', () => {
  it('initializes a session and lists tools, prompts, resources and templates as the upstream named them', async () => {
    const sdk = await fullUpstream();
    const upstreamClient = client(serverConfig(sdk.url));

    const session = await upstreamClient.initialize();

    expect(session.protocolVersion).toBe('2025-11-25');
    expect(session.sessionId).toBe(sdk.sessions()[0]);
    expect(session.capabilities).toHaveProperty('tools');
    expect(session.serverInfo).toMatchObject({ name: 'sdk-upstream' });
    expect(sdk.requests.map((r) => r.method)).toEqual(['initialize', 'notifications/initialized']);

    const tools = await upstreamClient.listAll(session, 'tools');
    expect(tools).toMatchObject([{ name: 'forecast', inputSchema: { type: 'object' } }]);
    expect(await upstreamClient.listAll(session, 'prompts')).toMatchObject([{ name: 'brief' }]);
    expect(await upstreamClient.listAll(session, 'resources')).toMatchObject([
      { name: 'readme', uri: 'file:///readme.md' },
    ]);
    expect(await upstreamClient.listAll(session, 'resourceTemplates')).toMatchObject([
      { name: 'city', uriTemplate: 'weather://{city}' },
    ]);
  });

  it('sends the server credential and the gateway headers on every request it makes for itself', async () => {
    const sdk = await fullUpstream();
    const tracking = streamAwareFetch();
    const upstreamClient = client(serverConfig(sdk.url, { credential: 'Bearer upstream-secret' }), {
      fetch: tracking.fetch,
    });

    const session = await upstreamClient.initialize();
    await upstreamClient.request(session, 'tools/list');
    const outcome = upstreamClient.openNotificationStream(session, () => {}, new AbortController().signal);
    await waitFor(tracking.streamOpen);
    // Ending the session closes the GET stream from the upstream's side, so its exchange completes.
    await upstreamClient.close(session);
    expect(await outcome).toBe('ended');
    await waitFor(() => ['GET', 'DELETE'].every((m) => sdk.httpRequests.some((r) => r.method === m)));

    for (const request of sdk.httpRequests) {
      expect(request.headers['authorization']).toBe('Bearer upstream-secret');
      expect(request.headers['user-agent']).toBe('mcp-gateway');
    }
    const [initialize, ...later] = sdk.requests;
    expect(initialize?.headers).toMatchObject({
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
    });
    expect(initialize?.headers['mcp-protocol-version']).toBeUndefined();
    expect(initialize?.headers['mcp-session-id']).toBeUndefined();
    for (const request of later) {
      expect(request.headers['mcp-protocol-version']).toBe('2025-11-25');
      expect(request.headers['mcp-session-id']).toBe(session.sessionId);
    }
    const get = sdk.httpRequests.find((r) => r.method === 'GET');
    expect(get?.headers['accept']).toBe('text/event-stream');
  });

  it('sends the given headers instead of the server credential for a session opened on a client’s behalf', async () => {
    const sdk = await fullUpstream();
    const upstreamClient = client(serverConfig(sdk.url, { credential: 'Bearer upstream-secret' }));

    const session = await upstreamClient.initialize({
      headers: { Authorization: 'Bearer client-token' },
      useCredential: false,
    });
    await upstreamClient.request(session, 'tools/list', undefined, {
      headers: { authorization: 'Bearer client-token' },
    });
    await upstreamClient.request(session, 'ping');

    expect(sdk.requests.map((r) => r.headers['authorization'])).toEqual([
      'Bearer client-token',
      'Bearer client-token',
      'Bearer client-token',
      undefined,
    ]);
  });

  it('follows nextCursor across pages and concatenates the items', async () => {
    const cursors: (string | undefined)[] = [];
    const sdk = await upstream({
      capabilities: { tools: {} },
      setup(server) {
        // The low-level Server under McpServer, with a hand-written paging tools/list.
        server.server.setRequestHandler(ListToolsRequestSchema, (request) => {
          const cursor = request.params?.cursor;
          cursors.push(cursor);
          const page = cursor === undefined ? 0 : Number(cursor);
          const tools = [0, 1].map((i) => ({ name: `t${page * 2 + i}`, inputSchema: { type: 'object' as const } }));
          return page < 2 ? { tools, nextCursor: String(page + 1) } : { tools };
        });
      },
    });
    const upstreamClient = client(serverConfig(sdk.url));
    const session = await upstreamClient.initialize();

    const tools = await upstreamClient.listAll(session, 'tools');

    expect(tools.map((t) => t['name'])).toEqual(['t0', 't1', 't2', 't3', 't4', 't5']);
    expect(cursors).toEqual([undefined, '1', '2']);
  });

  it('rejects a list whose cursor repeats with UPSTREAM_PROTOCOL_ERROR', async () => {
    const sdk = await upstream({
      capabilities: { tools: {} },
      setup(server) {
        server.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [], nextCursor: 'again' }));
      },
    });
    const upstreamClient = client(serverConfig(sdk.url));
    const session = await upstreamClient.initialize();

    const error = await upstreamClient.listAll(session, 'tools').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({
      code: 'UPSTREAM_PROTOCOL_ERROR',
      message: expect.stringContaining('repeated the cursor "again"'),
    });
  });

  it('reads answers sent as application/json', async () => {
    const sdk = await upstream({
      enableJsonResponse: true,
      setup(server) {
        server.registerTool('forecast', { inputSchema: { city: z.string() } }, () => ({ content: [] }));
      },
    });
    const upstreamClient = client(serverConfig(sdk.url));
    const session = await upstreamClient.initialize();

    expect(await upstreamClient.listAll(session, 'tools')).toMatchObject([{ name: 'forecast' }]);
  });

  it('rejects a JSON-RPC error from the upstream with UpstreamRpcError', async () => {
    const sdk = await fullUpstream();
    const upstreamClient = client(serverConfig(sdk.url));
    const session = await upstreamClient.initialize();

    const error = await upstreamClient.request(session, 'prompts/get', { name: 'missing' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UpstreamRpcError);
    expect(error).toMatchObject({ code: -32602, message: expect.stringContaining('missing') });
  });

  it('answers a ping the upstream sends while a request is in flight', async () => {
    const sdk = await upstream({
      setup(server) {
        server.registerTool('slow', { inputSchema: {} }, async (_args, extra) => {
          await extra.sendRequest({ method: 'ping' }, EmptyResultSchema);
          return { content: [{ type: 'text', text: 'done after ping' }] };
        });
      },
    });
    const upstreamClient = client(serverConfig(sdk.url));
    const session = await upstreamClient.initialize();

    const result = await upstreamClient.request(session, 'tools/call', { name: 'slow', arguments: {} });

    expect(result).toMatchObject({ content: [{ text: 'done after ping' }] });
    const answer = sdk.requests.find((r) => r.method === undefined && r.id !== undefined);
    expect(answer?.message).toMatchObject({ result: {} });
  });

  it('resumes a response stream the upstream closed early, with GET and Last-Event-ID', async () => {
    // One SDK session with an event store and a 10 ms retry: the 2025-11-25 SSE polling pattern.
    const mcp = new McpServer({ name: 'polling', version: '1.0.0' });
    mcp.registerTool('poll', { inputSchema: {} }, (_args, extra) => {
      extra.closeSSEStream?.();
      return { content: [{ type: 'text', text: 'answered after the stream closed' }] };
    });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: createInMemoryEventStore(),
      retryInterval: 10,
    });
    await mcp.connect(transport);
    const lastEventIds: string[] = [];
    const http = createServer((req, res) => {
      if (req.method === 'GET' && typeof req.headers['last-event-id'] === 'string')
        lastEventIds.push(req.headers['last-event-id']);
      void transport.handleRequest(req, res);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    stops.push(async () => {
      await mcp.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    });
    const upstreamClient = client(serverConfig(`http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`));
    const session = await upstreamClient.initialize();

    const result = await upstreamClient.request(session, 'tools/call', { name: 'poll', arguments: {} });

    expect(result).toMatchObject({ content: [{ text: 'answered after the stream closed' }] });
    expect(lastEventIds).toHaveLength(1);
  });

  it('rejects with UpstreamSessionExpiredError once the upstream forgot the session', async () => {
    const sdk = await fullUpstream();
    const upstreamClient = client(serverConfig(sdk.url));
    const session = await upstreamClient.initialize();
    await sdk.expireSession(session.sessionId!);

    const error = await upstreamClient.request(session, 'tools/list').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UpstreamSessionExpiredError);
  });

  it('reports a refused connection as UPSTREAM_UNAVAILABLE naming the server, URL and cause', async () => {
    const sdk = await startSdkUpstream({ setup() {} });
    await sdk.stop();
    const upstreamClient = client(serverConfig(`${sdk.url}?token=hidden`));

    const error = await upstreamClient.initialize().catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    const message = (error as Error).message;
    expect(message).toContain(`upstream weather at ${sdk.url} failed initialize`);
    expect(message).toContain(`ECONNREFUSED 127.0.0.1:${sdk.port}`);
    expect(message).not.toContain('hidden');
  });

  it('reports an HTTP error status as UPSTREAM_UNAVAILABLE with the status', async () => {
    // Stands for a proxy in front of the upstream failing; SDK servers answer 5xx only on crashes.
    const fault = await faultServer((_req, res) => res.writeHead(503, { 'content-type': 'text/plain' }).end('busy'));
    const error = await client(serverConfig(fault.url))
      .initialize()
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', message: expect.stringContaining('HTTP 503') });
  });

  it('gives up on a hanging upstream with UPSTREAM_TIMEOUT and aborts the request', async () => {
    // A server that accepts requests and never answers: no real MCP part hangs like this on purpose.
    let aborted = false;
    const fault = await faultServer((req) => req.socket.once('close', () => (aborted = true)));
    const started = Date.now();

    const error = await client(serverConfig(fault.url), { timeoutMs: 200 })
      .initialize()
      .catch((e: unknown) => e);

    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toMatchObject({
      code: 'UPSTREAM_TIMEOUT',
      message: 'upstream weather did not answer initialize within 200 ms',
    });
    await waitFor(() => aborted);
  });

  it('reports an upstream that speaks only MCP 2026-07-28 as unsupported', async () => {
    // Stands for a 2026-07-28-only server: it answers initialize with HTTP 400 and -32022
    // (UnsupportedProtocolVersionError); the SDK 1.x servers cannot produce this answer.
    const fault = await faultServer((_req, res, body) => {
      const { id } = JSON.parse(body) as { id: number };
      const error = {
        code: -32022,
        message: 'Unsupported protocol version',
        data: { supported: ['2026-07-28'], requested: '2025-11-25' },
      };
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id, error }));
    });

    const error = await client(serverConfig(fault.url))
      .initialize()
      .catch((e: unknown) => e);

    expect(error).toMatchObject({
      code: 'UPSTREAM_PROTOCOL_ERROR',
      message: 'upstream speaks only MCP 2026-07-28 but did not answer server/discover',
    });
  });

  it('rejects an upstream that negotiates a version outside the legacy list', async () => {
    // A server answering with a version it was never offered; SDK servers always pick a known one.
    const fault = await faultServer((req, res, body) => {
      const { id } = JSON.parse(body) as { id: number };
      if (req.method === 'DELETE') return void res.writeHead(405).end();
      const result = { protocolVersion: '2021-11-05', capabilities: {}, serverInfo: { name: 'old', version: '0' } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id, result }));
    });

    const error = await client(serverConfig(fault.url))
      .initialize()
      .catch((e: unknown) => e);

    expect(error).toMatchObject({
      code: 'UPSTREAM_PROTOCOL_ERROR',
      message: 'upstream negotiated unsupported protocol version 2021-11-05',
    });
  });

  it('delivers notifications from the GET stream, answers the upstream’s pings and ends on abort', async () => {
    const sdk = await upstream({
      setup(server) {
        server.registerTool('forecast', { inputSchema: {} }, () => ({ content: [] }));
      },
    });
    const tracking = streamAwareFetch();
    const upstreamClient = client(serverConfig(sdk.url), { fetch: tracking.fetch });
    const session = await upstreamClient.initialize();
    const received: JsonObject[] = [];
    const stream = new AbortController();

    const outcome = upstreamClient.openNotificationStream(session, (m) => received.push(m), stream.signal);
    await waitFor(tracking.streamOpen);
    const [live] = sdk.servers();
    await live!.server.ping();
    live!.registerTool('alerts', { inputSchema: {} }, () => ({ content: [] }));
    await waitFor(() => received.length > 0);
    stream.abort();

    expect(await outcome).toBe('ended');
    expect(received).toEqual([{ jsonrpc: '2.0', method: 'notifications/tools/list_changed' }]);
  });

  it('resolves unsupported when the upstream offers no GET stream', async () => {
    // Stands for servers that answer GET with 405 (allowed by the spec); the SDK always offers one.
    const fault = await faultServer((req, res) => res.writeHead(req.method === 'GET' ? 405 : 500).end());
    const upstreamClient = client(serverConfig(fault.url));
    const session = { sessionId: 's-1', protocolVersion: '2025-06-18', capabilities: {} };

    expect(await upstreamClient.openNotificationStream(session, () => {}, new AbortController().signal)).toBe(
      'unsupported',
    );
  });

  it('ends the session with DELETE and never throws, even when the upstream is gone', async () => {
    const sdk = await fullUpstream();
    const upstreamClient = client(serverConfig(sdk.url));
    const session = await upstreamClient.initialize();

    await upstreamClient.close(session);
    expect(sdk.deleteCount).toBe(1);
    expect(sdk.sessions()).toEqual([]);

    await sdk.stop();
    await expect(upstreamClient.close(session)).resolves.toBeUndefined();
  });
});

describe('buildUpstreamHeaders', () => {
  it('lets extra headers override the gateway’s, case-insensitively', () => {
    const headers = buildUpstreamHeaders(
      serverConfig('http://127.0.0.1:1/mcp', { credential: 'Bearer s' }),
      { sessionId: 'abc', protocolVersion: '2025-06-18' },
      { Authorization: 'Bearer other', 'X-Trace': '1' },
    );

    expect(Object.fromEntries(headers)).toEqual({
      accept: 'application/json, text/event-stream',
      authorization: 'Bearer other',
      'content-type': 'application/json',
      'mcp-protocol-version': '2025-06-18',
      'mcp-session-id': 'abc',
      'user-agent': 'mcp-gateway',
      'x-trace': '1',
    });
  });
});
