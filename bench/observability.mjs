#!/usr/bin/env node
// The cost of observability (issue 13), side by side in one run, gateways in front of the same
// upstream: "off" (--disable-metrics, no tracing), "metrics" (Prometheus metrics on, scraped by a
// real Prometheus every second), "on" (metrics, and every call traced and exported by OTLP/HTTP
// protobuf to a real Jaeger) and "sampled" (as "on", with OTEL_TRACES_SAMPLER=traceidratio at
// 10 %). Off and on, the judged pair, run as OBS_INSTANCES processes each (3; 1 with
// BENCH_QUICK=1): two processes of the same build land a few per cent apart for as long as they
// live (how their code was compiled, where their heap lies), so one process per side measures
// that as much as the change; the figures are over all of a side's processes, and the spread
// row says how far apart the off processes landed. The client sends a sampled W3C traceparent
// on every call, as a traced agent does. Measured in turns (ABBA):
//   1. tools/call p50 at c=1 against off (target for "on": ≤ 50 µs added);
//   2. gateway CPU per call at c=64 against off (target for "on": ≤ 5 % more);
//   3. calls Prometheus scraped and traces Jaeger holds (proof that both exported).
// Prints a table and writes bench/results/observability.json. BENCH_QUICK=1: smaller counts.
// OBS_TRACING_ENV='{"OTEL_…":"…"}' adds variables to the tracing gateways (to try settings).
// BENCH_BASELINE=<checkout> adds "on (baseline)": that checkout's built gateway configured as
// "on" (as many processes as on), measured in the same turns (a change against its parent, in one
// run), and a row of on against it round by round. OBS_VARIANTS=metrics,sampled (the default)
// names the informative variants to run besides off and on (empty: none, for a quicker A/B).
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
import { median } from './lib/load.mjs';
import { printComparison, writeJson } from './lib/report.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
const UNSAMPLED = 'on, calls unsampled';
const EXTRA = new Set((process.env.OBS_VARIANTS ?? 'metrics,sampled').split(',').filter(Boolean));
const INSTANCES = Number(process.env.OBS_INSTANCES ?? (QUICK ? 1 : 3));
const SIZES = QUICK
  ? { warmup: 100, calls: 400, rounds: 4, windowMs: 1_000, windows: 2 }
  : { warmup: 300, calls: 4_000, rounds: 16, windowMs: 2_000, windows: 8 };
const log = (message) => process.stderr.write(`[bench:observability] ${message}\n`);
const cleanups = [];
const defer = (fn) => cleanups.push(fn);

/**
 * tools/call of `tool` on `session`, each in a trace of its own, as a traced client sends it:
 * sampled (the gateway records and exports its spans), or not (it passes the context on only).
 */
