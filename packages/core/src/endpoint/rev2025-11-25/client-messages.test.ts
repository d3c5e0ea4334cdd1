import { NO_AUDIT } from '../../audit/audit-record.ts';
import { createAccessControl } from '../../decision/access-control.ts';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ElicitResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  startSdkUpstream,
  type SdkUpstream,
  type SdkUpstreamOptions,
} from '../../../../../test/harness/sdk-upstream.ts';
import { cancelUpstreamCall as cancelOnBackend } from '../../backend/backend-exchange.ts';
import { ensureBackendSession } from '../../backend/backend-session.ts';
import { forwardedCallHeaders, routerHeaders } from '../../backend/upstream-headers.ts';
import { relayLegacyStream } from '../../calls/rev2025-11-25.ts';
import type { ServerConfig } from '../../config/schema.ts';
import { createEndpointContext } from '../../gateway/create-gateway.ts';
import { createUpstreamPool, type UpstreamPool } from '../../gateway/upstream-pool.ts';
import type { LogFields, Logger } from '../../logger.ts';
import { NOOP_LOGGER } from '../../logger.ts';
import type { JsonRpcMessage } from '../../protocol/json-rpc.ts';
import { createSessionTokens } from '../../session/session-token.ts';
import { createMemorySessionStore } from '../../store/memory-session-store.ts';
import { createMemoryNotificationBus } from '../../store/notification-bus.ts';
import type { EndpointContext, RequestContext, SessionRequest } from '../endpoint-context.ts';
import { deliverClientNotification, deliverClientResponse, terminateSession } from './client-messages.ts';

type McpEndpointOptions = EndpointContext & { readonly pool: UpstreamPool };

const KEY = 'gateway-signing-key-for-tests-0001';
const ENDPOINT = 'http://localhost:8080/mcp';

const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
});

function serverConfig(name: string, url: string): ServerConfig {
  return {
    name,
    url,
    hostname: '127.0.0.1',
    prefix: `${name}_`,
    enabled: true,
    userSpecificList: false,
    category: [],
    tags: [],
  };
}

async function upstream(setup: SdkUpstreamOptions['setup'] = () => {}): Promise<SdkUpstream> {
  const started = await startSdkUpstream({ setup });
  stops.push(() => started.stop());
  return started;
}

/** A tiny node:http fault server; `handle` decides every answer. */
async function faultServer(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stops.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

/** Endpoint options over a real on-demand pool (no background traffic), memory store and bus. */
function endpoint(servers: readonly ServerConfig[]): McpEndpointOptions {
  const pool = createUpstreamPool({ logger: NOOP_LOGGER, discovery: 'on-demand' });
  pool.apply({ servers, virtualServers: [] });
  const store = createMemorySessionStore();
  const bus = createMemoryNotificationBus();
  stops.push(
    () => bus.close(),
    () => store.close(),
    () => pool.stop(),
  );
  const access = createAccessControl({ config: { servers, virtualServers: [] }, env: {}, fetch, logger: NOOP_LOGGER });
  const context = createEndpointContext(pool, {
    tokens: createSessionTokens({ key: KEY }),
    store,
    bus,
    logger: NOOP_LOGGER,
    access: () => access,
    auditor: () => NO_AUDIT,
  });
  return { ...context, pool };
}

interface LogLine {
  level: string;
  msg: string;
  fields: LogFields | undefined;
}

function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const line = (level: string) => (msg: string, fields?: LogFields) => void lines.push({ level, msg, fields });
  const logger = {
    lines,
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    child: () => logger,
  };
  return logger;
}

async function sessionRequest(
  options: McpEndpointOptions,
  extra: { headers?: Record<string, string>; context?: RequestContext; logger?: Logger } = {},
): Promise<SessionRequest> {
  const { token, claims } = await options.tokens.issue({
    protocolVersion: '2025-06-18',
    clientCapabilities: { elicitation: {} },
  });
  return {
    request: new Request(ENDPOINT, { method: 'POST', headers: extra.headers ?? {} }),
    token,
    claims,
    logger: extra.logger ?? NOOP_LOGGER,
    context: extra.context ?? {},
  };
}

/** Opens the client's backend session on `name`, as a first forwarded call would. */
async function backendSession(options: McpEndpointOptions, session: SessionRequest, name: string): Promise<string> {
  const server = options.pool.server(name);
  const client = options.pool.client(name);
  if (server === undefined || client === undefined) throw new Error(`no server ${name}`);
  const deps = { store: options.store, bus: options.bus, logger: session.logger };
  return ensureBackendSession(deps, session.claims, session.request.headers, server, client);
}

