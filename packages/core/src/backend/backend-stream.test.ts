import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startSdkUpstream, type SdkUpstream } from '../../../../test/harness/sdk-upstream.ts';
import type { ServerConfig } from '../config/schema.ts';
import { NOOP_LOGGER } from '../logger.ts';
import { createSessionTokens } from '../session/session-token.ts';
import { createMemorySessionStore } from '../store/memory-session-store.ts';
import { createMemoryNotificationBus } from '../store/notification-bus.ts';
import { createUpstreamPool, type UpstreamPool } from '../gateway/upstream-pool.ts';
import type { SessionClaims } from '../session/session-token.ts';
import type { SessionStore } from '../store/session-store.ts';
import { backendSessionTopic } from './backend-session.ts';
import { relayBackendStream } from './backend-stream.ts';

const KEY = 'gateway-signing-key-for-tests-0001';

const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
});

function serverConfig(url: string): ServerConfig {
  return {
    name: 'weather',
    url,
    hostname: '127.0.0.1',
    prefix: 'w_',
    enabled: true,
    userSpecificList: false,
    category: [],
    tags: [],
  };
}

async function sdkUpstream(): Promise<SdkUpstream> {
  const started = await startSdkUpstream({
    capabilities: { logging: {}, resources: { subscribe: true, listChanged: true } },
    setup(server) {
      server.registerTool('forecast', { inputSchema: { city: z.string() } }, () => ({ content: [] }));
      server.registerPrompt('summary', {}, () => ({ messages: [] }));
    },
  });
  stops.push(() => started.stop());
  return started;
}

/** A tiny node:http fault server; `handle` decides every answer and sees every request's headers. */
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

interface Harness {
  readonly pool: UpstreamPool;
  readonly store: SessionStore;
  readonly fetchFor: (server: ServerConfig) => typeof fetch;
  readonly claims: SessionClaims;
  readonly clientHeaders: Headers;
  readonly server: ServerConfig;
  /** Headers of every GET the relay sent. */
  readonly gets: Record<string, string>[];
  /** Resolves when the relay's first GET got an OK answer (the upstream holds the stream). */
  readonly streamOpen: Promise<void>;
}

/** Endpoint options over a real on-demand pool whose fetch notes the relay's GETs. */
async function harness(url: string, headers: Record<string, string> = {}): Promise<Harness> {
  const server = serverConfig(url);
  const gets: Record<string, string>[] = [];
  let opened!: () => void;
  const streamOpen = new Promise<void>((resolve) => (opened = resolve));
  const fetchFor = (): typeof fetch => async (input, init) => {
    const response = await fetch(input, init);
    if (init?.method === 'GET') {
      gets.push({ ...(init.headers as Record<string, string>) });
      if (response.ok) opened();
    }
    return response;
  };
  const pool = createUpstreamPool({ logger: NOOP_LOGGER, discovery: 'on-demand', fetchFor });
  pool.apply({ servers: [server], virtualServers: [] });
  const store = createMemorySessionStore();
  const bus = createMemoryNotificationBus();
  stops.push(
    () => bus.close(),
    () => store.close(),
    () => pool.stop(),
  );
  const tokens = createSessionTokens({ key: KEY });
  const { claims } = await tokens.issue({ protocolVersion: '2025-06-18', clientCapabilities: { roots: {} } });
  return { pool, store, fetchFor, claims, clientHeaders: new Headers(headers), server, gets, streamOpen };
}

/** Opens a backend session on the upstream with the core upstream client, as the gateway does for a client. */
async function openBackendSession(target: Harness): Promise<string> {
  const client = target.pool.client(target.server.name);
  const created = await client?.initialize({ capabilities: { roots: {} }, useCredential: false });
  if (created?.sessionId === undefined) throw new Error('the upstream issued no session id');
  return created.sessionId;
}

/** Messages delivered to the client, readable one at a time as they come. */
function inbox() {
  const queued: Record<string, unknown>[] = [];
  const waiting: ((message: Record<string, unknown>) => void)[] = [];
  return {
    all: queued,
    deliver(message: Record<string, unknown>) {
      const waiter = waiting.shift();
      if (waiter === undefined) queued.push(message);
      else waiter(message);
    },
    next(): Promise<Record<string, unknown>> {
      const message = queued.shift();
      return message === undefined ? new Promise((resolve) => waiting.push(resolve)) : Promise.resolve(message);
    },
  };
}

interface Running {
  readonly done: Promise<void>;
  readonly abort: AbortController;
  readonly messages: ReturnType<typeof inbox>;
  readonly backendSessionId: string;
}

/** The relay's options for the harness's session and server. */
function streamOptions(target: Harness) {
  return {
    access: { fetchFor: target.fetchFor },
    store: target.store,
    jti: target.claims.jti,
    clientHeaders: target.clientHeaders,
    protocolVersion: () => target.pool.snapshot(target.server.name)?.protocolVersion,
    server: target.server,
  };
}

function relay(target: Harness, backendSessionId: string): Running {
  const abort = new AbortController();
  const messages = inbox();
  const done = relayBackendStream({
    ...streamOptions(target),
    backendSessionId,
    deliver: messages.deliver,
    signal: abort.signal,
  });
  stops.push(async () => {
    abort.abort();
    await done;
  });
  return { done, abort, messages, backendSessionId };
}

/** Starts relaying a fresh backend session of `upstream` and waits until its GET stream is open. */
async function relayOpen(upstream: SdkUpstream, headers: Record<string, string> = {}) {
  const target = await harness(upstream.url, headers);
  const backendSessionId = await openBackendSession(target);
  const running = relay(target, backendSessionId);
  await target.streamOpen;
  const server = upstream.servers()[0] as McpServer;
  return { ...running, target, server };
}

