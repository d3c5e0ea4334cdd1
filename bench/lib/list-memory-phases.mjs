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
export async function measureListLatency(targets, expected, { warmup = 100, count = 500, rounds = 5, budgetMs = 60_000 }) {
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
 * Reads the fresh gateway's memory, opens `warmup` sessions, reads it again, opens `sessions`
 * more (initialize only, `concurrency` at a time, none kept) and reads it a third time. Every
 * reading follows forced full GCs. The warm-up is as large as the measured run: the first
 * burst grows V8's young generation and the allocator to their working size once (a step of
 * ~100 MiB here), which is not per-session state; the measured run shows what stays.
 */
export async function measureIdleSessionMemory(
  gateway,
  initializer,
  { warmup = 10_000, sessions = 10_000, concurrency = 64, budgetMs = 60_000 },
) {
  const isOk = (status) => status === 200;
  const open = (count) =>
    concurrent(() => initializer.initialize(), isOk, { concurrency, durationMs: budgetMs, maxCount: count });
  const fresh = await settledMemory(gateway);
  const warm = await open(warmup);
  if (warm.errors > 0) throw new Error(`${warm.errors} of ${warm.count} warm-up initializes failed`);
  const before = await settledMemory(gateway);
  const run = await open(sessions);
  const after = await settledMemory(gateway);
  const opened = run.count - run.errors;
  return {
    sessions: opened,
    errors: run.errors,
    warmupSessions: warm.count,
    initializePerSecond: run.perSecond,
    fresh,
    before,
    after,
    warmupRssBytesPerSession: (before.rss - fresh.rss) / warm.count,
    rssBytesPerSession: (after.rss - before.rss) / opened,
    heapBytesPerSession: (after.heapUsed - before.heapUsed) / opened,
  };
}