/** Calls a tool on the backend session directly and relays its SSE answer as the gateway does. */
async function callTool(
  options: McpEndpointOptions,
  session: SessionRequest,
  server: ServerConfig,
  backendSessionId: string,
  tool: string,
): Promise<ReadableStreamDefaultReader<Uint8Array>> {
  const abort = new AbortController();
  stops.push(async () => abort.abort());
  const response = await fetch(server.url, {
    method: 'POST',
    headers: forwardedCallHeaders(session.request.headers, routerHeaders('tools/call', server.name), {
      backendSessionId,
    }),
    body: JSON.stringify({ jsonrpc: '2.0', id: 11, method: 'tools/call', params: { name: tool, arguments: {} } }),
    signal: abort.signal,
  });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  return relayLegacyStream({
    body: response.body as ReadableStream<Uint8Array>,
    requestId: 11,
    server,
    backendSessionId,
    jti: session.claims.jti,
    store: options.store,
    abort,
    timeoutMs: 10_000,
    logger: NOOP_LOGGER,
  }).getReader();
}

async function nextMessage(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Record<string, unknown>> {
  const { value, done } = await reader.read();
  if (done) throw new Error('the relayed stream ended');
  const data = new TextDecoder()
    .decode(value)
    .split('\n')
    .find((line) => line.startsWith('data: '));
  return JSON.parse(data?.slice('data: '.length) ?? 'null') as Record<string, unknown>;
}

/** A tool that asks the client for a city (elicitation on the call's stream) and echoes the answer. */
function askingUpstream(): Promise<SdkUpstream> {
  return upstream((server) => {
    server.registerTool('ask', {}, async (extra) => {
      const answer = await extra.sendRequest(
        {
          method: 'elicitation/create',
          params: {
            message: 'Which city?',
            requestedSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        },
        ElicitResultSchema,
      );
      return { content: [{ type: 'text', text: `${answer.action}:${JSON.stringify(answer.content)}` }] };
    });
  });
}

const received = (target: SdkUpstream, method: string) => target.requests.filter((r) => r.method === method);

/** Tells the upstream `name` to cancel call `id` on the backend session, as the gateway does on a timeout. */
function cancelUpstreamCall(
  options: McpEndpointOptions,
  session: SessionRequest,
  name: string,
  backendSessionId: string,
  id: number,
  reason: string,
): Promise<void> {
  const server = options.pool.server(name) ?? serverConfig(name, 'http://127.0.0.1:9/mcp');
  const target = { server, backendSessionId, clientHeaders: session.request.headers };
  return cancelOnBackend(options, target, id, reason, session.logger);
}

describe('deliverClientResponse', () => {
  it("posts the client's answer to the upstream that asked, under the upstream's own id", async () => {
    const ask = await askingUpstream();
    const options = endpoint([serverConfig('ask', ask.url)]);
    const session = await sessionRequest(options);
    const backendSessionId = await backendSession(options, session, 'ask');
    const reader = await callTool(options, session, serverConfig('ask', ask.url), backendSessionId, 'ask');
    const elicitation = await nextMessage(reader);
    expect(elicitation).toMatchObject({ method: 'elicitation/create', id: expect.any(String) });

    const response = await deliverClientResponse(options, session, {
      jsonrpc: '2.0',
      id: elicitation['id'] as string,
      result: { action: 'accept', content: { city: 'Paris' } },
    } as JsonRpcMessage);

    expect(response.status).toBe(202);
    expect(await nextMessage(reader)).toMatchObject({
      id: 11,
      result: { content: [{ type: 'text', text: 'accept:{"city":"Paris"}' }] },
    });
    const answer = ask.requests.find((r) => r.method === undefined);
    expect(answer?.sessionId).toBe(backendSessionId);
    expect(answer?.id).toEqual(expect.any(Number));
    expect(answer?.id).not.toBe(elicitation['id']);
    expect(answer?.headers['x-mcp-method']).toBe('response');
  });

  it('refuses an id it does not know without posting anything upstream', async () => {
    const ask = await askingUpstream();
    const options = endpoint([serverConfig('ask', ask.url)]);
    const session = await sessionRequest(options);

    const response = await deliverClientResponse(options, session, {
      jsonrpc: '2.0',
      id: 'no-such-request',
      result: {},
    } as JsonRpcMessage);

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      id: null,
      error: { code: -32600, message: expect.stringContaining('"no-such-request"') },
    });
    expect(ask.requests).toEqual([]);
  });

  it('refuses a second answer to the same request', async () => {
    const ask = await askingUpstream();
    const options = endpoint([serverConfig('ask', ask.url)]);
    const session = await sessionRequest(options);
    const backendSessionId = await backendSession(options, session, 'ask');
    const reader = await callTool(options, session, serverConfig('ask', ask.url), backendSessionId, 'ask');
    const id = (await nextMessage(reader))['id'] as string;
    const answer = { jsonrpc: '2.0', id, result: { action: 'decline' } } as JsonRpcMessage;

    expect((await deliverClientResponse(options, session, answer)).status).toBe(202);
    expect((await deliverClientResponse(options, session, answer)).status).toBe(400);
    expect(ask.requests.filter((r) => r.method === undefined)).toHaveLength(1);
  });

  it("refuses an answer to another session's request", async () => {
    const ask = await askingUpstream();
    const options = endpoint([serverConfig('ask', ask.url)]);
    const owner = await sessionRequest(options);
    const intruder = await sessionRequest(options);
    const backendSessionId = await backendSession(options, owner, 'ask');
    const reader = await callTool(options, owner, serverConfig('ask', ask.url), backendSessionId, 'ask');
    const id = (await nextMessage(reader))['id'] as string;

    const response = await deliverClientResponse(options, intruder, {
      jsonrpc: '2.0',
      id,
      result: { action: 'accept', content: { city: 'Nowhere' } },
    } as JsonRpcMessage);

    expect(response.status).toBe(400);
    expect(ask.requests.filter((r) => r.method === undefined)).toEqual([]);
  });

  it('refuses an answer with a numeric id, since gateway ids are strings', async () => {
    const options = endpoint([]);
    const session = await sessionRequest(options);

    const response = await deliverClientResponse(options, session, {
      jsonrpc: '2.0',
      id: 1,
      result: {},
    } as JsonRpcMessage);

    expect(response.status).toBe(400);
  });
});

