import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startSdkUpstream, type SdkUpstream, type SdkUpstreamOptions } from '../../../../test/harness/sdk-upstream.ts';
import type { ServerConfig } from '../config/schema.ts';
import { NOOP_LOGGER } from '../logger.ts';
import type { JsonObject, UpstreamSnapshot } from './types.ts';
import { createUpstreamClient } from './upstream-client.ts';
import { createUpstreamManager, type UpstreamManager, type UpstreamManagerOptions } from './upstream-manager.ts';

const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  // Managers first (they close their sessions), then the servers.
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
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

interface Watched {
  manager: UpstreamManager;
  published: UpstreamSnapshot[];
  /** Resolves with the first published snapshot (already seen or later) that matches. */
  until(match: (s: UpstreamSnapshot) => boolean, timeoutMs?: number): Promise<UpstreamSnapshot>;
}

function manage(server: ServerConfig, extra: Partial<UpstreamManagerOptions> = {}): Watched {
  const published: UpstreamSnapshot[] = [];
  const manager = createUpstreamManager({
    server,
    logger: NOOP_LOGGER,
    random: () => 0.5,
    onSnapshot: (s) => published.push(s),
    ...extra,
  });
  stops.push(() => manager.stop());
  manager.start();
  return {
    manager,
    published,
    async until(match, timeoutMs = 5000) {
      await waitFor(() => published.some(match), timeoutMs);
      return published.find(match)!;
    },
  };
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const names = (items: readonly JsonObject[]) => items.map((item) => item['name']);

function weatherUpstream(): Promise<SdkUpstream> {
  return upstream({
    setup(server) {
      server.registerTool('forecast', { inputSchema: { city: z.string() } }, () => ({ content: [] }));
      server.registerTool('radar', { inputSchema: {} }, () => ({ content: [] }));
      server.registerPrompt('brief', {}, () => ({ messages: [] }));
    },
  });
}

describe('createUpstreamManager', () => {
  it('publishes a ready snapshot of the tools and prompts the upstream declares', async () => {
    const sdk = await weatherUpstream();
    const watched = manage(serverConfig(sdk.url));

    const ready = await watched.until((s) => s.ready);

    expect(ready).toMatchObject({
      server: 'weather',
      message: 'server added successfully. Total tools added 2. Total prompts added 1',
      protocolVersion: '2025-11-25',
      consecutiveFailures: 0,
      invalidTools: [],
    });
    expect(names(ready.tools)).toEqual(['forecast', 'radar']);
    expect(names(ready.prompts)).toEqual(['brief']);
    expect(ready.capabilities).toHaveProperty('prompts');
    expect(Date.parse(ready.lastValidated!)).not.toBeNaN();
    // No resources capability: resources/list and resources/templates/list are never called.
    expect(sdk.requests.map((r) => r.method).filter((m) => m?.startsWith('resources/'))).toEqual([]);
  });

  it('lists resources and resource templates when the upstream declares resources', async () => {
    const sdk = await upstream({
      setup(server) {
        server.registerResource('readme', 'file:///readme.md', {}, (uri) => ({
          contents: [{ uri: uri.href, text: '' }],
        }));
      },
    });
    const watched = manage(serverConfig(sdk.url));

    const ready = await watched.until((s) => s.ready);

    expect(ready.resources).toMatchObject([{ uri: 'file:///readme.md', name: 'readme' }]);
    expect(ready.message).toBe(
      'server added successfully. Total tools added 0. Total prompts added 0. Total resources added 1. Total resource templates added 0',
    );
  });

  it('puts a tool that fails validation in invalidTools and serves the rest', async () => {
    const sdk = await upstream({
      capabilities: { tools: {} },
      setup(server) {
        // The low-level Server lets the upstream list a tool whose input schema is not an object.
        server.server.setRequestHandler(ListToolsRequestSchema, () => ({
          tools: [
            { name: 'good', inputSchema: { type: 'object' } },
            { name: 'bad', inputSchema: { type: 'string' } as never },
          ],
        }));
      },
    });
    const validateTool = (tool: JsonObject) =>
      (tool['inputSchema'] as JsonObject | undefined)?.['type'] === 'object'
        ? []
        : ['inputSchema.type must be "object"'];
    const watched = manage(serverConfig(sdk.url), { validateTool });

    const ready = await watched.until((s) => s.ready);

    expect(names(ready.tools)).toEqual(['good']);
    expect(ready.invalidTools).toEqual([{ name: 'bad', errors: ['inputSchema.type must be "object"'] }]);
  });

  it('publishes a tool the upstream adds after connecting without waiting for the health interval', async () => {
    const sdk = await weatherUpstream();
    let streamOpen = false;
    const fetchWatchingStream: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (init?.method === 'GET' && response.ok) streamOpen = true;
      return response;
    };
    const server = serverConfig(sdk.url);
    const client = createUpstreamClient({ server, logger: NOOP_LOGGER, fetch: fetchWatchingStream });
    const watched = manage(server, { client, healthIntervalMs: 60_000 });
    await watched.until((s) => s.ready);
    await waitFor(() => streamOpen);

    sdk.servers()[0]!.registerTool('alerts', { inputSchema: {} }, () => ({ content: [] }));

    const updated = await watched.until((s) => s.tools.some((t) => t.name === 'alerts'));
    expect(names(updated.tools)).toEqual(['forecast', 'radar', 'alerts']);
    expect(updated.message).toBe('server added successfully. Total tools added 3. Total prompts added 1');
  });

  it('finds a change on the periodic re-list when the upstream sends no notification', async () => {
    const listed = [{ name: 'first', inputSchema: { type: 'object' as const } }];
    const sdk = await upstream({
      capabilities: { tools: {} },
      setup(server) {
        server.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listed }));
      },
    });
    const watched = manage(serverConfig(sdk.url), { healthIntervalMs: 100 });
    await watched.until((s) => s.ready);

    listed.push({ name: 'second', inputSchema: { type: 'object' } });

    const updated = await watched.until((s) => s.tools.length === 2);
    expect(names(updated.tools)).toEqual(['first', 'second']);
    expect(sdk.requests.some((r) => r.method === 'ping')).toBe(true);
  });

  it('keeps the tools through two failures, withdraws them after the third and restores them when the upstream returns', async () => {
    const sdk = await weatherUpstream();
    const watched = manage(serverConfig(sdk.url), { healthIntervalMs: 200 });
    await watched.until((s) => s.ready);

    await sdk.stop();
    await waitFor(() => watched.manager.snapshot().consecutiveFailures === 2);
    expect(watched.manager.snapshot()).toMatchObject({ ready: true, tools: [{ name: 'forecast' }, { name: 'radar' }] });
    const withdrawn = await watched.until((s) => !s.ready);

    expect(withdrawn.message).toBe(
      `upstream unreachable: connect ECONNREFUSED 127.0.0.1:${sdk.port} (3 consecutive failures)`,
    );
    expect(withdrawn).toMatchObject({ tools: [], prompts: [], consecutiveFailures: 3 });
    expect(watched.published.filter((s) => !s.ready)).toHaveLength(1);

    await sdk.restart();
    const restored = await watched.until(
      (s) =>
        s.ready && s.consecutiveFailures === 0 && watched.published.indexOf(s) > watched.published.indexOf(withdrawn),
    );
    expect(names(restored.tools)).toEqual(['forecast', 'radar']);
    expect(sdk.initializeCount).toBe(2);
  });

  it('initializes a new session at once when the upstream forgot the old one', async () => {
    const sdk = await weatherUpstream();
    const watched = manage(serverConfig(sdk.url));
    await watched.until((s) => s.ready);
    const [first] = sdk.sessions();

    await sdk.expireSession(first!);
    await watched.manager.refresh();

    expect(sdk.initializeCount).toBe(2);
    expect(sdk.sessions()).toHaveLength(1);
    expect(sdk.sessions()[0]).not.toBe(first);
    expect(watched.manager.snapshot()).toMatchObject({ ready: true, consecutiveFailures: 0 });
    expect(watched.published.filter((s) => !s.ready)).toEqual([]);
  });

  it('reports an upstream that speaks only MCP 2026-07-28 and keeps retrying at the health interval', async () => {
    // Stands for a 2026-07-28-only server: HTTP 400 with -32022 (UnsupportedProtocolVersionError)
    // to initialize; SDK 1.x servers cannot produce this answer.
    let attempts = 0;
    const fault = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        attempts += 1;
        const { id } = JSON.parse(body) as { id: number };
        const error = { code: -32022, message: 'Unsupported protocol version', data: { supported: ['2026-07-28'] } };
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id, error }));
      });
    });
    await new Promise<void>((resolve) => fault.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise<void>((resolve) => fault.close(() => resolve())));
    const url = `http://127.0.0.1:${(fault.address() as AddressInfo).port}/mcp`;

    const watched = manage(serverConfig(url), { healthIntervalMs: 100 });

    const unsupported = await watched.until((s) => !s.ready);
    expect(unsupported.message).toBe('upstream speaks only MCP 2026-07-28 but did not answer server/discover');
    await waitFor(() => attempts >= 3);
    expect(watched.published).toHaveLength(1);
  });

  it('publishes "server is disabled" for a disabled server and contacts nothing', async () => {
    const sdk = await weatherUpstream();
    const watched = manage(serverConfig(sdk.url, { enabled: false }));

    expect(watched.published).toEqual([
      expect.objectContaining({ ready: false, message: 'server is disabled', tools: [] }),
    ]);
    await watched.manager.refresh();
    expect(sdk.httpRequests).toEqual([]);
    expect(sdk.requests).toEqual([]);
  });

  it('publishes nothing when a re-list finds no change', async () => {
    const sdk = await weatherUpstream();
    const watched = manage(serverConfig(sdk.url));
    await watched.until((s) => s.ready);
    const listsBefore = sdk.requests.filter((r) => r.method === 'tools/list').length;

    await watched.manager.refresh();

    expect(sdk.requests.filter((r) => r.method === 'tools/list')).toHaveLength(listsBefore + 1);
    expect(watched.published).toHaveLength(1);
  });

  it('closes the upstream session and its stream when stopped', async () => {
    const sdk = await weatherUpstream();
    const watched = manage(serverConfig(sdk.url));
    await watched.until((s) => s.ready);

    await watched.manager.stop();

    expect(sdk.deleteCount).toBe(1);
    expect(sdk.sessions()).toEqual([]);
    const requestsAfterStop = sdk.requests.length;
    await watched.manager.refresh();
    expect(sdk.requests.length).toBe(requestsAfterStop);
  });
});
