#!/usr/bin/env node
// The cost of observability (issue 13), side by side in one run, five gateways in front of the
// same upstream: "off" (--disable-metrics, no tracing), "control" (a second "off", whose
// difference from the first is the machine's noise in this run), "metrics" (Prometheus metrics on, scraped
// by a real Prometheus every second), "on" (metrics, and every call traced and exported by
// OTLP/HTTP protobuf to a real Jaeger) and "sampled" (as "on", with OTEL_TRACES_SAMPLER=
// traceidratio at 10 %). The client sends a sampled W3C traceparent on every call, as a traced
// agent does. Measured in turns (ABBA):
//   1. tools/call p50 at c=1 against off (target for "on": ≤ 50 µs added);
//   2. gateway CPU per call at c=64 against off (target for "on": ≤ 5 % more);
//   3. calls Prometheus scraped and traces Jaeger holds (proof that both exported).
// Prints a table and writes bench/results/observability.json. BENCH_QUICK=1: smaller counts.
// OBS_TRACING_ENV='{"OTEL_…":"…"}' adds variables to the tracing gateways (to try settings).
// BENCH_BASELINE=<checkout> adds "on (baseline)": that checkout's built gateway configured as
// "on", measured in the same turns (a change to tracing against its parent, in one run).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startJaeger } from '../test/harness/jaeger.ts';
import { startPrometheus } from '../test/harness/prometheus.ts';
import { REPO_ROOT } from '../test/harness/repo-paths.ts';
import { echoParams, measureCallLatency, measureCallThroughput } from './lib/call-phases.mjs';
import { baselineCli } from './lib/initialize-phases.mjs';
import { waitForTools } from './lib/list-memory-phases.mjs';
import { openMcpSession } from './lib/mcp-http.mjs';
import { startBenchGateway, startUpstreams } from './lib/processes.mjs';
import { printComparison, writeJson } from './lib/report.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
const SIZES = QUICK
  ? { warmup: 100, calls: 400, rounds: 4, windowMs: 1_000, windows: 2 }
  : { warmup: 300, calls: 4_000, rounds: 16, windowMs: 3_000, windows: 6 };
const log = (message) => process.stderr.write(`[bench:observability] ${message}\n`);
const cleanups = [];
const defer = (fn) => cleanups.push(fn);

/** tools/call of `tool` on `session`, each in a sampled trace of its own, as a traced client sends it. */
function tracedCall(session, tool) {
  const params = echoParams(tool);
  return () =>
    session.request('tools/call', params, {
      traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
    });
}

