import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { startSdkUpstream, type SdkUpstream } from '../../../../test/harness/sdk-upstream.ts';
import type { ServerConfig } from '../config/schema.ts';
import { NOOP_LOGGER } from '../logger.ts';
import { createUpstreamPool, type UpstreamPool, type UpstreamPoolOptions } from './upstream-pool.ts';

const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  vi.useRealTimers();
  // Pools first (they close their upstream sessions), then the servers.
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
});

function serverConfig(name: string, url: string, extra: Partial<ServerConfig> = {}): ServerConfig {
  return {
    name,
    url,
    hostname: '127.0.0.1',
    prefix: `${name}_`,
    enabled: true,
    userSpecificList: false,
    category: [],
    tags: [],
    ...extra,
  };
}

async function upstream(tools: readonly string[]): Promise<SdkUpstream> {
  const started = await startSdkUpstream({
    setup(server) {
      for (const tool of tools) {
        server.registerTool(tool, { inputSchema: { city: z.string() } }, () => ({
          content: [{ type: 'text', text: tool }],
        }));
      }
    },
  });
  stops.push(() => started.stop());
  return started;
}

/** A tiny node:http fault server: every request gets HTTP 500, as an upstream that is down would answer. */
async function failingUpstream(): Promise<string> {
  const server = createServer((_, res) => res.writeHead(500).end('down'));
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

function pool(servers: readonly ServerConfig[], extra: Partial<UpstreamPoolOptions> = {}): UpstreamPool {
  const created = createUpstreamPool({ logger: NOOP_LOGGER, discovery: 'on-demand', ...extra });
  stops.push(() => created.stop());
  created.apply({ servers, virtualServers: [] });
  return created;
}

const toolNames = (target: UpstreamPool) => target.catalog().tools.map((tool) => tool['name']);
const listCalls = (target: SdkUpstream) => target.requests.filter((r) => r.method === 'tools/list').length;

describe('upstream pool, on-demand discovery', () => {
  it('connects to no upstream before a request asks', async () => {
    const weather = await upstream(['forecast']);

    const target = pool([serverConfig('w', weather.url)]);
    await Promise.resolve();

    expect(weather.initializeCount).toBe(0);
    expect(toolNames(target)).toEqual([]);
  });

  it('lists the upstreams inside the first request and resolves with the catalog current', async () => {
    const weather = await upstream(['forecast']);
    const target = pool([serverConfig('w', weather.url)]);

    await target.refreshIfStale();

    expect(toolNames(target)).toEqual(['w_forecast']);
    expect(target.snapshot('w')).toMatchObject({ ready: true, protocolVersion: expect.any(String) });
  });

  it('refreshes every stale upstream in the same wait', async () => {
    const weather = await upstream(['forecast']);
    const maps = await upstream(['route']);
    const target = pool([serverConfig('w', weather.url), serverConfig('m', maps.url)]);

    await target.refreshIfStale();

    expect(toolNames(target)).toEqual(['m_route', 'w_forecast']);
  });

  it('shares one in-flight refresh among concurrent callers, each of which sees the tools', async () => {
    const weather = await upstream(['forecast']);
    const target = pool([serverConfig('w', weather.url)]);

    const first = target.refreshIfStale();
    const second = target.refreshIfStale();
    const third = target.refreshIfStale();
    expect(second).toBeInstanceOf(Promise);
    expect(third).toBeInstanceOf(Promise);

    await second;
    expect(toolNames(target)).toEqual(['w_forecast']);
    await Promise.all([first, third]);
    expect(weather.initializeCount).toBe(1);
    expect(listCalls(weather)).toBe(1);
  });

  it('does not refresh a snapshot younger than maxSnapshotAgeMs', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const weather = await upstream(['forecast']);
    const target = pool([serverConfig('w', weather.url)], { maxSnapshotAgeMs: 30_000 });
    await target.refreshIfStale();

    vi.setSystemTime(Date.now() + 30_000);

    expect(target.refreshIfStale()).toBeUndefined();
    expect(listCalls(weather)).toBe(1);
  });

  it('refreshes a snapshot older than maxSnapshotAgeMs and serves what changed upstream', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const weather = await upstream(['forecast']);
    const target = pool([serverConfig('w', weather.url)], { maxSnapshotAgeMs: 30_000 });
    await target.refreshIfStale();
    const [session] = weather.servers();
    session?.registerTool('alerts', { inputSchema: { city: z.string() } }, () => ({ content: [] }));

    vi.setSystemTime(Date.now() + 30_001);
    const refreshing = target.refreshIfStale();

    expect(refreshing).toBeInstanceOf(Promise);
    await refreshing;
    expect(toolNames(target)).toEqual(['w_alerts', 'w_forecast']);
    expect(weather.initializeCount).toBe(1);
    expect(listCalls(weather)).toBe(2);
  });

  it('refreshes only the upstreams whose snapshot is stale', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const weather = await upstream(['forecast']);
    const maps = await upstream(['route']);
    const target = pool([serverConfig('w', weather.url)], { maxSnapshotAgeMs: 30_000 });
    await target.refreshIfStale();
    vi.setSystemTime(Date.now() + 10_000);
    target.apply({ servers: [serverConfig('w', weather.url), serverConfig('m', maps.url)], virtualServers: [] });

    await target.refreshIfStale();

    expect(toolNames(target)).toEqual(['m_route', 'w_forecast']);
    expect(listCalls(weather)).toBe(1);
    expect(listCalls(maps)).toBe(1);
  });

  it('skips disabled servers', async () => {
    const weather = await upstream(['forecast']);
    const target = pool([serverConfig('w', weather.url, { enabled: false })]);

    expect(target.refreshIfStale()).toBeUndefined();
    expect(weather.initializeCount).toBe(0);
  });

  it('reports the catalog change of a refresh through onCatalogChange', async () => {
    const weather = await upstream(['forecast']);
    const onCatalogChange = vi.fn();
    const target = pool([serverConfig('w', weather.url)], { onCatalogChange });

    await target.refreshIfStale();

    expect(onCatalogChange).toHaveBeenCalledExactlyOnceWith(
      { tools: true, prompts: false, resources: false },
      target.catalog(),
    );
  });

  it('resolves without serving tools when an upstream is down, and waits maxSnapshotAgeMs before trying again', async () => {
    const url = await failingUpstream();
    const target = pool([serverConfig('down', url)], { maxSnapshotAgeMs: 60_000 });

    await target.refreshIfStale();

    expect(target.snapshot('down')).toMatchObject({ ready: false, consecutiveFailures: 1 });
    expect(toolNames(target)).toEqual([]);
    expect(target.refreshIfStale()).toBeUndefined();
  });
});

describe('upstream pool, background discovery', () => {
  it('has nothing for a request to wait for', async () => {
    const weather = await upstream(['forecast']);
    const target = pool([serverConfig('w', weather.url)], { discovery: 'background' });

    expect(target.refreshIfStale()).toBeUndefined();
  });

  it('lists the upstreams on its own', async () => {
    const weather = await upstream(['forecast']);
    const listed = new Promise<void>((resolve) => {
      const target = pool([serverConfig('w', weather.url)], {
        discovery: 'background',
        onCatalogChange: () => {
          if (toolNames(target).includes('w_forecast')) resolve();
        },
      });
    });

    await listed;
    expect(weather.initializeCount).toBe(1);
  });
});
