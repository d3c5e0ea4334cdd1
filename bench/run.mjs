#!/usr/bin/env node
// `npm run bench`: the gateway's overhead, measured in one run through the gateway and
// directly against the same upstream. Three processes at a time: this one (the load
// generator), the upstream(s) and the gateway (and Envoy in the Envoy phase). See bench/README.md.
//
// Environment: BENCH_QUICK=1 runs smaller counts (a smoke test, not for figures);
// BENCH_CPU_PROF=1 runs the tools/call gateway under --cpu-prof (bench/results/profiles/);
// BENCH_STRICT=1 exits 1 when a target is missed; BENCH_BASELINE=<checkout> measures that
// checkout's built gateway beside this one's where the table has baseline columns.
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../test/harness/redis.ts';
import { REPO_ROOT } from '../test/harness/repo-paths.ts';
import { echoCall, measureCallLatency, measureCallThroughput } from './lib/call-phases.mjs';
import { measureIdleSessionMemory, measureListLatency, waitForTools } from './lib/list-memory-phases.mjs';
import { envoyPhases } from './lib/envoy-phases.mjs';
import { measureEras } from './lib/era-phases.mjs';
import { baselineCli, measureInitialize } from './lib/initialize-phases.mjs';
import { createInitializer, openMcpSession } from './lib/mcp-http.mjs';
import { startBareRelay, startBenchGateway, startUpstreams } from './lib/processes.mjs';
import { connectRedisProbe, measureRedisCommands, measureRedisSessionMemory } from './lib/redis-phases.mjs';
import { printTable, toRows, writeJson } from './lib/report.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
const RESULTS = join(REPO_ROOT, 'bench', 'results');
const PROFILE_DIR = join(RESULTS, 'profiles');
const BUDGET_MS = 20 * 60_000;

const SIZES = QUICK
  ? { warmup: 100, calls: 400, windowMs: 1_000, windows: 2, sessions: 2_000, listCalls: 100, listServers: 50 }
  : { warmup: 300, calls: 2_000, windowMs: 5_000, windows: 2, sessions: 10_000, listCalls: 500, listServers: 50 };
/** The Redis phases: sessions counted for initialize and first call, warm calls counted, sessions for memory. */
const REDIS_SIZES = QUICK
  ? { countSessions: 20, warmCalls: 200, memorySessions: 200, replicas: 3 }
  : { countSessions: 100, warmCalls: 1_000, memorySessions: 1_000, replicas: 3 };
const TOOLS_PER_SERVER = 20;
/** Benchmarks run after the gateway's own, as separate scripts. */
const EXTRA_BENCHES = [
  'bench/edge.mjs',
  'bench/controller.mjs',
  'bench/access.mjs',
  'bench/observability.mjs',
  'bench/discovery.mjs',
  'bench/credentials.mjs',
];

/** Things to stop, last started first; each runs once even if the bench fails half-way. */
const cleanups = [];
const defer = (fn) => cleanups.push(fn);
async function cleanup() {
  while (cleanups.length > 0) {
    const fn = cleanups.pop();
    await Promise.resolve()
      .then(fn)
      .catch((error) => log(`cleanup: ${error.message}`));
  }
}
const log = (message) => process.stderr.write(`[bench] ${message}\n`);

/**
 * tools/call at c=1 and c=64 on one upstream with one tool: through the gateway, directly,
 * and through the bare reference relay.
 */
async function callPhases(upstreamUrl, upstreamPid) {
  const profiling = process.env.BENCH_CPU_PROF === '1';
  const nodeArgs = profiling ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const gateway = await startBenchGateway([{ name: 'bench', url: upstreamUrl, prefix: 'e_' }], { nodeArgs });
  defer(() => gateway.stop());
  const relay = await startBareRelay(upstreamUrl);
  defer(() => relay.stop());
  const viaGateway = await openMcpSession(gateway.url, { connections: 64 });
  defer(() => viaGateway.close());
  const direct = await openMcpSession(upstreamUrl, { connections: 64 });
  defer(() => direct.close());
  const viaRelay = await openMcpSession(relay.url, { connections: 64 });
  defer(() => viaRelay.close());
  await waitForTools(viaGateway, 1);
  const targets = {
    direct: { send: echoCall(direct, 'echo') },
    gateway: { send: echoCall(viaGateway, 'e_echo'), pid: gateway.pid },
    relay: { send: echoCall(viaRelay, 'echo'), pid: relay.pid },
  };

  log(`tools/call latency, c=1: ${SIZES.warmup} warm-up + ${SIZES.calls} calls per target`);
  const latency = await measureCallLatency(targets, { warmup: SIZES.warmup, count: SIZES.calls });
  log(`tools/call throughput, c=64: ${SIZES.windows} × ${SIZES.windowMs} ms per target`);
  const throughput = await measureCallThroughput(targets, {
    windowMs: SIZES.windowMs,
    windows: SIZES.windows,
    warmupMs: QUICK ? 500 : 2_000,
    upstreamPid,
  });
  log(`eras: legacy vs 2026-07-28 client through the gateway, c=1 and c=64`);
  const eras = await measureEras(gateway, {
    sizes: SIZES,
    warmupMs: QUICK ? 500 : 2_000,
    upstreamPid,
    defer,
  });
  await relay.stop();
  await gateway.stop();
  return { latency, throughput, eras, profile: profiling ? PROFILE_DIR : undefined };
}

