import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../harness/index.ts';
import { loadExpectedFailures } from './expected-failures.ts';
import { startModernConformanceFixture, type ModernConformanceFixture } from './fixture-modern-server.ts';
import { compareThroughGateway, summarizeReport, toUnprefixedGatewayConfig } from './gateway-parity.ts';
import { runConformance, type ConformanceReport } from './run-conformance.ts';
import { MODERN_DIRECT_PASSING } from './scenarios.ts';

/** A requirements run takes about 4 s locally; the budget leaves room for slow CI. */
const RUN_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 2 * RUN_TIMEOUT_MS + 30_000;
const REVISION = '2026-07-28';
const EXPECTED_FAILURES = fileURLToPath(new URL('./expected-failures.2026-07-28.yml', import.meta.url));
const OUT_DIR = join(
  fileURLToPath(new URL('../../.conformance/', import.meta.url)),
  `${new Date().toISOString().replace(/[:.]/g, '-')}-${REVISION}`,
);

describe(`MCP conformance suite 0.2.0, --requirements ${REVISION}`, () => {
  let fixture: ModernConformanceFixture | undefined;
  let direct: Promise<ConformanceReport> | undefined;
  let gateway: RunningGateway | undefined;

  beforeAll(async () => {
    fixture = await startModernConformanceFixture();
  });
  afterAll(async () => {
    await gateway?.stop();
    await fixture?.stop();
  });

  function run(url: string, label: string): Promise<ConformanceReport> {
    return runConformance({
      url,
      cli: 'next',
      requirements: REVISION,
      outDir: join(OUT_DIR, label),
      timeoutMs: RUN_TIMEOUT_MS,
    });
  }

  /** The direct run, shared by both tests. */
  function directReport(): Promise<ConformanceReport> {
    direct ??= run(fixture!.url, 'direct');
    return direct;
  }

  it(
    'passes against the modern fixture directly every scenario the fixture is known to pass',
    async () => {
      const report = await directReport();
      console.log(`conformance ${REVISION} direct: ${summarizeReport(report)}`);

      // A pass counts when no check failed and at least one succeeded (all-SKIPPED is no pass).
      const passing = report.scenarios.filter((s) => s.ok && s.passed > 0).map((s) => s.name);
      const failures = report.scenarios
        .filter((s) => MODERN_DIRECT_PASSING.includes(s.name) && !s.ok)
        .map((s) => `${s.name}: ${s.failures.join('; ') || `${s.failed} failed`}`);
      expect(failures, 'scenarios of MODERN_DIRECT_PASSING that fail against the fixture').toEqual([]);
      // Equal, not just contained: a scenario that starts passing belongs in the list, so the
      // gateway parity test holds the gateway to it.
      expect([...passing].sort()).toEqual([...MODERN_DIRECT_PASSING].sort());
      const requiredFailing = report.scenarios.filter((s) => s.notScored === undefined && !s.ok).map((s) => s.name);
      expect(requiredFailing, `scenarios ${REVISION} requires that fail directly`).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'passes through the gateway every scenario that passes directly, unless listed in expected-failures.2026-07-28.yml',
    async () => {
      const [report, expected] = await Promise.all([directReport(), loadExpectedFailures(EXPECTED_FAILURES)]);
      const { startGateway } = await import('../harness/index.ts');
      gateway = await startGateway({ config: toUnprefixedGatewayConfig(fixture!.url) });
      const viaGateway = await run(gateway.url, 'gateway');
      console.log(
        `conformance ${REVISION} direct: ${summarizeReport(report)}; through gateway: ${summarizeReport(viaGateway)}`,
      );

      const parity = compareThroughGateway(report, viaGateway, expected);
      if (parity.fewerChecks.length > 0) {
        console.log(
          `conformance ${REVISION} fewer passed checks through the gateway: ${parity.fewerChecks.join('; ')}`,
        );
      }
      if (parity.regressions.length > 0) {
        // Wire-schema failures quote whole messages; the first KiB of each line names the cause.
        const lines = parity.regressions.map((line) => (line.length > 1024 ? `${line.slice(0, 1024)}…` : line));
        console.log(`conformance ${REVISION} differs through the gateway:\n  ${lines.join('\n  ')}`);
      }
      expect(parity.unknownEntries, 'expected-failures.2026-07-28.yml names unknown scenarios').toEqual([]);
      expect(parity.staleEntries, 'expected-failures.2026-07-28.yml lists scenarios that now pass').toEqual([]);
      // Names only, so the diff reads as the list of scenarios that differ; details are logged above.
      expect(
        parity.regressions.map((line) => line.slice(0, line.indexOf(':'))),
        `scenarios passing directly but not through the gateway (details in the log above); gateway logs (tail):\n${gateway.logs().slice(-3000)}`,
      ).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
