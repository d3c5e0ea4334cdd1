// Request loops, bounded in count and in time, and the statistics the report needs.
import { performance } from 'node:perf_hooks';

/** The p-th percentile (0–100) of ascending-sorted samples, nearest rank. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** The median of `values` (any order): the middle one, or the mean of the middle two. */
export function median(values) {
  const sorted = Float64Array.from(values).sort();
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** p50, p90, p99 and max of latency samples in ms. */
export function summarize(samples) {
  const sorted = Float64Array.from(samples).sort();
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1],
  };
}

/**
 * Sends `count` requests one after another (concurrency 1) and returns their latencies in ms.
 * Stops early at `deadlineMs` (a performance.now() value). `isOk(response)` counts errors.
 */
export async function sequential(send, isOk, { count, deadlineMs = Infinity }) {
  const latencies = [];
  let errors = 0;
  for (let i = 0; i < count && performance.now() < deadlineMs; i++) {
    const start = performance.now();
    const response = await send();
    latencies.push(performance.now() - start);
    if (!isOk(response)) errors += 1;
  }
  return { latencies, errors };
}

/**
 * Runs `concurrency` workers, each sending requests back to back, until `durationMs` has
 * passed or `maxCount` requests were sent. Returns the completed count, the elapsed time,
 * the rate and the latencies.
 */
export async function concurrent(send, isOk, { concurrency, durationMs, maxCount = Infinity }) {
  const latencies = [];
  let errors = 0;
  let sent = 0;
  const start = performance.now();
  const end = start + durationMs;
  const worker = async () => {
    while (sent < maxCount && performance.now() < end) {
      sent += 1;
      const t0 = performance.now();
      try {
        const response = await send();
        if (!isOk(response)) errors += 1;
      } catch {
        errors += 1;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - start;
  return { count: latencies.length, errors, elapsedMs, perSecond: (latencies.length * 1000) / elapsedMs, latencies };
}