/** RSS of a fresh gateway before and after opening many idle sessions. */
async function memoryPhase(upstreamUrl) {
  const gateway = await startBenchGateway([{ name: 'bench', url: upstreamUrl, prefix: 'e_' }], { gcSignal: true });
  try {
    const initializer = createInitializer(gateway.url, { connections: 64 });
    defer(() => initializer.close());
    log(`idle sessions: ${SIZES.sessions} initializes at c=64 after 2 × ${SIZES.sessions} warm-up`);
    return await measureIdleSessionMemory(gateway, initializer, { sessions: SIZES.sessions });
  } finally {
    await gateway.stop();
  }
}

/**
 * Shared state in Redis (issue 4), against a bench-started redis-server and the upstream of the
 * call phases: tools/call at c=1 through a Redis-backed gateway and the same build with the
 * in-memory store (ABBA); Redis commands per request; tools/call at c=64 through 1 replica and
 * through 3 replicas sharing the Redis behind a client-side round-robin; Redis memory per
 * session. At most the upstream, Redis and three gateways run at once.
 */
async function redisPhases(upstreamUrl, upstreamPid) {
  const servers = [{ name: 'bench', url: upstreamUrl, prefix: 'e_' }];
  const redis = await startRedis();
  defer(() => redis.stop());
  const probe = await connectRedisProbe(redis.url);
  defer(() => probe.close());
  const redisPid = await probe.pid();
  const startReplica = async () => {
    const replica = await startBenchGateway(servers, { cacheConnectionString: redis.url });
    defer(() => replica.stop());
    return replica;
  };
  const withRedis = await startReplica();
  const withMemory = await startBenchGateway(servers);
  defer(() => withMemory.stop());
  const viaRedis = await openMcpSession(withRedis.url, { connections: 64 });
  defer(() => viaRedis.close());
  const viaMemory = await openMcpSession(withMemory.url, { connections: 64 });
  defer(() => viaMemory.close());
  await waitForTools(viaRedis, 1);
  await waitForTools(viaMemory, 1);

  log(`Redis vs memory store, tools/call c=1: ${SIZES.warmup} warm-up + ${SIZES.calls} calls per target`);
  const latency = await measureCallLatency(
    { memory: { send: echoCall(viaMemory, 'e_echo') }, redis: { send: echoCall(viaRedis, 'e_echo') } },
    { warmup: SIZES.warmup, count: SIZES.calls },
  );
  await viaMemory.close();
  await withMemory.stop();

  log(
    `Redis commands: ${REDIS_SIZES.countSessions} sessions (initialize, first call), ${REDIS_SIZES.warmCalls} warm calls`,
  );
  const commands = await measureRedisCommands(probe, withRedis.url, 'e_echo', {
    sessions: REDIS_SIZES.countSessions,
    warmCalls: REDIS_SIZES.warmCalls,
  });

  const replicas = [withRedis];
  while (replicas.length < REDIS_SIZES.replicas) replicas.push(await startReplica());
  for (const replica of replicas.slice(1)) {
    const session = await openMcpSession(replica.url);
    try {
      await waitForTools(session, 1);
    } finally {
      await session.close();
    }
  }
  const rotating = await openMcpSession(
    replicas.map((r) => r.url),
    { connections: 64 },
  );
  defer(() => rotating.close());
  log(`1 vs ${replicas.length} replicas on one Redis, tools/call c=64: ${SIZES.windows} × ${SIZES.windowMs} ms each`);
  const throughput = await measureCallThroughput(
    {
      one: { send: echoCall(viaRedis, 'e_echo'), pid: withRedis.pid },
      replicas: { send: echoCall(rotating, 'e_echo'), pid: replicas.map((r) => r.pid) },
    },
    { windowMs: SIZES.windowMs, windows: SIZES.windows, warmupMs: QUICK ? 500 : 2_000, upstreamPid, redisPid },
  );
  await rotating.close();
  await viaRedis.close();
  for (const replica of replicas.slice(1)) await replica.stop();

  log(`Redis memory: ${REDIS_SIZES.memorySessions} sessions with one call each, c=64`);
  const memory = await measureRedisSessionMemory(probe, withRedis.url, 'e_echo', {
    sessions: REDIS_SIZES.memorySessions,
  });
  await withRedis.stop();
  await probe.close();
  await redis.stop();
  return { replicas: replicas.length, cpus: availableParallelism(), latency, commands, throughput, memory };
}

