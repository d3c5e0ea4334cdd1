#!/usr/bin/env node
// Diagnostic, not part of `npm run bench`: opens idle sessions on a fresh gateway in
// rounds and prints, after each round and a forced GC, VmRSS, the V8 heap and the
// process's anonymous memory by mapping size, to tell session state from allocator
// high-water marks.   node bench/diag-memory.mjs [rounds] [sessionsPerRound]
// Extra node flags for the gateway: BENCH_GATEWAY_NODE_ARGS="--max-semi-space-size=1"; another
// build of the gateway: BENCH_GATEWAY_CLI=/path/to/packages/gateway/dist/cli.js.
import { readFile } from 'node:fs/promises';
import { concurrent } from './lib/load.mjs';
import { createInitializer } from './lib/mcp-http.mjs';
import { readRss, startBenchGateway, startUpstreams } from './lib/processes.mjs';

const rounds = Number(process.argv[2] ?? 5);
const perRound = Number(process.argv[3] ?? 10_000);
const nodeArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes) => (bytes / 1048576).toFixed(1);

/** Anonymous resident memory of a process: the brk heap (glibc main arena), mappings ≥ 32 MiB (other malloc arenas) and the rest (V8 pages, large mmaps). */
async function anonymous(pid) {
  const smaps = await readFile(`/proc/${pid}/smaps`, 'utf8');
  let big = 0;
  let small = 0;
  let brk = 0;
  for (const block of smaps.split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
    const [range, , , , , path] = block.split('\n', 1)[0].split(/\s+/);
    if (path !== undefined && path !== '' && path !== '[heap]') continue;
    const [from, to] = range.split('-').map((hex) => parseInt(hex, 16));
    const anon = Number(/^Anonymous:\s+(\d+) kB$/m.exec(block)?.[1] ?? 0) * 1024;
    if (path === '[heap]') brk += anon;
    else if (to - from >= 32 * 1048576) big += anon;
    else small += anon;
  }
  return { big, small, brk };
}

const upstream = await startUpstreams(1, 1);
const gateway = await startBenchGateway([{ name: 'bench', url: upstream.urls[0], prefix: 'e_' }], {
  gcSignal: true,
  nodeArgs,
  ...(process.env.BENCH_GATEWAY_CLI ? { cli: process.env.BENCH_GATEWAY_CLI } : {}),
});
const initializer = createInitializer(gateway.url, { connections: 64 });
try {
  for (let round = 0; round <= rounds; round++) {
    if (round > 0) {
      const run = await concurrent(
        () => initializer.initialize(),
        (s) => s === 200,
        {
          concurrency: 64,
          durationMs: 60_000,
          maxCount: perRound,
        },
      );
      if (run.errors > 0) throw new Error(`${run.errors} initializes failed`);
    }
    await sleep(1_000);
    const usage = await gateway.settle();
    await sleep(300);
    const rss = await readRss(gateway.pid);
    const anon = await anonymous(gateway.pid);
    console.log(
      `after ${String(round * perRound).padStart(6)} sessions: rss ${mb(rss)} MiB, heapTotal ${mb(usage.heapTotal)}, ` +
        `heapUsed ${mb(usage.heapUsed)}, external ${mb(usage.external)}, brk heap ${mb(anon.brk)}, big maps ${mb(anon.big)}, other anon ${mb(anon.small)}, peak heapUsed ${mb(usage.peakHeapUsed)}`,
    );
    const spaces = Object.entries(usage.spaces).map(([name, s]) => `${name} ${mb(s.size)}/${mb(s.used)}`);
    console.log(`    spaces (size/used MiB): ${spaces.join(', ')}`);
  }
} finally {
  await initializer.close();
  await gateway.stop();
  await upstream.stop();
}
