// Preloaded into the gateway for the memory phase only:
//   node --expose-gc --import ./bench/gc-signal.mjs packages/gateway/dist/cli.js …
// On SIGUSR2 it runs two full collections and prints one line to stderr,
// `BENCH_GC <seq> {"rss":…,"heapTotal":…,"heapUsed":…,"peakHeapUsed":…,"spaces":{…}}`, so the
// bench can read VmRSS of a settled heap and see which V8 space holds the memory.
// peakHeapUsed is the highest heapUsed seen (sampled every 50 ms) since the previous signal.
// The gateway itself is unchanged; it has no endpoint that triggers a GC.
import { getHeapSpaceStatistics } from 'node:v8';

let seq = 0;
let peakHeapUsed = 0;
setInterval(() => {
  peakHeapUsed = Math.max(peakHeapUsed, process.memoryUsage().heapUsed);
}, 50).unref();

process.on('SIGUSR2', () => {
  const gc = globalThis.gc;
  if (typeof gc === 'function') {
    gc();
    gc();
  }
  seq += 1;
  const spaces = {};
  for (const space of getHeapSpaceStatistics()) {
    spaces[space.space_name] = { size: space.space_size, used: space.space_used_size };
  }
  const line = { ...process.memoryUsage(), peakHeapUsed, spaces };
  peakHeapUsed = 0;
  process.stderr.write(`BENCH_GC ${seq} ${JSON.stringify(line)}\n`);
});
