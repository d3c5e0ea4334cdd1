import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { TEST_SIGNING_KEY } from '../harness/index.ts';
import { COMPATIBILITY_DATE, COMPATIBILITY_FLAGS, SESSION_OBJECT_BINDING, WORKER_BUNDLE } from './start-worker.ts';

const WRANGLER_TOML = fileURLToPath(new URL('../../packages/edge-broker/wrangler.toml', import.meta.url));

/** The parts of wrangler.toml this test reads. */
interface WranglerConfig {
  main: string;
  compatibility_date: string;
  compatibility_flags: string[];
  no_bundle?: boolean;
  durable_objects?: { bindings?: Array<{ name: string; class_name: string; script_name?: string }> };
  migrations?: Array<{ tag: string; new_sqlite_classes?: string[]; new_classes?: string[] }>;
  vars?: Record<string, unknown>;
}

const config = parse(readFileSync(WRANGLER_TOML, 'utf8')) as unknown as WranglerConfig;

describe('packages/edge-broker/wrangler.toml', () => {
  it('deploys the bundle scripts/build.mjs writes, as it is', () => {
    const main = resolve(dirname(WRANGLER_TOML), config.main);
    expect(main).toBe(WORKER_BUNDLE);
    expect(existsSync(main), `${main} exists (npm run build)`).toBe(true);
    expect(config.no_bundle).toBe(true);
  });

  it('uses the compatibility date and flags the workerd suite runs with', () => {
    expect(config.compatibility_date).toBe(COMPATIBILITY_DATE);
    expect(config.compatibility_flags).toEqual([...COMPATIBILITY_FLAGS]);
  });

  it('binds GATEWAY_SESSIONS to a SQLite-backed class created by a migration', () => {
    const bindings = config.durable_objects?.bindings ?? [];
    expect(bindings).toEqual([
      { name: 'GATEWAY_SESSIONS', class_name: SESSION_OBJECT_BINDING.GATEWAY_SESSIONS.className },
    ]);
    const created = (config.migrations ?? []).flatMap((migration) => migration.new_sqlite_classes ?? []);
    expect(created).toContain('GatewaySessionObject');
  });

  it('keeps the signing key out of vars', () => {
    expect(Object.keys(config.vars ?? {})).not.toContain('GATEWAY_SIGNING_KEY');
    expect(Object.keys(config.vars ?? {})).not.toContain('CACHE_CONNECTION_STRING');
  });

  it('describes a worker that workerd starts: the bundle exports the Durable Object class it names', async () => {
    const durableObjects = Object.fromEntries(
      (config.durable_objects?.bindings ?? []).map((binding) => [
        binding.name,
        { className: binding.class_name, useSQLite: true },
      ]),
    );
    const mf = new Miniflare({
      modules: true,
      scriptPath: resolve(dirname(WRANGLER_TOML), config.main),
      compatibilityDate: config.compatibility_date,
      compatibilityFlags: config.compatibility_flags,
      bindings: { MCP_GATEWAY_CONFIG: 'servers: []\n', GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY },
      durableObjects,
    });
    try {
      const response = await mf.dispatchFetch('http://localhost/mcp', {
        method: 'DELETE',
        headers: { 'mcp-session-id': 'not-a-session', 'mcp-protocol-version': '2025-11-25' },
      });
      // The worker started with the class bound (an unexported class fails start-up).
      expect(response.status).toBe(404);
      await response.body?.cancel();
    } finally {
      await mf.dispose();
    }
    const exported = /export\s*\{([^}]*)\}\s*;?\s*(?:\/\/#\s*sourceMappingURL=\S+\s*)?$/.exec(
      readFileSync(WORKER_BUNDLE, 'utf8'),
    )?.[1];
    expect(
      exported?.split(',').map((name) =>
        name
          .trim()
          .split(/\s+as\s+/)
          .at(-1),
      ),
    ).toEqual(expect.arrayContaining(['GatewaySessionObject', 'default']));
  });
});
