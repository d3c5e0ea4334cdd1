// tools/call through the gateway and directly against the same upstream, measured side
// by side: the two targets take turns in short rounds (ABBA order), so that drift in the
// machine's load falls on both alike.
import { performance } from 'node:perf_hooks';
import { concurrent, sequential, summarize } from './load.mjs';
import { readCpuMs } from './processes.mjs';

const ECHO_TEXT = 'bench';
const isCallOk = (response) => response.status === 200 && response.text.includes(`"text":"${ECHO_TEXT}"`);

/** A sender for `session` calling `tool` with a fixed small argument. */
export function echoCall(session, tool) {
  const params = { name: tool, arguments: { text: ECHO_TEXT } };
  return () => session.request('tools/call', params);
}

/** ABBA order over `rounds`: [A, B], [B, A], [A, B], … */
function turns(a, b, rounds) {
  return Array.from({ length: rounds }, (_, i) => (i % 2 === 0 ? [a, b] : [b, a]));
}

/**
 * Concurrency 1: `warmup` calls per target, then `count` calls per target in `rounds` rounds.
 * Resolves with the latency summaries and error counts per target.
 */
export async function measureCallLatency(targets, { warmup = 300, count = 2000, rounds = 8, budgetMs = 60_000 }) {
  const deadlineMs = performance.now() + budgetMs;
  for (const target of Object.values(targets)) {
    await sequential(target.send, isCallOk, { count: warmup, deadlineMs });
  }
  const samples = { gateway: [], direct: [] };
  const errors = { gateway: 0, direct: 0 };
  const perRound = Math.ceil(count / rounds);
  for (const pair of turns('direct', 'gateway', rounds)) {
    for (const name of pair) {
      const run = await sequential(targets[name].send, isCallOk, { count: perRound, deadlineMs });
      samples[name].push(...run.latencies);
      errors[name] += run.errors;
    }
  }
  return {
    gateway: { ...summarize(samples.gateway), errors: errors.gateway },
    direct: { ...summarize(samples.direct), errors: errors.direct },
  };
}

/**
 * Concurrency `concurrency`: a warm-up window per target, then `windows` windows of
 * `windowMs` per target (ABBA). Also reads the CPU time the gateway and the upstream
 * processes spent, to give CPU cost per call, which the machine's noise disturbs less.
 */
export async function measureCallThroughput(
  targets,
  { concurrency = 64, warmupMs = 2_000, windowMs = 5_000, windows = 2, maxCountPerWindow = 200_000, pids },
) {
  for (const target of Object.values(targets)) {
    await concurrent(target.send, isCallOk, { concurrency, durationMs: warmupMs });
  }
  const totals = {};
  for (const name of Object.keys(targets)) {
    totals[name] = { count: 0, errors: 0, elapsedMs: 0, latencies: [], gatewayCpuMs: 0, upstreamCpuMs: 0 };
  }
  for (const pair of turns('direct', 'gateway', windows)) {
    for (const name of pair) {
      const cpuBefore = await Promise.all([readCpuMs(pids.gateway), readCpuMs(pids.upstream)]);
      const run = await concurrent(targets[name].send, isCallOk, {
        concurrency,
        durationMs: windowMs,
        maxCount: maxCountPerWindow,
      });
      const cpuAfter = await Promise.all([readCpuMs(pids.gateway), readCpuMs(pids.upstream)]);
      const total = totals[name];
      total.count += run.count;
      total.errors += run.errors;
      total.elapsedMs += run.elapsedMs;
      total.latencies.push(...run.latencies);
      total.gatewayCpuMs += cpuAfter[0] - cpuBefore[0];
      total.upstreamCpuMs += cpuAfter[1] - cpuBefore[1];
    }
  }
  const result = {};
  for (const [name, total] of Object.entries(totals)) {
    const latency = summarize(total.latencies);
    result[name] = {
      count: total.count,
      errors: total.errors,
      perSecond: (total.count * 1000) / total.elapsedMs,
      p50: latency.p50,
      p99: latency.p99,
      gatewayCpuUsPerCall: (total.gatewayCpuMs * 1000) / total.count,
      upstreamCpuUsPerCall: (total.upstreamCpuMs * 1000) / total.count,
    };
  }
  return result;
}
