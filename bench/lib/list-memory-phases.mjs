// tools/list over a large catalog, and the gateway's memory per idle session.
import { performance } from 'node:perf_hooks';
import { concurrent, sequential, summarize } from './load.mjs';
import { readRss } from './processes.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts the tools in a tools/list answer; -1 when it is not a list result. */
export function countTools(text) {
  try {
    const tools = JSON.parse(text).result?.tools;
    return Array.isArray(tools) ? tools.length : -1;
  } catch {
    return -1;
  }
}

/** Polls tools/list on `session` until it lists `expected` tools (the gateway's catalog is complete). */
export async function waitForTools(session, expected, timeoutMs = 30_000) {
  const deadline = performance.now() + timeoutMs;
  let seen = -1;
  while (performance.now() < deadline) {
    seen = countTools((await session.request('tools/list', {})).text);
    if (seen === expected) return;
    await sleep(200);
  }
  throw new Error(`${session.url} listed ${seen} tools after ${timeoutMs} ms; expected ${expected}`);
}

/**
 * tools/list at concurrency 1 on each target: `warmup` calls, then `count` calls per
 * target in alternating rounds. `expected[name]` is the tool count each answer must have.
 */
export async function measureListLatency(
  targets,
  expected,
  { warmup = 100, count = 500, rounds = 5, budgetMs = 60_000 },
) {
  const deadlineMs = performance.now() + budgetMs;
  const checks = {};
  for (const name of Object.keys(targets)) {
    checks[name] = (response) => response.status === 200 && countTools(response.text) === expected[name];
  }
  for (const [name, target] of Object.entries(targets)) {
    // Verify every warm-up answer (JSON.parse), but not the measured ones: parsing a
    // large answer would add the client's own time to the latency.
    const run = await sequential(target.send, checks[name], { count: warmup, deadlineMs });
    if (run.errors > 0) throw new Error(`tools/list on ${name}: ${run.errors} of ${warmup} warm-up answers were wrong`);
  }
  const samples = { gateway: [], direct: [] };
  const errors = { gateway: 0, direct: 0 };
  const cheapOk = (response) => response.status === 200 && response.text.startsWith('{');
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? ['direct', 'gateway'] : ['gateway', 'direct']) {
      const run = await sequential(targets[name].send, cheapOk, { count: Math.ceil(count / rounds), deadlineMs });
      samples[name].push(...run.latencies);
      errors[name] += run.errors;
    }
  }
  return {
    gateway: { ...summarize(samples.gateway), errors: errors.gateway },
    direct: { ...summarize(samples.direct), errors: errors.direct },
  };
}

/** Lowest VmRSS over a few readings after forced full GCs, with the heap use of the last one. */
async function settledMemory(gateway, readings = 4) {
  await sleep(1_000);
  let rss = Infinity;
  let usage;
  for (let i = 0; i < readings; i++) {
    usage = await gateway.settle();
    await sleep(300);
    rss = Math.min(rss, await readRss(gateway.pid));
  }
  return {
    rss,
    heapTotal: usage.heapTotal,
    heapUsed: usage.heapUsed,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
  };
}

/**
 * Reads the fresh gateway's memory, opens `warmupRounds` × `sessions` sessions (reading the
 * memory after each round), then opens `sessions` more (initialize only, `concurrency` at a
 * time, none kept) and reads it once more. Every reading follows forced full GCs. The warm-up
 * bursts grow V8's young generation (to 2 × 64 MiB semi-spaces here) and the allocator to their
 * working size once, a step of ~100–150 MiB that levels off after ~20 000 requests and is not
 * per-session state (bench/diag-memory.mjs shows the curve); the measured run shows what stays.
 */
export async function measureIdleSessionMemory(
  gateway,
  initializer,
  { sessions = 10_000, warmupRounds = 2, concurrency = 64, budgetMs = 60_000 },
) {
  const isOk = (status) => status === 200;
  const open = async (count) => {
    const run = await concurrent(() => initializer.initialize(), isOk, {
      concurrency,
      durationMs: budgetMs,
      maxCount: count,
    });
    if (run.errors > 0) throw new Error(`${run.errors} of ${run.count} initializes failed`);
    return run;
  };
  const curve = [{ sessions: 0, ...(await settledMemory(gateway)) }];
  let opened = 0;
  for (let round = 0; round < warmupRounds; round++) {
    opened += (await open(sessions)).count;
    curve.push({ sessions: opened, ...(await settledMemory(gateway)) });
  }
  const before = curve[curve.length - 1];
  const run = await open(sessions);
  const after = await settledMemory(gateway);
  curve.push({ sessions: opened + run.count, ...after });
  return {
    sessions: run.count,
    errors: run.errors,
    warmupSessions: opened,
    initializePerSecond: run.perSecond,
    curve,
    warmupRssBytesPerSession: (before.rss - curve[0].rss) / opened,
    rssBytesPerSession: (after.rss - before.rss) / run.count,
    heapBytesPerSession: (after.heapUsed - before.heapUsed) / run.count,
  };
}