function tracedCall(session, tool, sampled = true) {
  const params = echoParams(tool);
  const flags = sampled ? '01' : '00';
  return () =>
    session.request('tools/call', params, {
      traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-${flags}`,
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
  const variants = {
    off: { n: INSTANCES, options: { args: ['--disable-metrics'], env: noTracing } },
    ...(EXTRA.has('metrics') && { metrics: { n: 1, options: { env: noTracing } } }),
    on: { n: INSTANCES, options: { env: tracing } },
    ...(EXTRA.has('sampled') && {
      sampled: {
        n: 1,
        options: { env: { ...tracing, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' } },
      },
    }),
    ...(baseline !== undefined && {
      'on (baseline)': {
        n: INSTANCES,
        options: { cli: baseline, env: { ...tracing, OTEL_SERVICE_NAME: 'mcp-gateway-bench-baseline' } },
      },
    }),
  };
  // Each variant's processes by name: "on", "on #2", "on #3".
  const members = {};
  const gateways = {};
  for (const [variant, { n, options }] of Object.entries(variants)) {
    members[variant] = Array.from({ length: n }, (_, i) => (i === 0 ? variant : `${variant} #${i + 1}`));
    for (const name of members[variant]) {
      gateways[name] = await startBenchGateway(servers, options);
      defer(() => gateways[name].stop());
    }
  }
  const scrapedNames = Object.keys(gateways).filter((name) => !name.startsWith('off'));
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
  // The on processes again, their calls unsampled: tracing's own cost without a process between.
  members[UNSAMPLED] = members.on.map((name) => `${name} (unsampled)`);
  for (const [i, name] of members.on.entries()) {
    targets[members[UNSAMPLED][i]] = { send: tracedCall(sessions[name], 'e_echo', false), pid: gateways[name].pid };
  }
  log(`tools/call c=1: ${SIZES.calls} per gateway; c=64: ${SIZES.windows} × ${SIZES.windowMs} ms per gateway`);
  const latency = await measureCallLatency(targets, {
    warmup: SIZES.warmup,
    count: SIZES.calls,
    rounds: SIZES.rounds,
    budgetMs: 120_000,
  });
  const throughput = await measureCallThroughput(targets, {
    ...SIZES,
    warmupMs: QUICK ? 500 : 4_000,
    upstreamPid: upstream.process.pid,
  });
  const scraped = await prometheus.waitForSeries(
    'sum by (job) (mcp_gateway_calls_total{outcome="ok"})',
    (result) => result.result.length === scrapedNames.length,
  );
  const traced = await jaeger.traces('mcp-gateway-bench', { operation: 'tools/call e_echo', limit: 20 });

  // A variant's figures over all of its processes: the mean p50, and CPU summed over calls summed.
  const p50Of = (variant) =>
    members[variant].reduce((sum, name) => sum + latency[name].p50, 0) / members[variant].length;
  // CPU per call in each round (a round measures every process once, in turn): over the variant's processes.
  const cpuByRound = (variant) =>
    throughput[members[variant][0]].windows.map((_, round) => {
      const windows = members[variant].map((name) => throughput[name].windows[round]);
      return (windows.reduce((sum, w) => sum + w.relayCpuMs, 0) * 1000) / windows.reduce((sum, w) => sum + w.count, 0);
    });
  // The median round, and the median of the rounds' ratios to off: a round disturbed by the
  // machine (a collector's GC, another program) weighs no more than any other.
  const cpuOf = (variant) => median(cpuByRound(variant));
  const offRounds = cpuByRound('off');
  const cpuRatioOf = (variant) => median(cpuByRound(variant).map((cpu, round) => cpu / offRounds[round]));
  const offP50 = p50Of('off');
  const offCpu = cpuOf('off');
  const rows = [];
  if (members.off.length > 1) {
    const p50s = members.off.map((name) => latency[name].p50);
    const cpus = members.off.map((name) =>
      median(throughput[name].windows.map((window) => (window.relayCpuMs * 1000) / window.count)),
    );
    rows.push(
      [
        `off: spread of its ${p50s.length} processes, p50 c=1 (ms)`,
        Math.max(...p50s).toFixed(3),
        Math.min(...p50s).toFixed(3),
        `${((Math.max(...p50s) - Math.min(...p50s)) * 1000).toFixed(0)} µs`,
        'noise',
      ],
      [
        `off: spread of its ${cpus.length} processes, CPU c=64 (µs)`,
        Math.max(...cpus).toFixed(0),
        Math.min(...cpus).toFixed(0),
        `×${(Math.max(...cpus) / Math.min(...cpus)).toFixed(3)}`,
        'noise',
      ],
    );
  }
  for (const variant of Object.keys(variants).filter((name) => name !== 'off')) {
    const addedUs = (p50Of(variant) - offP50) * 1000;
    const cpuRatio = cpuRatioOf(variant);
    const judged = variant === 'on';
    const processes = members[variant].length > 1 ? ` (${members[variant].length})` : '';
    rows.push(
      [
        `${variant}${processes}: tools/call p50, c=1 (ms)`,
        p50Of(variant).toFixed(3),
        offP50.toFixed(3),
        `${addedUs >= 0 ? '+' : ''}${addedUs.toFixed(0)} µs`,
        judged ? (addedUs <= 50 ? 'PASS (≤ +50 µs)' : 'MISS (≤ +50 µs)') : 'info',
      ],
      [
        `${variant}${processes}: gateway CPU per call, c=64 (µs)`,
        cpuOf(variant).toFixed(0),
        offCpu.toFixed(0),
        `×${cpuRatio.toFixed(3)}`,
        judged ? (cpuRatio <= 1.05 ? 'PASS (≤ ×1.05)' : 'MISS (≤ ×1.05)') : 'info',
      ],
    );
  }
  {
    // In the same processes, so their differences do not count: every call traced against none.
    const untraced = cpuByRound(UNSAMPLED);
    const traced = median(cpuByRound('on').map((cpu, round) => cpu / untraced[round]));
    const addedUs = (p50Of('on') - p50Of(UNSAMPLED)) * 1000;
    rows.push([
      'on: calls sampled against unsampled, same processes: p50 / CPU',
      `${addedUs >= 0 ? '+' : ''}${addedUs.toFixed(0)} µs`,
      `${cpuOf(UNSAMPLED).toFixed(0)} µs`,
      `×${traced.toFixed(3)}`,
      'info',
    ]);
  }
  if (baseline !== undefined) {
    const baseRounds = cpuByRound('on (baseline)');
    const againstBase = median(cpuByRound('on').map((cpu, round) => cpu / baseRounds[round]));
    const addedUs = (p50Of('on') - p50Of('on (baseline)')) * 1000;
    rows.push([
      'on against on (baseline): p50 c=1 / CPU c=64 (round by round)',
      `${addedUs >= 0 ? '+' : ''}${addedUs.toFixed(0)} µs`,
      '-',
      `×${againstBase.toFixed(3)}`,
      'info',
    ]);
  }
  const callsScraped = scraped.result.reduce((sum, sample) => sum + Number(sample.value?.[1] ?? 0), 0);
  rows.push([
    'calls Prometheus scraped / traces Jaeger holds (sample)',
    String(callsScraped),
    '-',
    `${traced.length} traces`,
    traced.length > 0 && callsScraped > 0 ? 'exported' : 'MISS (nothing exported)',
  ]);
  const errors = Object.keys(targets).reduce((sum, name) => sum + latency[name].errors + throughput[name].errors, 0);
  printComparison('observability (issue 13)', ['variant', `off (${members.off.length})`], rows, {
    diffWidth: 12,
    errors,
  });
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