async function main() {
  const baseline = baselineCli();
  const jaeger = await startJaeger();
  defer(() => jaeger.stop());
  const upstream = await startUpstreams(1, 1);
  defer(() => upstream.stop());
  const servers = [{ name: 'bench', url: upstream.urls[0], prefix: 'e_' }];
  const noTracing = { OTEL_EXPORTER_OTLP_ENDPOINT: undefined, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined };
  const tracing = {
    OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpHttpUrl,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_SERVICE_NAME: 'mcp-gateway-bench',
    ...JSON.parse(process.env.OBS_TRACING_ENV ?? '{}'),
  };
  const gateways = {
    off: await startBenchGateway(servers, { args: ['--disable-metrics'], env: noTracing }),
    // A second gateway like "off": how far two identical gateways differ on this machine now.
    control: await startBenchGateway(servers, { args: ['--disable-metrics'], env: noTracing }),
    metrics: await startBenchGateway(servers, { env: noTracing }),
    on: await startBenchGateway(servers, { env: tracing }),
    sampled: await startBenchGateway(servers, {
      env: { ...tracing, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' },
    }),
    ...(baseline !== undefined && {
      'on (baseline)': await startBenchGateway(servers, {
        cli: baseline,
        env: { ...tracing, OTEL_SERVICE_NAME: 'mcp-gateway-bench-baseline' },
      }),
    }),
  };
  for (const gateway of Object.values(gateways)) defer(() => gateway.stop());
  const scrapedNames = Object.keys(gateways).filter((name) => name !== 'off' && name !== 'control');
  const prometheus = await startPrometheus({
    scrapeTargets: scrapedNames.map((name) => ({
      job: name.replace(/\W+/g, '_').replace(/_$/, ''),
      url: `${new URL(gateways[name].url).origin}/metrics`,
    })),
    scrapeIntervalMs: 1_000,
  });
  defer(() => prometheus.stop());

  const sessions = {};
  for (const [name, gateway] of Object.entries(gateways)) {
    sessions[name] = await openMcpSession(gateway.url, { connections: 64 });
    defer(() => sessions[name].close());
    await waitForTools(sessions[name], 1);
  }
  const offMetrics = await fetch(`${new URL(gateways.off.url).origin}/metrics`);
  if (offMetrics.status !== 404) throw new Error(`the off gateway serves /metrics (${offMetrics.status})`);

  const targets = Object.fromEntries(
    Object.keys(gateways).map((name) => [
      name,
      { send: tracedCall(sessions[name], 'e_echo'), pid: gateways[name].pid },
    ]),
  );
  log(`tools/call c=1: ${SIZES.calls} per gateway; c=64: ${SIZES.windows} × ${SIZES.windowMs} ms per gateway`);
  const latency = await measureCallLatency(targets, {
    warmup: SIZES.warmup,
    count: SIZES.calls,
    rounds: SIZES.rounds,
    budgetMs: 120_000,
  });
  const throughput = await measureCallThroughput(targets, {
    ...SIZES,
    warmupMs: QUICK ? 500 : 2_000,
    upstreamPid: upstream.process.pid,
  });
  const scraped = await prometheus.waitForSeries(
    'sum by (job) (mcp_gateway_calls_total{outcome="ok"})',
    (result) => result.result.length === scrapedNames.length,
  );
  const traced = await jaeger.traces('mcp-gateway-bench', { operation: 'tools/call e_echo', limit: 20 });

  const rows = [];
  for (const name of ['control', 'metrics', 'on', 'sampled', ...(baseline === undefined ? [] : ['on (baseline)'])]) {
    const addedUs = (latency[name].p50 - latency.off.p50) * 1000;
    const cpuRatio = throughput[name].relayCpuUsPerCall / throughput.off.relayCpuUsPerCall;
    const judged = name === 'on';
    rows.push(
      [
        `${name}: tools/call p50, c=1 (ms)`,
        latency[name].p50.toFixed(3),
        latency.off.p50.toFixed(3),
        `${addedUs >= 0 ? '+' : ''}${addedUs.toFixed(0)} µs`,
        judged ? (addedUs <= 50 ? 'PASS (≤ +50 µs)' : 'MISS (≤ +50 µs)') : 'info',
      ],
      [
        `${name}: gateway CPU per call, c=64 (µs)`,
        throughput[name].relayCpuUsPerCall.toFixed(0),
        throughput.off.relayCpuUsPerCall.toFixed(0),
        `×${cpuRatio.toFixed(3)}`,
        judged ? (cpuRatio <= 1.05 ? 'PASS (≤ ×1.05)' : 'MISS (≤ ×1.05)') : 'info',
      ],
    );
  }
  const callsScraped = scraped.result.reduce((sum, sample) => sum + Number(sample.value?.[1] ?? 0), 0);
  rows.push([
    'calls Prometheus scraped / traces Jaeger holds (sample)',
    String(callsScraped),
    '-',
    `${traced.length} traces`,
    traced.length > 0 && callsScraped > 0 ? 'exported' : 'MISS (nothing exported)',
  ]);
  const errors = Object.keys(gateways).reduce((sum, name) => sum + latency[name].errors + throughput[name].errors, 0);
  printComparison('observability (issue 13)', ['variant', 'off'], rows, { diffWidth: 12, errors });
  await writeJson(join(REPO_ROOT, 'bench', 'results', 'observability.json'), {
    quick: QUICK,
    latency,
    throughput,
    callsScraped,
    tracesSampled: traced.length,
  });
  if (errors > 0) throw new Error(`${errors} requests failed; the figures are not trustworthy`);
  if (process.env.BENCH_STRICT === '1' && rows.some((row) => row[4].startsWith('MISS'))) process.exitCode = 1;
}

try {
  await main();
} catch (error) {
  log(`failed: ${error.stack ?? error}`);
  process.exitCode = 2;
} finally {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
}
