// This build against a baseline build, side by side in one run (`npm run bench:compare`, with
// BENCH_BASELINE=<checkout whose packages/gateway/dist/cli.js is built>): the figures a change to
// the core must not make worse. Each phase starts both gateways (and, for the Envoy phase, two
// Envoys, each with its own gateway's router) in front of the same upstream, and measures them in
// turns (ABBA rounds at c=1, ABBA windows at c=64), so that drift in the machine's load falls on
// both alike. Prints a table and writes bench/results/compare.json.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { renderEnvoyBootstrap } from '../infra/envoy/render-bootstrap.mjs';
import { startEnvoy } from '../test/harness/envoy.ts';
import { freePort } from '../test/harness/free-port.ts';
import { REPO_ROOT } from '../test/harness/repo-paths.ts';
import { echoCall, measureCallLatency, measureCallThroughput } from './lib/call-phases.mjs';
import { baselineCli, measureInitialize } from './lib/initialize-phases.mjs';
import { waitForTools } from './lib/list-memory-phases.mjs';
import { openMcpSession, openModernClient } from './lib/mcp-http.mjs';
import { startBenchGateway, startUpstreams } from './lib/processes.mjs';
import { writeJson } from './lib/report.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
const SIZES = QUICK
  ? { warmup: 50, calls: 300, windowMs: 1_000, windows: 2 }
  : { warmup: 300, calls: 2_000, windowMs: 5_000, windows: 2 };
const WARMUP_MS = QUICK ? 500 : 2_000;
const PUBLIC_HOST = 'mcp.bench.local';
const UPSTREAM_HOST = 'bench.mcp.local';

const cleanups = [];
const defer = (fn) => cleanups.push(fn);
const log = (message) => process.stdout.write(`[compare] ${message}\n`);

/** Starts this build's gateway and the baseline's in front of `servers`, with extra `args`. */
async function startPair(servers, baseline, args = []) {
  const build = await startBenchGateway(servers, { args });
  defer(() => build.stop());
  const base = await startBenchGateway(servers, { args, cli: baseline });
  defer(() => base.stop());
  return { build, baseline: base };
}

/** tools/call from a legacy client and from a 2026-07-28 client, c=1 and c=64, build against baseline. */
async function callPhase(upstreamUrl, upstreamPid, baseline) {
  const servers = [{ name: 'bench', url: upstreamUrl, prefix: 'e_' }];
  const gateways = await startPair(servers, baseline);
  const legacy = {};
  const modern = {};
  for (const [name, gateway] of Object.entries(gateways)) {
    const session = await openMcpSession(gateway.url, { connections: 64 });
    defer(() => session.close());
    await waitForTools(session, 1);
    legacy[name] = { send: echoCall(session, 'e_echo'), pid: gateway.pid };
    const client = openModernClient(gateway.url, { connections: 64, authorization: 'Bearer bench-caller' });
    defer(() => client.close());
    modern[name] = { send: echoCall(client, 'e_echo'), pid: gateway.pid };
  }
  log(`tools/call, legacy client: c=1 ${SIZES.calls} calls, c=64 ${SIZES.windows} × ${SIZES.windowMs} ms per build`);
  const legacyLatency = await measureCallLatency(legacy, { warmup: SIZES.warmup, count: SIZES.calls });
  const legacyLoad = await measureCallThroughput(legacy, { ...SIZES, warmupMs: WARMUP_MS, upstreamPid });
  log('tools/call, 2026-07-28 client: the same');
  const modernLatency = await measureCallLatency(modern, { warmup: SIZES.warmup, count: SIZES.calls });
  const modernLoad = await measureCallThroughput(modern, { ...SIZES, warmupMs: WARMUP_MS, upstreamPid });
  return { legacyLatency, legacyLoad, modernLatency, modernLoad };
}

/** A routed tools/call through Envoy with each build's router (each Envoy on its own gateway). */
async function envoyPhase(upstreamUrl, upstreamPid, baseline) {
  const servers = [{ name: 'bench', url: upstreamUrl, prefix: 'e_', hostname: UPSTREAM_HOST }];
  const targets = {};
  for (const [name, cli] of [
    ['build', undefined],
    ['baseline', baseline],
  ]) {
    const routerPort = await freePort();
    const args = ['--mcp-router-address', `127.0.0.1:${routerPort}`, '--mcp-gateway-public-host', PUBLIC_HOST];
    const gateway = await startBenchGateway(servers, { args, ...(cli === undefined ? {} : { cli }) });
    defer(() => gateway.stop());
    const listenerPort = await freePort();
    const config = renderEnvoyBootstrap({
      listenerPort,
      adminPort: await freePort(),
      brokerAddress: `127.0.0.1:${new URL(gateway.url).port}`,
      extProcAddress: `127.0.0.1:${routerPort}`,
      extProc: true,
      upstreams: [{ name: 'bench', hostname: UPSTREAM_HOST, address: new URL(upstreamUrl).host, path: '/mcp' }],
    }).replace(/^ {16}access_log:\n(?: {18}.*\n)+/m, '');
    const envoy = await startEnvoy({ config });
    defer(() => envoy.stop());
    const session = await openMcpSession(`${envoy.listenerUrl(listenerPort)}/mcp`, { connections: 64 });
    defer(() => session.close());
    await waitForTools(session, 1);
    targets[name] = { send: echoCall(session, 'e_echo'), pid: gateway.pid };
  }
  log('tools/call routed by each build through its Envoy: c=1 and c=64');
  const latency = await measureCallLatency(targets, { warmup: SIZES.warmup, count: SIZES.calls });
  const throughput = await measureCallThroughput(targets, { ...SIZES, warmupMs: WARMUP_MS, upstreamPid });
  return { latency, throughput };
}

