import { describe, expect, it } from 'vitest';
import { buildCatalog } from '../catalog/catalog.ts';
import type { ServerConfig } from '../config/schema.ts';
import type { UpstreamSnapshot } from '../upstream/types.ts';
import { fakeServer, fakeSnapshot as snapshot } from '../catalog/catalog.fixtures.ts';
import type { PinView } from '../gateway/pin-gate.ts';
import { buildStatusReport } from './status-report.ts';

const EXPECTED_VERSION = '2025-11-25';

function server(name: string, prefix: string, hostname = `${name}.internal:8080`): ServerConfig {
  return fakeServer(name, prefix, { hostname, url: `http://${hostname}/mcp` });
}

const tool = (name: string) => ({ name, inputSchema: { type: 'object' } });

function report(servers: ServerConfig[], snapshots: UpstreamSnapshot[]) {
  const catalog = buildCatalog(servers, new Map(snapshots.map((s) => [s.server, s])));
  return buildStatusReport(servers, snapshots, catalog, EXPECTED_VERSION);
}

describe('buildStatusReport', () => {
  it('reports a ready server with its counts, invalid items and protocol version', () => {
    const invalidTool = { name: 'broken', errors: ['inputSchema must be an object'] };
    const result = report(
      [server('weather', 'w_', 'weather.internal:8080')],
      [
        snapshot('weather', {
          tools: [tool('forecast'), tool('alerts')],
          prompts: [{ name: 'summary' }],
          invalidTools: [invalidTool],
          lastValidated: '2026-01-01T00:00:00.000Z',
        }),
      ],
    );

    expect(result).toMatchObject({
      overallValid: true,
      totalServers: 1,
      healthyServers: 1,
      unHealthyServers: 0,
      toolConflicts: 0,
    });
    expect(result.servers).toEqual([
      {
        id: 'weather:w_:weather.internal:8080',
        name: 'weather',
        prefix: 'w_',
        lastValidated: '2026-01-01T00:00:00.000Z',
        message: 'server added successfully',
        ready: true,
        totalTools: 2,
        totalPrompts: 1,
        invalidTools: 1,
        invalidToolList: [invalidTool],
        invalidPrompts: 0,
        protocolValidation: { isValid: true, supportedVersion: '2025-06-18', expectedVersion: EXPECTED_VERSION },
      },
    ]);
    expect(new Date(result.timestamp).toISOString()).toBe(result.timestamp);
  });

  it('builds the id from name, prefix and hostname, also with an empty prefix', () => {
    const result = report([server('team/search', '', 'search.team.svc')], [snapshot('team/search')]);

    expect(result.servers[0]?.id).toBe('team/search::search.team.svc');
  });

  it('reports a failing server with no tools and its failure message', () => {
    const result = report(
      [server('weather', 'w_'), server('news', 'n_')],
      [
        snapshot('weather', { tools: [tool('forecast')] }),
        snapshot('news', {
          ready: false,
          message: 'connection refused',
          tools: [tool('headlines')],
          consecutiveFailures: 3,
        }),
      ],
    );

    expect(result).toMatchObject({ overallValid: false, totalServers: 2, healthyServers: 1, unHealthyServers: 1 });
    expect(result.servers[1]).toMatchObject({
      name: 'news',
      ready: false,
      message: 'connection refused',
      totalTools: 0,
      totalPrompts: 0,
    });
  });

  it('reports a server without a snapshot yet as connecting and not ready', () => {
    const result = report([server('weather', 'w_')], []);

    expect(result.overallValid).toBe(false);
    expect(result.servers[0]).toMatchObject({
      ready: false,
      message: 'connecting',
      totalTools: 0,
      invalidTools: 0,
      invalidPrompts: 0,
      protocolValidation: { isValid: false, supportedVersion: '', expectedVersion: EXPECTED_VERSION },
    });
    expect(result.servers[0]).not.toHaveProperty('lastValidated');
  });

  it('counts conflicting names, serves only the rest and names them in the message', () => {
    const result = report(
      [server('first', ''), server('second', '')],
      [
        snapshot('first', { tools: [tool('search'), tool('fetch')] }),
        snapshot('second', { tools: [tool('search'), tool('fetch'), tool('index')], prompts: [{ name: 'p' }] }),
      ],
    );

    expect(result).toMatchObject({ overallValid: false, healthyServers: 2, unHealthyServers: 0, toolConflicts: 2 });
    expect(result.servers[0]).toMatchObject({ totalTools: 2 });
    expect(result.servers[0]).not.toHaveProperty('conflicts');
    expect(result.servers[1]).toMatchObject({
      ready: true,
      totalTools: 1,
      totalPrompts: 1,
      conflicts: { tools: ['search', 'fetch'], prompts: [], resources: [] },
    });
    expect(result.servers[1]?.message).toContain('search, fetch');
  });

  it('is not overall valid when only prompts conflict', () => {
    const result = report(
      [server('first', ''), server('second', '')],
      [snapshot('first', { prompts: [{ name: 'ask' }] }), snapshot('second', { prompts: [{ name: 'ask' }] })],
    );

    expect(result.toolConflicts).toBe(0);
    expect(result.overallValid).toBe(false);
    expect(result.servers[1]).toMatchObject({ totalPrompts: 0, conflicts: { prompts: ['ask'] } });
  });

  it('is overall valid with no servers', () => {
    expect(report([], [])).toMatchObject({
      servers: [],
      overallValid: true,
      totalServers: 0,
      healthyServers: 0,
      unHealthyServers: 0,
      toolConflicts: 0,
    });
  });
});

describe('buildStatusReport pinning', () => {
  const DIGEST = `sha256:${'0a'.repeat(32)}`;
  const pinned: ServerConfig = {
    ...server('files', 'f_'),
    pinning: { onChange: 'serveApproved', approve: [], pinned: {} },
  };
  const view = (storeAvailable: boolean, digests?: Record<string, string>): PinView => ({
    onChange: 'serveApproved',
    pinned: digests === undefined ? 0 : Object.keys(digests).length,
    ...(digests === undefined ? {} : { digests }),
    storeAvailable,
    quarantined: [],
    withheld: new Map(),
  });
  const pinningOf = (pins: PinView | undefined) => {
    const snapshots = [snapshot('files', { tools: [tool('read_file')] })];
    const catalog = buildCatalog([pinned], new Map(snapshots.map((s) => [s.server, s])));
    return buildStatusReport([pinned], snapshots, catalog, EXPECTED_VERSION, () => pins).servers[0]?.pinning;
  };

  it('reports the approved digests by upstream tool name', () => {
    expect(pinningOf(view(true, { read_file: DIGEST }))).toMatchObject({ pinned: 1, digests: { read_file: DIGEST } });
  });

  it('leaves digests out before the first listing is decided and while the store cannot be read', () => {
    expect(pinningOf(undefined)).not.toHaveProperty('digests');
    expect(pinningOf(view(false))).not.toHaveProperty('digests');
  });
});
