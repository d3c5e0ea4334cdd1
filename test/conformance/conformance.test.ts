import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../harness/index.ts';
import { loadExpectedFailures } from './expected-failures.ts';
import { startConformanceFixture, type ConformanceFixture } from './fixture-server.ts';
import { compareThroughGateway, summarizeReport, toUnprefixedGatewayConfig } from './gateway-parity.ts';
import { runConformance, type ConformanceReport } from './run-conformance.ts';
import { LEGACY_SERVER_SCENARIOS } from './scenarios.ts';

/** One suite run takes a few seconds locally; the budget leaves room for slow CI. */
const RUN_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 2 * RUN_TIMEOUT_MS + 30_000;
const OUT_DIR = join(
  fileURLToPath(new URL('../../.conformance/', import.meta.url)),
  new Date().toISOString().replace(/[:.]/g, '-'),
);

describe('MCP conformance suite (server scenarios)', () => {
  let fixture: ConformanceFixture | undefined;
  let direct: Promise<ConformanceReport> | undefined;
  let gateway: Promise<RunningGateway> | undefined;

  beforeAll(async () => {
    fixture = await startConformanceFixture();
  });
  afterAll(async () => {
    await (await gateway?.catch(() => undefined))?.stop();
    await fixture?.stop();
  });

  /** The direct run, shared by the tests; `all` is the active suite plus the pending scenarios. */
  function directReport(): Promise<ConformanceReport> {
    direct ??= runConformance({
      url: fixture!.url,
      suite: 'all',
      outDir: join(OUT_DIR, 'direct'),
      timeoutMs: RUN_TIMEOUT_MS,
    });
    return direct;
  }

  /** The gateway with the fixture as its only, unprefixed server; started on first use. */
  function startedGateway(): Promise<RunningGateway> {
    // Imported lazily so that the direct run does not depend on the gateway harness or build.
    gateway ??= import('../harness/index.ts').then(({ startGateway }) =>
      startGateway({ config: toUnprefixedGatewayConfig(fixture!.url) }),
    );
    return gateway;
  }

  it(
    'passes every scenario against the fixture directly',
    async () => {
      const report = await directReport();
      console.log(`conformance direct: ${summarizeReport(report)}`);

      expect(report.scenarios.map((s) => s.name)).toEqual(expect.arrayContaining([...LEGACY_SERVER_SCENARIOS]));
      const failing = report.scenarios
        .filter((s) => !s.ok)
        .map((s) => `${s.name}: ${s.failures.join('; ') || `${s.failed} failed`}`);
      expect(failing).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'passes through the gateway every scenario that passes directly, unless listed in expected-failures.yml',
    async () => {
      const [report, expected, running] = await Promise.all([directReport(), loadExpectedFailures(), startedGateway()]);
      const viaGateway = await runConformance({
        url: running.url,
        suite: 'all',
        outDir: join(OUT_DIR, 'gateway'),
        timeoutMs: RUN_TIMEOUT_MS,
      });
      console.log(`conformance direct: ${summarizeReport(report)}; through gateway: ${summarizeReport(viaGateway)}`);

      const parity = compareThroughGateway(report, viaGateway, expected);
      for (const [label, entries] of [
        ['expected failures through the gateway', parity.expectedFailures],
        ['fewer passed checks through the gateway', parity.fewerChecks],
      ] as const) {
        if (entries.length > 0) console.log(`conformance ${label}: ${entries.join('; ')}`);
      }
      expect(parity.unknownEntries, 'expected-failures.yml names unknown scenarios').toEqual([]);
      expect(parity.staleEntries, 'expected-failures.yml lists scenarios that now pass').toEqual([]);
      expect(parity.regressions, `gateway logs (tail):\n${running.logs().slice(-4000)}`).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  // server-sse-polling (0.1.16) calls with protocol version 2025-03-26 and reports a lost
  // result only as INFO, so the suite cannot see whether a gateway survives an upstream that
  // closes a call's stream mid-call (SEP-1699 polling; test_reconnection does that for
  // 2025-11-25 sessions, and the gateway's upstream session is one). This test can.
  it(
    'delivers through the gateway the result of a call whose upstream closed its stream mid-call',
    async () => {
      const running = await startedGateway();
      const client = new Client({ name: 'conformance-resume', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(running.url)));
      try {
        const result = await client
          .callTool({ name: 'test_reconnection', arguments: {} }, undefined, { timeout: 10_000 })
          .catch((error: unknown) => ({ error: String(error) }));
        expect(
          result,
          'the gateway must resume the upstream stream (Last-Event-ID) or hand the client a resumable one',
        ).toEqual({ content: [{ type: 'text', text: 'Reconnection test completed' }] });
      } finally {
        await client.close();
      }
    },
    TEST_TIMEOUT_MS,
  );
});
