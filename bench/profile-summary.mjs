#!/usr/bin/env node
// Summarizes a V8 .cpuprofile (from `BENCH_CPU_PROF=1 npm run bench`): self and
// inclusive time per function, and self time per source package, with bundled frames of
// packages/gateway/dist/cli.js mapped back to their sources through cli.js.map.
//
//   node bench/profile-summary.mjs <file.cpuprofile> [top] [regex]
//
// With a regex, it also prints the share of the time spent under a function whose name matches
// (e.g. 'NodeError|PrepareStackTrace' for the cost of building Errors with their stacks).
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

const [file, topArg, stackArg] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: node bench/profile-summary.mjs <file.cpuprofile> [top] [regex]\n');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));

const maps = new Map();
function sourceMapOf(url) {
  if (!maps.has(url)) {
    let map;
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(url)}.map`, 'utf8')));
    } catch {
      map = undefined;
    }
    maps.set(url, map);
  }
  return maps.get(url);
}

/** Where a frame comes from: original source file and 1-based line (through the source map) or the script's. */
function locate(frame) {
  if (frame.url === '')
    return { source: frame.functionName.startsWith('(') ? frame.functionName : '(native)', line: 0 };
  const map = frame.url.startsWith('file:') ? sourceMapOf(frame.url) : undefined;
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber);
  return entry?.originalSource
    ? { source: entry.originalSource, line: entry.originalLine + 1 }
    : { source: frame.url, line: frame.lineNumber + 1 };
}
const origin = (frame) => locate(frame).source;

/** A package-level bucket for a source path. */
function bucket(source) {
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  if (nm) return nm[1];
  const pkg = /packages\/([^/]+)\/src/.exec(source);
  if (pkg) return `@mcp-gateway/${pkg[1]}`;
  if (source.startsWith('node:')) return source.split('/').slice(0, 2).join('/');
  return source;
}

const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const key = (node) => {
  const { source, line } = locate(node.callFrame);
  return `${node.callFrame.functionName || '(anonymous)'}  ${source.replace(/^.*node_modules\//, '')}:${line}`;
};
const keys = new Map();
const keyOf = (id) => {
  if (!keys.has(id)) keys.set(id, key(nodes.get(id)));
  return keys.get(id);
};

const self = new Map();
const inclusive = new Map();
const byPackage = new Map();
let total = 0;
const focus = stackArg === undefined ? undefined : new RegExp(stackArg);
let underFocus = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  if (focus !== undefined) {
    for (let at = id; at !== undefined; at = parent.get(at)) {
      if (!focus.test(nodes.get(at).callFrame.functionName)) continue;
      underFocus += dt;
      break;
    }
  }
  const node = nodes.get(id);
  const name = node.callFrame.functionName;
  if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') {
    byPackage.set(name, (byPackage.get(name) ?? 0) + dt);
  } else {
    byPackage.set(bucket(origin(node.callFrame)), (byPackage.get(bucket(origin(node.callFrame))) ?? 0) + dt);
  }
  self.set(keyOf(id), (self.get(keyOf(id)) ?? 0) + dt);
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const k = keyOf(at);
    if (seen.has(k)) continue;
    seen.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
  }
});

const idle = byPackage.get('(idle)') ?? 0;
const busy = total - idle;
const pct = (us) => `${((us / busy) * 100).toFixed(1).padStart(5)} %`;
const print = (title, map, n) => {
  process.stdout.write(`\n${title} (share of non-idle time, ${(busy / 1e6).toFixed(2)} s)\n`);
  const sorted = [...map.entries()].filter(([k]) => !/^\((idle|root)\)/.test(k)).sort((a, b) => b[1] - a[1]);
  for (const [k, us] of sorted.slice(0, n)) process.stdout.write(`${pct(us)}  ${k}\n`);
};
print('Self time by package', byPackage, 20);
print('Self time by function', self, top);
print('Inclusive time by function', inclusive, top);
if (focus !== undefined) {
  process.stdout.write(`\nUnder a function matching /${stackArg}/: ${pct(underFocus).trim()} of non-idle time\n`);
}
