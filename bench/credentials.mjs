#!/usr/bin/env node
// The cost of users' own upstream credentials (issue 15), side by side in one run. One gateway
// (the broker) in front of three upstreams that answer alike, the caller a user verified against
// a real OpenID provider (oidc-provider, in this process); the three differ only in what goes
// upstream as the Authorization:
//   service   — no per-user method (the server's own `credential` for the gateway's requests,
//               the client's call as before): the baseline;
//   pasted    — `tokenURLElicitation: {}` (with --enable-url-elicitation): the user's token,
//               pasted once on the /tokens page, then injected on every call;
//   exchanged — `tokenExchange`: the user's token traded at the provider (RFC 8693) once for one
//               whose audience is the upstream, then injected on every call.
// The same three on a gateway with Redis (the shared store) and on one with its in-memory store.
// Measured in turns (ABBA), each against `service` on the same gateway:
//   1. tools/call p50/p99 at c=1 (target of the issue: ≤ 50 µs added p50 when cached);
//   2. gateway CPU per call at c=64;
//   3. store round trips per warm call on Redis (target: ≤ 1), counted both by the gateway's own
//      store metrics (per operation) and by the Redis server (INFO commandstats, per command).
// Prints a table and writes bench/results/credentials.json. BENCH_QUICK=1: smaller counts.
import { join } from 'node:path';
import { startRedis } from '../test/harness/redis.ts';
import { REPO_ROOT } from '../test/harness/repo-paths.ts';
import { echoCall, isCallOk, measureCallLatency, measureCallThroughput } from './lib/call-phases.mjs';
import { credentialTool as TOOL, startCredentialBench, VARIANTS } from './lib/credential-setup.mjs';
import { sequential } from './lib/load.mjs';
import { connectRedisProbe } from './lib/redis-phases.mjs';
import { printComparison, writeJson } from './lib/report.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
const SIZES = QUICK
  ? { warmup: 100, calls: 400, windowMs: 1_000, windows: 2, storeCalls: 100 }
  : { warmup: 300, calls: 2_000, windowMs: 5_000, windows: 2, storeCalls: 500 };

