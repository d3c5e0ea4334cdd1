#!/usr/bin/env node
// The cost of the governed catalog (issue 14), side by side in one run: gateways in front of the
// same ten upstreams (1 000 tools): "off" (no meta-tools, no overrides, no quotas), "on" (the
// meta-tools, the default), "overrides" (no meta-tools; every tool of the called upstream
// re-described, annotated, and given a fixed argument the gateway fills in on every call),
// "quotas" (no meta-tools; the called tool under a quota of requests per window and concurrent
// calls, limits the bench never reaches: one store round trip to admit, one to release after the
// answer) and "governed" (overrides, pins, quotas and the confirmation check on the called server
// at once). Measured in turns (ABBA):
//   1. tools/call p50 at c=1 and gateway CPU per call at c=64, each against off
//      (target of the issue: ≤ 50 µs added p50);
//   2. store round trips per warm call on a real Redis, off and governed, counted from each
//      gateway's own store metrics (target: one before the answer, the quota included: a legacy
//      session's read and the quota's admission are one operation, admitSessionCall);
//   3. search_tools through the gateway over the 1 000 tools, p50 at c=1 (target ≤ 5 ms);
//   4. tools/list of the 1 000 tools and the meta-tools (a store read of the selection), p50 at c=1.
// Prints a table and writes bench/results/discovery.json. BENCH_QUICK=1: smaller counts.
import { join } from 'node:path';
import { startRedis } from '../test/harness/redis.ts';
import { REPO_ROOT } from '../test/harness/repo-paths.ts';
import { echoCall, measureCallLatency, measureCallThroughput } from './lib/call-phases.mjs';
import { countTools, waitForTools } from './lib/list-memory-phases.mjs';
import { sequential, summarize } from './lib/load.mjs';
import { openMcpSession } from './lib/mcp-http.mjs';
import { startBenchGateway, startUpstreams } from './lib/processes.mjs';
import { printComparison, writeJson } from './lib/report.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
const SIZES = QUICK
  ? { warmup: 100, calls: 400, windowMs: 1_000, windows: 2, searches: 200, lists: 60 }
  : { warmup: 300, calls: 2_000, windowMs: 5_000, windows: 2, searches: 1_000, lists: 300 };
const UPSTREAMS = 10;
const TOOLS = 100;
const META_TOOLS = 3;
const QUERIES = [
  'look something up and return it',
  'return the text unchanged',
  'bench tool of upstream 7',
  'most results to return for a query',
  'tool 42 lookup',
  'echo my text back',
];
/** Calls whose store operations are counted, per Redis gateway. */
const STORE_CALLS = QUICK ? 100 : 500;

/** How the round-trip rows name an operation where its name alone does not say it all. */
const OPERATION_LABELS = {
  admitSessionCall: 'lookup+admit (admitSessionCall)',
  releaseCall: 'releaseCall (after the answer)',
};

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

const log = (message) => process.stderr.write(`[bench:discovery] ${message}\n`);
const cleanups = [];
const defer = (fn) => cleanups.push(fn);