describe('deliverClientNotification', () => {
  const cancelled = {
    jsonrpc: '2.0',
    method: 'notifications/cancelled',
    params: { requestId: 11, reason: 'user gave up' },
  } as const;

  it('sends notifications/cancelled to every upstream where the client holds a backend session', async () => {
    const weather = await upstream();
    const maps = await upstream();
    const idle = await upstream();
    const options = endpoint([
      serverConfig('weather', weather.url),
      serverConfig('maps', maps.url),
      serverConfig('idle', idle.url),
    ]);
    const session = await sessionRequest(options);
    const onWeather = await backendSession(options, session, 'weather');
    const onMaps = await backendSession(options, session, 'maps');

    const response = await deliverClientNotification(options, session, cancelled);

    expect(response.status).toBe(202);
    for (const [target, backendSessionId, name] of [
      [weather, onWeather, 'weather'],
      [maps, onMaps, 'maps'],
    ] as const) {
      const [delivered, ...more] = received(target, 'notifications/cancelled');
      expect(more).toEqual([]);
      expect(delivered?.params).toEqual(cancelled.params);
      expect(delivered?.sessionId).toBe(backendSessionId);
      expect(delivered?.headers).toMatchObject({ 'x-mcp-method': 'notifications/cancelled', 'x-mcp-servername': name });
    }
    expect(idle.requests).toEqual([]);
  });

  it('sends notifications/roots/list_changed to every upstream where the client holds a backend session', async () => {
    const weather = await upstream();
    const options = endpoint([serverConfig('weather', weather.url)]);
    const session = await sessionRequest(options);
    await backendSession(options, session, 'weather');

    await deliverClientNotification(options, session, { jsonrpc: '2.0', method: 'notifications/roots/list_changed' });

    expect(received(weather, 'notifications/roots/list_changed')).toHaveLength(1);
  });

  it("hands the deliveries to the host's waitUntil when it has one", async () => {
    const weather = await upstream();
    const options = endpoint([serverConfig('weather', weather.url)]);
    const waited: Promise<unknown>[] = [];
    const session = await sessionRequest(options, { context: { waitUntil: (promise) => void waited.push(promise) } });
    await backendSession(options, session, 'weather');

    const response = await deliverClientNotification(options, session, cancelled);

    expect(response.status).toBe(202);
    expect(waited).toHaveLength(1);
    await Promise.all(waited);
    expect(received(weather, 'notifications/cancelled')).toHaveLength(1);
  });

  it('accepts other notifications without telling any upstream', async () => {
    const weather = await upstream();
    const options = endpoint([serverConfig('weather', weather.url)]);
    const session = await sessionRequest(options);
    await backendSession(options, session, 'weather');
    const before = weather.requests.length;

    for (const method of ['notifications/initialized', 'notifications/progress']) {
      const response = await deliverClientNotification(options, session, { jsonrpc: '2.0', method, params: {} });
      expect(response.status).toBe(202);
    }

    expect(weather.requests.length).toBe(before);
  });

  it('accepts notifications/cancelled from a client without backend sessions', async () => {
    const weather = await upstream();
    const options = endpoint([serverConfig('weather', weather.url)]);

    const response = await deliverClientNotification(options, await sessionRequest(options), cancelled);

    expect(response.status).toBe(202);
    expect(weather.requests).toEqual([]);
  });
});