describe('backendSessionTopic', () => {
  it("names a gateway session's topic by its jti", () => {
    expect(backendSessionTopic('jti-1')).toBe('backend:jti-1');
  });
});

describe('relayBackendStream', () => {
  it('delivers what the upstream sends outside any call', async () => {
    const upstream = await sdkUpstream();
    const { server, messages } = await relayOpen(upstream);

    await server.server.sendLoggingMessage({ level: 'info', data: 'storm ahead' });

    expect(await messages.next()).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/message',
      params: { level: 'info', data: 'storm ahead' },
    });
  });

  it('does not deliver list_changed notifications, which the gateway sends itself', async () => {
    const upstream = await sdkUpstream();
    const { server, messages } = await relayOpen(upstream);

    server.sendToolListChanged();
    server.sendPromptListChanged();
    server.sendResourceListChanged();
    await server.server.sendLoggingMessage({ level: 'info', data: 'after the list changes' });

    expect(await messages.next()).toMatchObject({ method: 'notifications/message' });
    expect(messages.all).toEqual([]);
  });

  it('gives resources/updated URIs the server prefix', async () => {
    const upstream = await sdkUpstream();
    const { server, messages } = await relayOpen(upstream);

    await server.server.sendResourceUpdated({ uri: 'test://stations/paris' });

    expect(await messages.next()).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/resources/updated',
      params: { uri: 'test://w_stations/paris' },
    });
  });

  it('gives a request from the upstream a gateway id stored as pending with the upstream id', async () => {
    const upstream = await sdkUpstream();
    const { server, messages, target, backendSessionId } = await relayOpen(upstream);

    const asked = server.server.listRoots();
    asked.catch(() => {});
    const request = await messages.next();

    expect(request).toMatchObject({ jsonrpc: '2.0', method: 'roots/list', id: expect.any(String) });
    expect(await target.store.takePending(request['id'] as string)).toEqual({
      jti: target.claims.jti,
      server: 'weather',
      backendSessionId,
      upstreamId: expect.any(Number),
    });
  });

  it("opens the stream with the client's identity, the backend session and the negotiated version", async () => {
    const upstream = await sdkUpstream();
    const target = await harness(upstream.url, { authorization: 'Bearer alice-token', cookie: 'secret=1' });
    await target.pool.refreshIfStale();
    const backendSessionId = await openBackendSession(target);

    relay(target, backendSessionId);
    await target.streamOpen;

    expect(target.gets).toEqual([
      {
        authorization: 'Bearer alice-token',
        accept: 'text/event-stream',
        'mcp-session-id': backendSessionId,
        'mcp-protocol-version': target.pool.snapshot('weather')?.protocolVersion,
      },
    ]);
  });

  it('ends when the signal is aborted', async () => {
    const upstream = await sdkUpstream();
    const { abort, done } = await relayOpen(upstream);

    abort.abort();

    await expect(done).resolves.toBeUndefined();
  });

  it('does not start when the signal is already aborted', async () => {
    const upstream = await sdkUpstream();
    const target = await harness(upstream.url);
    const abort = new AbortController();
    abort.abort();

    await relayBackendStream({
      ...streamOptions(target),
      backendSessionId: 'backend-1',
      deliver: () => {},
      signal: abort.signal,
    });

    expect(target.gets).toEqual([]);
  });

  it.each([
    [405, 'offers no standalone stream'],
    [404, 'no longer knows the backend session'],
    [409, 'already has a listener on the session'],
  ])('ends when the upstream answers %i (it %s)', async (status) => {
    let requests = 0;
    const url = await faultServer((_, res) => {
      requests += 1;
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
    const target = await harness(url);
    const running = relay(target, 'backend-1');

    await running.done;

    expect(requests).toBe(1);
    expect(running.messages.all).toEqual([]);
  });

  it('ends when the upstream answers the GET with something other than an event stream', async () => {
    const url = await faultServer((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    const target = await harness(url);

    await relay(target, 'backend-1').done;

    expect(target.gets).toHaveLength(1);
  });

  it('reconnects with the last event id after the upstream closes the stream', async () => {
    const seen: (string | undefined)[] = [];
    const url = await faultServer((req, res) => {
      seen.push(req.headers['last-event-id'] as string | undefined);
      if (seen.length > 1) return void res.writeHead(405).end();
      const note = { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'one' } };
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`retry: 0\nid: ev-1\ndata: ${JSON.stringify(note)}\n\n`);
    });
    const target = await harness(url);
    const running = relay(target, 'backend-1');

    await running.done;

    expect(running.messages.all).toMatchObject([{ method: 'notifications/message', params: { data: 'one' } }]);
    expect(seen).toEqual([undefined, 'ev-1']);
  });

  it('skips data that is not a JSON-RPC message from the upstream', async () => {
    const url = await faultServer((req, res) => {
      if (req.headers['last-event-id'] !== undefined) return void res.writeHead(405).end();
      const lines = [
        'data: not json',
        'data: 42',
        'data: null',
        `data: ${JSON.stringify({ jsonrpc: '2.0', id: 1, result: {} })}`,
        'data:',
        `data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { data: 'ok' } })}`,
      ];
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`retry: 0\nid: ev-9\n${lines.join('\n\n')}\n\n`);
    });
    const target = await harness(url);
    const running = relay(target, 'backend-1');

    await running.done;

    expect(running.messages.all).toEqual([{ jsonrpc: '2.0', method: 'notifications/message', params: { data: 'ok' } }]);
  });
});