/** One table row: this build's figure, the baseline's, and how they compare. */
function row(metric, build, base, { unit = 'ms', higherIsBetter = false } = {}) {
  const ratio = base === 0 ? Number.NaN : build / base;
  const better = higherIsBetter ? build >= base * 0.95 : build <= base * 1.05;
  const fixed = (value) => (unit === 'req/s' || unit === 'µs' ? Math.round(value).toString() : value.toFixed(3));
  return {
    metric: `${metric} (${unit})`,
    build: fixed(build),
    baseline: fixed(base),
    ratio: `×${ratio.toFixed(2)}`,
    better,
  };
}

async function main() {
  const baseline = baselineCli();
  if (baseline === undefined) throw new Error('set BENCH_BASELINE=<checkout> (a checkout with a built gateway)');
  log(
    `this build against ${baseline}; load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const upstream = await startUpstreams(1, 1);
  defer(() => upstream.stop());
  const upstreamUrl = upstream.urls[0];
  const upstreamPid = upstream.process.pid;
  const calls = await callPhase(upstreamUrl, upstreamPid, baseline);
  log('initialize: c=1 and c=64');
  const initialize = await measureInitialize(upstreamUrl, {
    sizes: SIZES,
    warmupMs: WARMUP_MS,
    baseline,
    upstreamPid,
    defer,
  });
  const envoy = await envoyPhase(upstreamUrl, upstreamPid, baseline);
  const { legacyLatency, legacyLoad, modernLatency, modernLoad } = calls;
  const rows = [
    row('tools/call p50, c=1, legacy client', legacyLatency.build.p50, legacyLatency.baseline.p50),
    row('tools/call rate, c=64, legacy client', legacyLoad.build.perSecond, legacyLoad.baseline.perSecond, {
      unit: 'req/s',
      higherIsBetter: true,
    }),
    row(
      'gateway CPU per call, c=64, legacy client',
      legacyLoad.build.relayCpuUsPerCall,
      legacyLoad.baseline.relayCpuUsPerCall,
      {
        unit: 'µs',
      },
    ),
    row('tools/call p50, c=1, 2026-07-28 client', modernLatency.build.p50, modernLatency.baseline.p50),
    row('tools/call rate, c=64, 2026-07-28 client', modernLoad.build.perSecond, modernLoad.baseline.perSecond, {
      unit: 'req/s',
      higherIsBetter: true,
    }),
    row('initialize p50, c=1', initialize.latency.build.p50, initialize.latency.baseline.p50),
    row(
      'gateway CPU per initialize, c=64',
      initialize.throughput.build.relayCpuUsPerCall,
      initialize.throughput.baseline.relayCpuUsPerCall,
      {
        unit: 'µs',
      },
    ),
    row('routed tools/call through Envoy p50, c=1', envoy.latency.build.p50, envoy.latency.baseline.p50),
    row(
      'routed tools/call through Envoy rate, c=64',
      envoy.throughput.build.perSecond,
      envoy.throughput.baseline.perSecond,
      {
        unit: 'req/s',
        higherIsBetter: true,
      },
    ),
    row(
      'gateway CPU per routed call, c=64',
      envoy.throughput.build.relayCpuUsPerCall,
      envoy.throughput.baseline.relayCpuUsPerCall,
      {
        unit: 'µs',
      },
    ),
  ];
  const errors = [
    legacyLatency,
    legacyLoad,
    modernLatency,
    modernLoad,
    initialize.latency,
    initialize.throughput,
    envoy.latency,
    envoy.throughput,
  ]
    .flatMap((result) => Object.values(result))
    .reduce((sum, target) => sum + target.errors, 0);
  process.stdout.write('\n');
  const width = Math.max(...rows.map((r) => r.metric.length));
  process.stdout.write(
    `${'metric'.padEnd(width)}  ${'build'.padStart(9)}  ${'baseline'.padStart(9)}  ${'ratio'.padStart(7)}  as good\n`,
  );
  for (const r of rows) {
    process.stdout.write(
      `${r.metric.padEnd(width)}  ${r.build.padStart(9)}  ${r.baseline.padStart(9)}  ${r.ratio.padStart(7)}  ${r.better ? 'yes' : 'NO'}\n`,
    );
  }
  process.stdout.write(`failed requests: ${errors}\n`);
  await writeJson(join(REPO_ROOT, 'bench', 'results', 'compare.json'), {
    baseline,
    quick: QUICK,
    loadavgAtEnd: loadavg(),
    rows,
    results: { calls, initialize, envoy },
  });
  if (errors > 0) throw new Error(`${errors} requests failed; the figures are not trustworthy`);
}

try {
  await main();
} catch (error) {
  log(`failed: ${error.stack ?? error}`);
  process.exitCode = 2;
} finally {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
}
