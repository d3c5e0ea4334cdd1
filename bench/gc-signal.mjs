// Preloaded into the gateway for the memory phase only:
//   node --expose-gc --import ./bench/gc-signal.mjs packages/gateway/dist/cli.js …
// On SIGUSR2 it runs two full collections and prints one line to stderr,
// `BENCH_GC <seq> {"rss":…,"heapUsed":…,…}`, so the bench can read VmRSS of a settled heap.
// The gateway itself is unchanged; it has no endpoint that triggers a GC.
let seq = 0;
process.on('SIGUSR2', () => {
  const gc = globalThis.gc;
  if (typeof gc === 'function') {
    gc();
    gc();
  }
  seq += 1;
  process.stderr.write(`BENCH_GC ${seq} ${JSON.stringify(process.memoryUsage())}\n`);
});