const log = (message) => process.stderr.write(`[bench:credentials] ${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const cleanups = [];
const defer = (fn) => cleanups.push(fn);

/** The store operations a gateway counted so far, by operation (its /metrics). */
async function storeOperations(url) {
  const text = await (await fetch(new URL('/metrics', url))).text();
  const counts = {};
  for (const match of text.matchAll(
    /^mcp_gateway_store_operation_duration_seconds_count\{operation="([^"]+)",outcome="ok"\} (\d+)/gm,
  )) {
    counts[match[1]] = Number(match[2]);
  }
  return counts;
}

/** Per-call differences of two counters objects, keeping those that moved. */
function perCall(before, after, calls) {
  return Object.fromEntries(
    Object.keys(after)
      .map((key) => [key, (after[key] - (before[key] ?? 0)) / calls])
      .filter(([, value]) => value > 0),
  );
}

async function main() {
  const redis = await startRedis();
  defer(() => redis.stop());
  const probe = await connectRedisProbe(redis.url);
  defer(() => probe.close());
  const { idp, upstream, gateways, sessions } = await startCredentialBench(
    { redis: { cacheConnectionString: redis.url }, memory: {} },
    defer,
  );
  const exchanges = idp.exchanges().length;
  log(`alice's token pasted on each gateway; ${exchanges} token exchange(s) made`);

  const targets = {};
  for (const store of Object.keys(gateways)) {
    for (const variant of VARIANTS) {
      targets[`${store}/${variant}`] = { send: echoCall(sessions[store], TOOL(variant)), pid: gateways[store].pid };
    }
  }
  log(`tools/call c=1: ${SIZES.calls} per target; c=64: ${SIZES.windows} × ${SIZES.windowMs} ms per target`);
  const latency = await measureCallLatency(targets, { warmup: SIZES.warmup, count: SIZES.calls });
  const throughput = await measureCallThroughput(targets, {
    ...SIZES,
    warmupMs: QUICK ? 500 : 2_000,
    upstreamPid: upstream.process.pid,
  });

  log(`store round trips per warm call on Redis: ${SIZES.storeCalls} calls per variant`);
  const roundTrips = {};
  for (const variant of VARIANTS) {
    const send = echoCall(sessions.redis, TOOL(variant));
    await sequential(send, isCallOk, { count: 50 });
    await sleep(200);
    const [metricsBefore, redisBefore] = [await storeOperations(gateways.redis.url), await probe.commandCalls()];
    const run = await sequential(send, isCallOk, { count: SIZES.storeCalls });
    if (run.errors > 0) throw new Error(`${variant}: ${run.errors} failed calls`);
    await sleep(200);
    const [metricsAfter, redisAfter] = [await storeOperations(gateways.redis.url), await probe.commandCalls()];
    roundTrips[variant] = {
      operations: perCall(metricsBefore, metricsAfter, SIZES.storeCalls),
      commands: perCall(redisBefore.byCommand, redisAfter.byCommand, SIZES.storeCalls),
    };
  }
  const newExchanges = idp.exchanges().length - exchanges;

  const rows = [];
  for (const store of Object.keys(gateways)) {
    const base = `${store}/service`;
    for (const variant of VARIANTS.slice(1)) {
      const name = `${store}/${variant}`;
      const added50 = (latency[name].p50 - latency[base].p50) * 1000;
      const added99 = (latency[name].p99 - latency[base].p99) * 1000;
      const cpu = throughput[name].relayCpuUsPerCall;
      const cpuBase = throughput[base].relayCpuUsPerCall;
      rows.push(
        [
          `${name}: tools/call p50, c=1 (ms)`,
          latency[name].p50.toFixed(3),
          latency[base].p50.toFixed(3),
          `${added50 >= 0 ? '+' : ''}${added50.toFixed(0)} µs`,
          added50 <= 50 ? 'PASS (≤ +50 µs)' : 'MISS (≤ +50 µs)',
        ],
        [
          `${name}: tools/call p99, c=1 (ms)`,
          latency[name].p99.toFixed(3),
          latency[base].p99.toFixed(3),
          `${added99 >= 0 ? '+' : ''}${added99.toFixed(0)} µs`,
          'info',
        ],
        [
          `${name}: gateway CPU per call, c=64 (µs)`,
          cpu.toFixed(0),
          cpuBase.toFixed(0),
          `${cpu - cpuBase >= 0 ? '+' : ''}${(cpu - cpuBase).toFixed(0)} µs ×${(cpu / cpuBase).toFixed(3)}`,
          'info',
        ],
        [
          `${name}: rate, c=64 (req/s)`,
          throughput[name].perSecond.toFixed(0),
          throughput[base].perSecond.toFixed(0),
          `${((throughput[name].perSecond / throughput[base].perSecond) * 100).toFixed(1)} %`,
          'info',
        ],
      );
    }
  }
  const total = (counts) => Object.values(counts).reduce((sum, value) => sum + value, 0);
  for (const variant of VARIANTS.slice(1)) {
    const { operations, commands } = roundTrips[variant];
    const base = roundTrips.service;
    const added = total(operations) - total(base.operations);
    const describe = (counts) =>
      Object.entries(counts)
        .map(([key, value]) => `${key} ${value.toFixed(2)}`)
        .join(', ') || 'none';
    rows.push(
      [
        `redis/${variant}: store round trips per warm call`,
        total(operations).toFixed(2),
        total(base.operations).toFixed(2),
        `${added >= 0 ? '+' : ''}${added.toFixed(2)}`,
        total(operations) <= 1.005 ? 'PASS (≤ 1)' : 'MISS (≤ 1)',
      ],
      [`  operations: ${describe(operations)}`, '', '', '', `service: ${describe(base.operations)}`],
      [
        `  Redis commands per call (server side)`,
        total(commands).toFixed(2),
        total(base.commands).toFixed(2),
        '',
        `${describe(commands)}; service: ${describe(base.commands)}`,
      ],
    );
  }
  rows.push([
    'token exchanges at the provider during the measurements',
    String(newExchanges),
    '-',
    `${exchanges} before`,
    newExchanges === 0 ? 'PASS (0: cached)' : 'MISS (0: cached)',
  ]);
  const errors = Object.keys(targets).reduce((sum, name) => sum + latency[name].errors + throughput[name].errors, 0);
  printComparison("users' own credentials (issue 15)", ['user', 'service'], rows, { diffWidth: 18, errors });
  await writeJson(join(REPO_ROOT, 'bench', 'results', 'credentials.json'), {
    quick: QUICK,
    latency,
    throughput,
    storeRoundTripsPerCall: roundTrips,
    exchanges: { warmup: exchanges, measured: newExchanges },
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
