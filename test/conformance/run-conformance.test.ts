import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModernConformanceFixture, type ModernConformanceFixture } from './fixture-modern-server.ts';
import { startConformanceFixture, type ConformanceFixture } from './fixture-server.ts';
import { ConformanceRunError, runConformance } from './run-conformance.ts';

let fixture: ConformanceFixture;
let outDir: string;

beforeAll(async () => {
  fixture = await startConformanceFixture();
  outDir = await mkdtemp(join(tmpdir(), 'conformance-run-'));
});
afterAll(async () => {
  await fixture.stop();
  await rm(outDir, { recursive: true, force: true });
});

describe('runConformance', () => {
  it('runs the named scenarios one by one and reads their checks', async () => {
    const report = await runConformance({
      url: fixture.url,
      scenarios: ['ping', 'server-sse-polling'],
      outDir,
      timeoutMs: 60_000,
    });
    expect(report.scenarios).toMatchObject([
      { name: 'ping', passed: 1, failed: 0, ok: true, warnings: 0, failures: [] },
      // 0.1.16 polls with protocol version 2025-03-26, so no priming event: two SHOULD warnings.
      { name: 'server-sse-polling', passed: 0, failed: 0, ok: true, warnings: 2 },
    ]);
    expect(report.totals).toEqual({ passed: 1, failed: 0 });
    expect(report.raw).toContain("Running client scenario 'ping'");
  }, 90_000);

  it('reports the failed checks of a URL that serves no MCP endpoint', async () => {
    const report = await runConformance({
      url: fixture.url.replace('/mcp', '/not-mcp'),
      scenarios: ['tools-list'],
      outDir,
      timeoutMs: 60_000,
    });
    expect(report.scenarios[0]).toMatchObject({ name: 'tools-list', ok: false, failed: 1 });
    expect(report.scenarios[0]?.failures[0]).toMatch(/^tools-list: Failed/);
  }, 90_000);

  it('rejects a scenario the CLI does not know', async () => {
    await expect(
      runConformance({ url: fixture.url, scenarios: ['no-such-scenario'], outDir, timeoutMs: 60_000 }),
    ).rejects.toBeInstanceOf(ConformanceRunError);
  }, 90_000);

  it('rejects, and stops the CLI, when the time budget is spent', async () => {
    await expect(runConformance({ url: fixture.url, suite: 'all', outDir, timeoutMs: 50 })).rejects.toThrow(
      /timed out/,
    );
  }, 90_000);
});

describe('runConformance with the 0.2.0 CLI', () => {
  let modern: ModernConformanceFixture;
  beforeAll(async () => {
    modern = await startModernConformanceFixture();
  });
  afterAll(async () => {
    await modern.stop();
  });

  it('runs a single scenario at the 2026-07-28 wire', async () => {
    const report = await runConformance({
      url: modern.url,
      cli: 'next',
      specVersion: '2026-07-28',
      scenarios: ['tools-list'],
      outDir,
      timeoutMs: 60_000,
    });
    expect(report.scenarios).toMatchObject([{ name: 'tools-list', ok: true, failures: [] }]);
    expect(report.scenarios[0]?.passed).toBeGreaterThan(0);
  }, 90_000);

  it('refuses 0.2.0-only options with the 0.1.16 CLI', async () => {
    await expect(
      runConformance({ url: modern.url, requirements: '2026-07-28', outDir, timeoutMs: 60_000 }),
    ).rejects.toThrow(/--requirements needs cli 'next'/);
  });
});
