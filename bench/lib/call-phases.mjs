// tools/call through the gateway, through the bare reference relay and directly against
// the same upstream, measured side by side: the targets take turns in short rounds, in
// forward then reverse order (ABBA), so that drift in the machine's load falls on all alike.
import { performance } from 'node:perf_hooks';
import { concurrent, sequential, summarize } from './load.mjs';
import { readCpuMs } from './processes.mjs';

/** The echo tool's argument, and whether an answer echoes it. */
const ECHO_TEXT = 'bench';
export const isCallOk = (response) => response.status === 200 && response.text.includes(`"text":"${ECHO_TEXT}"`);

/** tools/call params for `tool` with a fixed small argument. */
export const echoParams = (tool) => ({ name: tool, arguments: { text: ECHO_TEXT } });

/** A sender for `session` calling `tool` with a fixed small argument. */
export function echoCall(session, tool) {
  const params = echoParams(tool);
  return () => session.request('tools/call', params);
}

/** The targets' names per round: forward order, then reverse, and so on. */
function turns(names, rounds) {
  return Array.from({ length: rounds }, (_, i) => (i % 2 === 0 ? names : [...names].reverse()));
}

/**
 * Concurrency 1: `warmup` calls per target, then `count` calls per target in `rounds` rounds.
 * `targets` maps a name to `{ send }`; `isOk(response)` tells a good answer (default: the echo
 * tool's). Resolves with a latency summary and error count per target.
 */
export async function measureCallLatency(
  targets,
  { warmup = 300, count = 2000, rounds = 8, budgetMs = 60_000, isOk = isCallOk },
) {
  const deadlineMs = performance.now() + budgetMs;
  const names = Object.keys(targets);
  for (const name of names) await sequential(targets[name].send, isOk, { count: warmup, deadlineMs });
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  const errors = Object.fromEntries(names.map((name) => [name, 0]));
  for (const order of turns(names, rounds)) {
    for (const name of order) {
      const run = await sequential(targets[name].send, isOk, { count: Math.ceil(count / rounds), deadlineMs });
      samples[name].push(...run.latencies);
      errors[name] += run.errors;
    }
  }
  return Object.fromEntries(names.map((name) => [name, { ...summarize(samples[name]), errors: errors[name] }]));
}

/**
 * Concurrency `concurrency`: a warm-up window per target, then `windows` windows of
 * `windowMs` per target. Also reads the CPU time of the target's relaying process
 * (`targets[name].pid`, if any; an array of pids is summed: replicas), of the upstream
 * (`upstreamPid`) and of a Redis server (`redisPid`, if any), for CPU cost per call, which
 * the machine's noise disturbs less than the rate. `isOk` as for measureCallLatency.
 */
export async function measureCallThroughput(
  targets,
  {
    concurrency = 64,
    warmupMs = 2_000,
    windowMs = 5_000,
    windows = 2,
    maxCountPerWindow = 200_000,
    upstreamPid,
    redisPid,
    isOk = isCallOk,
  },
) {
  const names = Object.keys(targets);
  for (const name of names) await concurrent(targets[name].send, isOk, { concurrency, durationMs: warmupMs });
  const totals = Object.fromEntries(
    names.map((name) => [
      name,
      { count: 0, errors: 0, elapsedMs: 0, latencies: [], relayCpuMs: 0, upstreamCpuMs: 0, redisCpuMs: 0, windows: [] },
    ]),
  );
  const cpu = async (pid) => {
    if (pid === undefined) return 0;
    if (!Array.isArray(pid)) return readCpuMs(pid);
    return (await Promise.all(pid.map(readCpuMs))).reduce((a, b) => a + b, 0);
  };
  for (const order of turns(names, windows)) {
    for (const name of order) {
      const before = await Promise.all([cpu(targets[name].pid), cpu(upstreamPid), cpu(redisPid)]);
      const run = await concurrent(targets[name].send, isOk, {
        concurrency,
        durationMs: windowMs,
        maxCount: maxCountPerWindow,
      });
      const after = await Promise.all([cpu(targets[name].pid), cpu(upstreamPid), cpu(redisPid)]);
      const total = totals[name];
      total.count += run.count;
      total.errors += run.errors;
      total.elapsedMs += run.elapsedMs;
      total.latencies.push(...run.latencies);
      total.relayCpuMs += after[0] - before[0];
      total.windows.push({ relayCpuMs: after[0] - before[0], count: run.count });
      total.upstreamCpuMs += after[1] - before[1];
      total.redisCpuMs += after[2] - before[2];
    }
  }
  return Object.fromEntries(
    names.map((name) => {
      const total = totals[name];
      const latency = summarize(total.latencies);
      return [
        name,
        {
          count: total.count,
          errors: total.errors,
          perSecond: (total.count * 1000) / total.elapsedMs,
          p50: latency.p50,
          p99: latency.p99,
          relayCpuUsPerCall: targets[name].pid === undefined ? undefined : (total.relayCpuMs * 1000) / total.count,
          /** Each window's relay CPU (ms) and calls, in the order measured (one per round). */
          windows: total.windows,
          upstreamCpuUsPerCall: (total.upstreamCpuMs * 1000) / total.count,
          ...(redisPid === undefined ? {} : { redisCpuUsPerCall: (total.redisCpuMs * 1000) / total.count }),
        },
      ];
    }),
  );
}