describe('terminateSession', () => {
  it('marks the session terminated and ends its backend sessions upstream with its identity', async () => {
    const weather = await upstream();
    const options = endpoint([serverConfig('weather', weather.url)]);
    const session = await sessionRequest(options, { headers: { authorization: 'Bearer alice-token' } });
    const backendSessionId = await backendSession(options, session, 'weather');
    expect(weather.sessions()).toContain(backendSessionId);

    const response = await terminateSession(options, session);

    expect(response.status).toBe(200);
    expect((await options.store.lookup(session.claims.jti)).terminated).toBe(true);
    expect(weather.sessions()).not.toContain(backendSessionId);
    const deleted = weather.httpRequests.filter((r) => r.method === 'DELETE');
    expect(deleted).toHaveLength(1);
    expect(deleted[0]?.headers).toMatchObject({
      'mcp-session-id': backendSessionId,
      authorization: 'Bearer alice-token',
    });
  });

  it("hands the closing to the host's waitUntil when it has one", async () => {
    const weather = await upstream();
    const options = endpoint([serverConfig('weather', weather.url)]);
    const waited: Promise<unknown>[] = [];
    const session = await sessionRequest(options, { context: { waitUntil: (promise) => void waited.push(promise) } });
    const backendSessionId = await backendSession(options, session, 'weather');

    const response = await terminateSession(options, session);

    expect(response.status).toBe(200);
    expect(waited).toHaveLength(1);
    await Promise.all(waited);
    expect(weather.sessions()).not.toContain(backendSessionId);
  });

  it('terminates a session that holds no backend sessions', async () => {
    const options = endpoint([]);
    const session = await sessionRequest(options);

    expect((await terminateSession(options, session)).status).toBe(200);
    expect((await options.store.lookup(session.claims.jti)).terminated).toBe(true);
  });
});

describe('cancelUpstreamCall', () => {
  it('tells the upstream to cancel the call, which stops the running tool', async () => {
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let stopped!: (reason: unknown) => void;
    const aborted = new Promise<unknown>((resolve) => (stopped = resolve));
    const slow = await upstream((server) => {
      server.registerTool('slow', {}, (extra) => {
        started();
        return new Promise((resolve) => {
          extra.signal.addEventListener('abort', () => {
            stopped(extra.signal.reason);
            resolve({ content: [] });
          });
        });
      });
    });
    const options = endpoint([serverConfig('slow', slow.url)]);
    const session = await sessionRequest(options);
    const backendSessionId = await backendSession(options, session, 'slow');
    await callTool(options, session, serverConfig('slow', slow.url), backendSessionId, 'slow');
    await running;

    await cancelUpstreamCall(options, session, 'slow', backendSessionId, 11, 'gateway timeout');

    expect(await aborted).toBe('gateway timeout');
    const [notice] = received(slow, 'notifications/cancelled');
    expect(notice?.params).toEqual({ requestId: 11, reason: 'gateway timeout' });
    expect(notice?.sessionId).toBe(backendSessionId);
  });

  it('logs and resolves when the upstream refuses the notification', async () => {
    const url = await faultServer((_, res) => res.writeHead(500).end('down'));
    const options = endpoint([serverConfig('down', url)]);
    const logger = recordingLogger();
    const session = await sessionRequest(options, { logger });

    await expect(cancelUpstreamCall(options, session, 'down', 'backend-1', 11, 'timeout')).resolves.toBeUndefined();

    expect(logger.lines).toEqual([
      { level: 'warn', msg: 'upstream refused a relayed message', fields: { server: 'down', status: 500 } },
    ]);
  });

  it('logs and resolves when the upstream cannot be reached', async () => {
    const url = await faultServer((req) => req.socket.destroy());
    const options = endpoint([serverConfig('gone', url)]);
    const logger = recordingLogger();
    const session = await sessionRequest(options, { logger });

    await expect(cancelUpstreamCall(options, session, 'gone', 'backend-1', 11, 'timeout')).resolves.toBeUndefined();

    expect(logger.lines).toMatchObject([
      { level: 'warn', msg: 'could not relay a message to the upstream', fields: { server: 'gone' } },
    ]);
  });
});