async function main() {
  const upstream = await startUpstreams(UPSTREAMS, TOOLS);
  defer(() => upstream.stop());
  const servers = upstream.urls.map((url, i) => ({ name: `u${i}`, url, prefix: `u${i}_` }));
  const off = await startBenchGateway(servers, { args: ['--discovery-tools-enabled=false'] });
  defer(() => off.stop());
  const on = await startBenchGateway(servers, { args: ['--discovery-tools-enabled'] });
  defer(() => on.stop());
  const overridden = servers.map((server, i) =>
    i === 3
      ? {
          ...server,
          yaml: `    toolOverrides:\n${Array.from({ length: TOOLS }, (_, t) => {
            const tool = t === 0 ? 'echo' : `tool_${String(t).padStart(2, '0')}`;
            return `      - tool: ${tool}\n        descriptionSuffix: Served by the bench.\n        annotations: {openWorldHint: false}\n        fixedArguments: {tenant: acme}\n`;
          }).join('')}`,
        }
      : server,
  );
  const withOverrides = await startBenchGateway(overridden);
  defer(() => withOverrides.stop());
  const limited = servers.map((server, i) =>
    i === 3
      ? {
          ...server,
          yaml: '    quotas:\n      - tools: [echo]\n        requests: 1000000\n        windowSeconds: 86400\n        concurrentCalls: 100000\n',
        }
      : server,
  );
  const withQuotas = await startBenchGateway(limited);
  defer(() => withQuotas.stop());
  // Everything of the governed catalog on the called server at once: overrides, pins, quotas and
  // the confirmation check (the echo tool is not destructive, so it is checked and never asked).
  const governedServers = servers.map((server, i) =>
    i === 3
      ? {
          ...server,
          yaml: `${overridden[3].yaml}${limited[3].yaml}    pinning: {onChange: serveApproved}\n    confirmDestructive: true\n`,
        }
      : server,
  );
  const governed = await startBenchGateway(governedServers);
  defer(() => governed.stop());
  // The same two on a real Redis: what each warm call costs in store round trips.
  const redis = await startRedis();
  defer(() => redis.stop());
  const onRedis = { env: { CACHE_CONNECTION_STRING: redis.url } };
  const offRedis = await startBenchGateway(servers, onRedis);
  defer(() => offRedis.stop());
  const governedRedis = await startBenchGateway(governedServers, onRedis);
  defer(() => governedRedis.stop());
  const sessions = {
    on: await openMcpSession(on.url, { connections: 64 }),
    off: await openMcpSession(off.url, { connections: 64 }),
    overrides: await openMcpSession(withOverrides.url, { connections: 64 }),
    quotas: await openMcpSession(withQuotas.url, { connections: 64 }),
    governed: await openMcpSession(governed.url, { connections: 64 }),
    offRedis: await openMcpSession(offRedis.url, { connections: 64 }),
    governedRedis: await openMcpSession(governedRedis.url, { connections: 64 }),
  };
  for (const session of Object.values(sessions)) defer(() => session.close());
  await waitForTools(sessions.off, UPSTREAMS * TOOLS);
  await waitForTools(sessions.on, UPSTREAMS * TOOLS + META_TOOLS);
  await waitForTools(sessions.overrides, UPSTREAMS * TOOLS);
  await waitForTools(sessions.quotas, UPSTREAMS * TOOLS);
  for (const name of ['governed', 'offRedis', 'governedRedis']) await waitForTools(sessions[name], UPSTREAMS * TOOLS);

  const targets = {
    on: { send: echoCall(sessions.on, 'u3_echo'), pid: on.pid },
    off: { send: echoCall(sessions.off, 'u3_echo'), pid: off.pid },
    overrides: { send: echoCall(sessions.overrides, 'u3_echo'), pid: withOverrides.pid },
    quotas: { send: echoCall(sessions.quotas, 'u3_echo'), pid: withQuotas.pid },
    governed: { send: echoCall(sessions.governed, 'u3_echo'), pid: governed.pid },
  };
  log(`tools/call c=1: ${SIZES.calls} per gateway; c=64: ${SIZES.windows} × ${SIZES.windowMs} ms per gateway`);
  const latency = await measureCallLatency(targets, { warmup: SIZES.warmup, count: SIZES.calls });
  const throughput = await measureCallThroughput(targets, {
    ...SIZES,
    warmupMs: QUICK ? 500 : 2_000,
    upstreamPid: upstream.process.pid,
  });

  log('store round trips per warm call on Redis, off and governed');
  const roundTrips = {};
  for (const [name, gateway] of [
    ['offRedis', offRedis],
    ['governedRedis', governedRedis],
  ]) {
    const send = echoCall(sessions[name], 'u3_echo');
    await sequential(send, (response) => response.status === 200, { count: 50 });
    const before = await storeOperations(gateway.url);
    const run = await sequential(send, (response) => response.status === 200, { count: STORE_CALLS });
    if (run.errors > 0) throw new Error(`${name}: ${run.errors} failed calls`);
    // The quota's release runs after the answer: give it a moment to be counted.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = await storeOperations(gateway.url);
    roundTrips[name] = Object.fromEntries(
      Object.keys(after)
        .map((operation) => [operation, (after[operation] - (before[operation] ?? 0)) / STORE_CALLS])
        .filter(([, perCall]) => perCall > 0),
    );
  }

  log(`search_tools over ${UPSTREAMS * TOOLS} tools: ${SIZES.searches} searches at c=1`);
  let next = 0;
  const search = () =>
    sessions.on.request('tools/call', {
      name: 'search_tools',
      arguments: { query: QUERIES[next++ % QUERIES.length], limit: 10 },
    });
  const found = (response) => response.status === 200 && response.text.includes('"score"');
  await sequential(search, found, { count: 50 });
  const searches = await sequential(search, found, { count: SIZES.searches });
  if (searches.errors > 0) throw new Error(`search_tools: ${searches.errors} wrong answers`);
  const searchLatency = summarize(searches.latencies);

  log('tools/list of 1 000 tools at c=1, in alternating rounds');
  const lists = { on: [], off: [] };
  const expected = { on: UPSTREAMS * TOOLS + META_TOOLS, off: UPSTREAMS * TOOLS };
  for (let round = 0; round < 6; round++) {
    for (const name of round % 2 === 0 ? ['on', 'off'] : ['off', 'on']) {
      const check = (response) => response.status === 200 && countTools(response.text) === expected[name];
      const run = await sequential(() => sessions[name].request('tools/list', {}), check, {
        count: Math.ceil(SIZES.lists / 6),
      });
      if (run.errors > 0) throw new Error(`tools/list on ${name}: ${run.errors} wrong answers`);
      lists[name].push(...run.latencies);
    }
  }
  const listLatency = { on: summarize(lists.on), off: summarize(lists.off) };

  const callRows = (name) => {
    const addedUs = (latency[name].p50 - latency.off.p50) * 1000;
    const cpuRatio = throughput[name].relayCpuUsPerCall / throughput.off.relayCpuUsPerCall;
    return [
      [
        `${name}: tools/call p50, c=1 (ms)`,
        latency[name].p50.toFixed(3),
        latency.off.p50.toFixed(3),
        `${addedUs >= 0 ? '+' : ''}${addedUs.toFixed(0)} µs`,
        addedUs <= 50 ? 'PASS (≤ +50 µs)' : 'MISS (≤ +50 µs)',
      ],
      [
        `${name}: gateway CPU per call, c=64 (µs)`,
        throughput[name].relayCpuUsPerCall.toFixed(0),
        throughput.off.relayCpuUsPerCall.toFixed(0),
        `×${cpuRatio.toFixed(3)}`,
        'info',
      ],
    ];
  };
  const rows = [
    ...callRows('on'),
    ...callRows('overrides'),
    ...callRows('quotas'),
    ...callRows('governed'),
    ...['offRedis', 'governedRedis'].map((name) => {
      // Each operation is one round trip (admitSessionCall too: the session's read and the quota's
      // admission pipelined); releaseCall runs after the answer, off the call's path.
      const total = Object.values(roundTrips[name]).reduce((sum, perCall) => sum + perCall, 0);
      const onPath = total - (roundTrips[name].releaseCall ?? 0);
      return [
        `${name}: store round trips per warm call`,
        onPath.toFixed(2),
        '-',
        Object.entries(roundTrips[name])
          .map(([operation, perCall]) => `${OPERATION_LABELS[operation] ?? operation} ${perCall.toFixed(2)}`)
          .join(', '),
        name === 'governedRedis'
          ? onPath <= 1.005
            ? 'PASS (≤ 1 before the answer)'
            : 'MISS (≤ 1 before the answer)'
          : 'info',
      ];
    }),
    [
      `search_tools over ${UPSTREAMS * TOOLS} tools, p50 c=1 (ms)`,
      searchLatency.p50.toFixed(3),
      '-',
      `p99 ${searchLatency.p99.toFixed(3)}`,
      searchLatency.p50 <= 5 ? 'PASS (≤ 5 ms)' : 'MISS (≤ 5 ms)',
    ],
    [
      `tools/list of ${UPSTREAMS * TOOLS} tools, p50 c=1 (ms)`,
      listLatency.on.p50.toFixed(3),
      listLatency.off.p50.toFixed(3),
      `${((listLatency.on.p50 - listLatency.off.p50) * 1000).toFixed(0)} µs`,
      'info',
    ],
  ];
  const errors = Object.keys(targets).reduce((sum, name) => sum + latency[name].errors + throughput[name].errors, 0);
  printComparison('the governed catalog (issue 14)', ['variant', 'off'], rows, { diffWidth: 12, errors });
  await writeJson(join(REPO_ROOT, 'bench', 'results', 'discovery.json'), {
    quick: QUICK,
    latency,
    throughput,
    search: searchLatency,
    lists: listLatency,
    storeRoundTripsPerCall: roundTrips,
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
