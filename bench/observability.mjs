#!/usr/bin/env node
// The cost of observability (issue 13), side by side in one run: two gateways in front of the
// same upstream, one with metrics off (--disable-metrics) and no tracing ("off"), one with its
// Prometheus metrics on (scraped by a real Prometheus every second) and every call traced and
// exported by OTLP/HTTP protobuf to a real Jaeger ("on"); the client sends a W3C traceparent
// on every call, as a traced agent does. Measured in turns (ABBA):
//   1. tools/call p50 at c=1, on against off (target: ≤ 50 µs added);
//   2. gateway CPU per call at c=64, on against off (target: ≤ 5 % more);
//   3. spans Jaeger holds for the run's calls (proof that tracing exported).
// Prints a table and writes bench/results/observability.json. BENCH_QUICK=1: smaller counts.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startJaeger } from '../test/harness/jaeger.ts';
import { startPrometheus } from '../test/harness/prometheus.ts';
import { REPO_ROOT } from '../test/harness/repo-paths.ts';
import { echoParams, measureCallLatency, measureCallThroughput } from './lib/call-phases.mjs';
import { waitForTools } from './lib/list-memory-phases.mjs';
import { openMcpSession } from './lib/mcp-http.mjs';
import { startBenchGateway, startUpstreams } from './lib/processes.mjs';
import { writeJson } from './lib/report.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
const SIZES = QUICK
  ? { warmup: 100, calls: 400, windowMs: 1_000, windows: 2 }
  : { warmup: 300, calls: 2_000, windowMs: 5_000, windows: 2 };
const log = (message) => process.stderr.write(`[bench:observability] ${message}\n`);
const cleanups = [];
const defer = (fn) => cleanups.push(fn);

/** tools/call of `tool` on `session`, each in a trace of its own, as a traced client sends it. */
function tracedCall(session, tool) {
  const params = echoParams(tool);
  return () =>
    session.request('tools/call', params, {
      traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
    });
}

async function main() {
  const jaeger = await startJaeger();
  defer(() => jaeger.stop());
  const upstream = await startUpstreams(1, 1);
  defer(() => upstream.stop());
  const servers = [{ name: 'bench', url: upstream.urls[0], prefix: 'e_' }];
  const off = await startBenchGateway(servers, {
    args: ['--disable-metrics'],
    nodeArgs: process.env.OBS_PROF === '1' ? ['--cpu-prof', '--cpu-prof-dir=/tmp/obs-prof-off'] : [],
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: undefined, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined },
  });
  defer(() => off.stop());
  let sinkUrl;
  if (process.env.OBS_SINK === '1') {
    const { createServer } = await import('node:http');
    const sink = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        res.end();
      });
    });
    await new Promise((r) => sink.listen(0, '127.0.0.1', r));
    sinkUrl = `http://127.0.0.1:${sink.address().port}`;
    defer(() => sink.close());
  }
  const on = await startBenchGateway(servers, {
    args: [],
    nodeArgs: process.env.OBS_PROF === '1' ? ['--cpu-prof', '--cpu-prof-dir=/tmp/obs-prof'] : [],
    env:
      process.env.OBS_DIAG === 'metrics-only'
        ? {}
        : {
            OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl ?? jaeger.otlpHttpUrl,
            OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
            OTEL_SERVICE_NAME: 'mcp-gateway-bench',
            ...JSON.parse(process.env.OBS_ENV ?? '{}'),
          },
  });
  defer(() => on.stop());
  const prometheus = await startPrometheus({
    scrapeTargets: [{ job: 'gateway', url: `${new URL(on.url).origin}/metrics` }],
    scrapeIntervalMs: 1_000,
  });
  defer(() => prometheus.stop());

  const sessions = {
    on: await openMcpSession(on.url, { connections: 64 }),
    off: await openMcpSession(off.url, { connections: 64 }),
  };
  for (const session of Object.values(sessions)) defer(() => session.close());
  await waitForTools(sessions.on, 1);
  await waitForTools(sessions.off, 1);
  const offMetrics = await fetch(`${new URL(off.url).origin}/metrics`);
  if (offMetrics.status !== 404) throw new Error(`the off gateway serves /metrics (${offMetrics.status})`);

  const targets = {
    on: { send: tracedCall(sessions.on, 'e_echo'), pid: on.pid },
    off: { send: tracedCall(sessions.off, 'e_echo'), pid: off.pid },
  };
  log(`tools/call c=1: ${SIZES.calls} per gateway; c=64: ${SIZES.windows} × ${SIZES.windowMs} ms per gateway`);
  const latency = await measureCallLatency(targets, { warmup: SIZES.warmup, count: SIZES.calls });
  const throughput = await measureCallThroughput(targets, {
    ...SIZES,
    warmupMs: QUICK ? 500 : 2_000,
    upstreamPid: upstream.process.pid,
  });
  const scraped = await prometheus.waitForSeries(
    'sum(mcp_gateway_calls_total{outcome="ok"})',
    (result) => result.result.length > 0,
  );
  const traced = await jaeger.traces('mcp-gateway-bench', { operation: 'tools/call e_echo', limit: 20 });

  if (process.env.OBS_DIAG !== undefined) process.stderr.write(`${on.process.output().slice(-3000)}\n`);
  const addedUs = (latency.on.p50 - latency.off.p50) * 1000;
  const cpuRatio = throughput.on.relayCpuUsPerCall / throughput.off.relayCpuUsPerCall;
  const rows = [
    [
      'tools/call p50, c=1 (ms)',
      latency.on.p50.toFixed(3),
      latency.off.p50.toFixed(3),
      `${addedUs >= 0 ? '+' : ''}${addedUs.toFixed(0)} µs`,
      addedUs <= 50 ? 'PASS (≤ +50 µs)' : 'MISS (≤ +50 µs)',
    ],
    [
      'gateway CPU per call, c=64 (µs)',
      throughput.on.relayCpuUsPerCall.toFixed(0),
      throughput.off.relayCpuUsPerCall.toFixed(0),
      `×${cpuRatio.toFixed(3)}`,
      cpuRatio <= 1.05 ? 'PASS (≤ ×1.05)' : 'MISS (≤ ×1.05)',
    ],
    [
      '  tools/call rate, c=64 (req/s)',
      throughput.on.perSecond.toFixed(0),
      throughput.off.perSecond.toFixed(0),
      `×${(throughput.on.perSecond / throughput.off.perSecond).toFixed(2)}`,
      'info',
    ],
    [
      'calls Prometheus scraped / traces Jaeger holds (sample)',
      String(Number(scraped.result[0]?.value?.[1] ?? 0)),
      '-',
      `${traced.length} traces`,
      traced.length > 0 ? 'exported' : 'MISS (nothing exported)',
    ],
  ];
  const errors = [latency.on, latency.off, throughput.on, throughput.off].reduce((sum, r) => sum + r.errors, 0);
  const width = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(
    `\n${'observability (issue 13)'.padEnd(width)}  ${'on'.padStart(8)}  ${'off'.padStart(8)}  ${'difference'.padStart(12)}  target\n`,
  );
  for (const [metric, a, b, diff, target] of rows) {
    process.stdout.write(
      `${metric.padEnd(width)}  ${a.padStart(8)}  ${b.padStart(8)}  ${diff.padStart(12)}  ${target}\n`,
    );
  }
  process.stdout.write(`failed requests: ${errors}\n`);
  await writeJson(join(REPO_ROOT, 'bench', 'results', 'observability.json'), {
    quick: QUICK,
    latency,
    throughput,
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