/** tools/list of the gateway over 50 upstreams × 20 tools, and of one upstream directly. */
async function listPhase() {
  const upstreams = await startUpstreams(SIZES.listServers, TOOLS_PER_SERVER);
  defer(() => upstreams.stop());
  const servers = upstreams.urls.map((url, i) => ({ name: `s${i}`, url, prefix: `s${String(i).padStart(2, '0')}_` }));
  const gateway = await startBenchGateway(servers);
  try {
    const viaGateway = await openMcpSession(gateway.url);
    defer(() => viaGateway.close());
    const direct = await openMcpSession(upstreams.urls[0]);
    defer(() => direct.close());
    const gatewayTools = SIZES.listServers * TOOLS_PER_SERVER;
    await waitForTools(viaGateway, gatewayTools);
    log(`tools/list latency, c=1: ${SIZES.listCalls} calls, ${gatewayTools} tools through the gateway`);
    const targets = {
      gateway: { send: () => viaGateway.request('tools/list', {}) },
      direct: { send: () => direct.request('tools/list', {}) },
    };
    const expected = { gateway: gatewayTools, direct: TOOLS_PER_SERVER };
    const latency = await measureListLatency(targets, expected, { count: SIZES.listCalls });
    return { gatewayTools, directTools: TOOLS_PER_SERVER, latency };
  } finally {
    await gateway.stop();
    await upstreams.stop();
  }
}

async function main() {
  const baseline = baselineCli();
  const startedAt = new Date().toISOString();
  const machine = { cpus: availableParallelism(), loadavgAtStart: loadavg(), node: process.version };
  log(
    `node ${process.version}, ${machine.cpus} cpus, load ${machine.loadavgAtStart.map((l) => l.toFixed(2)).join(' ')}`,
  );

  const upstream = await startUpstreams(1, 1);
  defer(() => upstream.stop());
  const { latency, throughput, eras, profile } = await callPhases(upstream.urls[0], upstream.process.pid);
  log(`initialize: this build${baseline ? ` and ${baseline}` : ''}, c=1 and c=64`);
  const initialize = await measureInitialize(upstream.urls[0], {
    sizes: SIZES,
    warmupMs: QUICK ? 500 : 2_000,
    baseline,
    upstreamPid: upstream.process.pid,
    defer,
  });
  const memory = await memoryPhase(upstream.urls[0]);
  const mib = (bytes) => (bytes / 1048576).toFixed(1);
  log(`gateway RSS by sessions opened: ${memory.curve.map((p) => `${p.sessions}: ${mib(p.rss)} MiB`).join(', ')}`);
  const redis = await redisPhases(upstream.urls[0], upstream.process.pid);
  const envoy = await envoyPhases(upstream.urls[0], upstream.process.pid, {
    sizes: SIZES,
    warmupMs: QUICK ? 500 : 2_000,
    grpcCount: SIZES.calls,
    log,
    defer,
  });
  await upstream.stop();
  const list = await listPhase();

  const rows = toRows({ latency, throughput, eras, initialize, list, memory, redis, envoy });
  process.stdout.write('\n');
  printTable(rows);
  const errors = [
    latency,
    throughput,
    eras.latency,
    eras.throughput,
    initialize.latency,
    initialize.throughput,
    list.latency,
    redis.latency,
    redis.throughput,
  ].flatMap((r) => Object.values(r).map((t) => t.errors));
  // Calls through Envoy + processor also have a row of their own (target 0).
  const { latency: envoyLatency, throughput: envoyLoad } = envoy;
  const envoyErrors =
    envoyLatency.passThrough.errors +
    envoyLatency.broker.errors +
    envoyLatency.processor.errors +
    envoyLatency.nullProcessor.errors +
    envoyLoad.passThrough.errors +
    envoyLoad.broker.errors +
    envoyLoad.processor.errors +
    envoy.grpc.errors;
  const failedRequests =
    errors.reduce((a, b) => a + b, 0) + memory.errors + redis.commands.errors + redis.memory.errors + envoyErrors;
  await writeJson(join(RESULTS, 'latest.json'), {
    startedAt,
    finishedAt: new Date().toISOString(),
    quick: QUICK,
    machine: { ...machine, loadavgAtEnd: loadavg() },
    rows,
    results: { latency, throughput, eras, initialize, list, memory, redis, envoy },
    ...(profile ? { profileDir: profile } : {}),
  });
  log(`wrote bench/results/latest.json${profile ? `; CPU profiles in ${profile}` : ''}`);
  if (failedRequests > 0) throw new Error(`${failedRequests} requests failed; the figures are not trustworthy`);
  // The edge worker's and the controller's figures come from their own scripts (own processes,
  // own tables and JSON files under bench/results/).
  for (const script of EXTRA_BENCHES) {
    log(`running ${script}`);
    const result = spawnSync(process.execPath, [join(REPO_ROOT, script)], { stdio: 'inherit', env: process.env });
    if (result.status !== 0) throw new Error(`${script} failed with exit code ${result.status}`);
  }
  if (process.env.BENCH_STRICT === '1' && rows.some((r) => r.pass === false)) process.exitCode = 1;
}

const watchdog = setTimeout(() => {
  log(`over the ${BUDGET_MS / 60_000}-minute budget: stopping`);
  // The harness kills every process group it started on exit.
  process.exit(3);
}, BUDGET_MS);
watchdog.unref();

try {
  await main();
} catch (error) {
  log(`failed: ${error.stack ?? error}`);
  process.exitCode = 2;
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
