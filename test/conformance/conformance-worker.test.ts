import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../harness/index.ts';
import { startConformanceFixture, type ConformanceFixture } from './fixture-server.ts';
import { compareThroughGateway, summarizeReport, toUnprefixedGatewayConfig } from './gateway-parity.ts';
import { runConformance } from './run-conformance.ts';
import { LEGACY_SERVER_SCENARIOS, MODERN_DIRECT_PASSING } from './scenarios.ts';
import { startModernConformanceFixture, type ModernConformanceFixture } from './fixture-modern-server.ts';
import { startWorkerGateway, type WorkerGateway } from './worker-gateway.ts';

/** One legacy suite run takes a few seconds locally; the budget leaves room for slow CI. */
const RUN_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 2 * RUN_TIMEOUT_MS + 60_000;
const OUT_DIR = join(
  fileURLToPath(new URL('../../.conformance/', import.meta.url)),
  `${new Date().toISOString().replace(/[:.]/g, '-')}-worker`,
);

// The legacy suite (0.1.16, `--suite all`) through the two builds of the gateway: the Node
// CLI and the worker bundle in workerd (Miniflare on a loopback port), each with the legacy
// fixture as its only, unprefixed server. The worker must pass whatever the Node build passes.
describe('MCP conformance suite 0.1.16 through the worker build', () => {
  let fixture: ConformanceFixture | undefined;
  let node: RunningGateway | undefined;
  let worker: WorkerGateway | undefined;

  beforeAll(async () => {
    fixture = await startConformanceFixture();
    const config = toUnprefixedGatewayConfig(fixture.url);
    [node, worker] = await Promise.all([startGateway({ config }), startWorkerGateway(config)]);
  });
  afterAll(async () => {
    await worker?.stop();
    await node?.stop();
    await fixture?.stop();
  });

  it(
    'passes through the worker every scenario that passes through the Node gateway',
    async () => {
      const run = (url: string, label: string) =>
        runConformance({ url, suite: 'all', outDir: join(OUT_DIR, label), timeoutMs: RUN_TIMEOUT_MS });
      // One after the other: both share the fixture and the machine's cores.
      const viaNode = await run(node!.url, 'node');
      const viaWorker = await run(worker!.url, 'worker');
      console.log(
        `conformance 0.1.16 through the Node gateway: ${summarizeReport(viaNode)}; through the worker: ${summarizeReport(viaWorker)}`,
      );

      expect(viaNode.scenarios.map((s) => s.name)).toEqual(expect.arrayContaining([...LEGACY_SERVER_SCENARIOS]));
      // The Node build is the reference here: "directly" in the comparison means "through Node".
      const parity = compareThroughGateway(viaNode, viaWorker, []);
      if (parity.fewerChecks.length > 0) {
        console.log(`conformance 0.1.16 fewer passed checks through the worker: ${parity.fewerChecks.join('; ')}`);
      }
      expect(
        parity.regressions,
        `scenarios passing through the Node gateway but not through the worker; workerd output (tail):\n${worker!.logs().slice(-3000)}`,
      ).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});

// The 2026-07-28 requirements (0.2.0) through the worker build, with the modern fixture as its
// only, unprefixed server: every scenario that passes against the fixture directly.
describe('MCP conformance suite 0.2.0 (--requirements 2026-07-28) through the worker build', () => {
  let fixture: ModernConformanceFixture | undefined;
  let worker: WorkerGateway | undefined;

  beforeAll(async () => {
    fixture = await startModernConformanceFixture();
    worker = await startWorkerGateway(toUnprefixedGatewayConfig(fixture.url));
  });
  afterAll(async () => {
    await worker?.stop();
    await fixture?.stop();
  });

  it(
    'passes through the worker every scenario that passes against the fixture directly',
    async () => {
      const report = await runConformance({
        url: worker!.url,
        cli: 'next',
        requirements: '2026-07-28',
        outDir: join(OUT_DIR, 'worker-2026-07-28'),
        timeoutMs: RUN_TIMEOUT_MS,
      });
      console.log(`conformance 2026-07-28 through the worker: ${summarizeReport(report)}`);
      const failing = report.scenarios
        .filter((s) => MODERN_DIRECT_PASSING.includes(s.name) && !(s.ok && s.passed > 0))
        .map((s) => `${s.name}: ${s.failures.join('; ') || `${s.failed} failed`}`);
      expect(failing, `workerd output (tail):\n${worker!.logs().slice(-3000)}`).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
