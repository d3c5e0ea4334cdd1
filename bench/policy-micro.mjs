#!/usr/bin/env node
// Policy micro-benchmark (issue 12, item 4): 100 rules typical of a platform team (by server, by
// tool glob, by claim, by argument value; bench/lib/policy-rules.mjs), in core's policy module
// alone, no network. Prints
//   - the time to compile the 100 rules (parseConfig does it once, the host once more);
//   - µs per call decision: decideCall alone, and with the request's variables built from its
//     headers and the verified token (what a host adds per call);
//   - ms to decide the visibility of 1 000 tools for one caller (a filtered tools/list): through
//     forCaller (caller-only conditions evaluated once per list) and item by item.
// Targets of the issue: ≤ 30 µs added per call (with token verification), tools/list of 1 000
// tools filtered per caller p50 ≤ 5 ms.
// Usage: node bench/policy-micro.mjs [--json PATH]   (Node 24: imports core's TypeScript)
import { writeFileSync } from 'node:fs';
import { compilePolicy } from '../packages/core/src/policy/compile-policy.ts';
import { createAuthVariables, createRequestVariables } from '../packages/core/src/policy/policy-input.ts';
import { callerInput, catalog, platformPolicy, REQUEST_HEADERS } from './lib/policy-rules.mjs';

const jsonOut = process.argv.includes('--json') ? process.argv[process.argv.indexOf('--json') + 1] : undefined;
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const now = () => process.hrtime.bigint();
const ms = (from, to) => Number(to - from) / 1e6;

function compile() {
  const result = compilePolicy(platformPolicy());
  if (!result.ok) throw new Error(result.issues.join('\n'));
  return result.policy;
}

// Compile: the first compile pays for the CEL environments; later ones are what a reload costs.
const firstStart = now();
let policy = compile();
const firstCompileMs = ms(firstStart, now());
const compileRuns = [];
for (let i = 0; i < 20; i++) {
  const start = now();
  policy = compile();
  compileRuns.push(ms(start, now()));
}
compileRuns.sort((a, b) => a - b);

const tools = catalog();
const auth = createAuthVariables(callerInput());
const request = createRequestVariables('tools/call', REQUEST_HEADERS);
const headers = new Headers(REQUEST_HEADERS);

// Calls: a mix over the catalog, a third of them with arguments the query rules read.
const calls = tools.map((tool, i) => ({
  ...tool,
  arguments: tool.name.startsWith('query_') ? { table: i % 7 === 0 ? 'secrets' : 'orders', limit: (i % 5) * 400 } : {},
}));

function timeCalls(label, rounds, decideOne) {
  let allowed = 0;
  for (const call of calls) if (decideOne(call).allowed) allowed++; // warm-up
  const start = now();
  for (let r = 0; r < rounds; r++) for (const call of calls) decideOne(call);
  const perCallUs = (ms(start, now()) * 1000) / (rounds * calls.length);
  return { label, perCallUs, allowed };
}

const callRows = [
  timeCalls('decideCall alone', 50, (mcp) => policy.decideCall({ auth, request, mcp })),
  timeCalls('decideCall with the request variables built from Headers', 50, (mcp) =>
    policy.decideCall({
      auth: createAuthVariables(callerInput()),
      request: createRequestVariables('tools/call', headers),
      mcp,
    }),
  ),
];

function timeLists(label, runs, listOnce) {
  for (let i = 0; i < 20; i++) listOnce(); // warm-up
  const samples = [];
  let visible = 0;
  for (let i = 0; i < runs; i++) {
    const start = now();
    visible = listOnce();
    samples.push(ms(start, now()));
  }
  samples.sort((a, b) => a - b);
  return { label, p50: percentile(samples, 50), p99: percentile(samples, 99), visible };
}

const listRequest = createRequestVariables('tools/list', REQUEST_HEADERS);
const listRows = [
  timeLists('forCaller, 1 000 tools', 300, () => {
    const scope = policy.forCaller({ auth, request: listRequest });
    let visible = 0;
    for (const tool of tools) if (scope.decideVisible(tool).allowed) visible++;
    return visible;
  }),
  timeLists('decideVisible item by item, 1 000 tools', 300, () => {
    let visible = 0;
    for (const tool of tools) if (policy.decideVisible({ auth, request: listRequest, mcp: tool }).allowed) visible++;
    return visible;
  }),
];

const pad = (text, width) => String(text).padEnd(width);
console.log(
  `policy: ${platformPolicy().rules.length} rules, ${tools.length} tools on 10 servers, Node ${process.version}`,
);
console.log(`${pad('compile 100 rules, first (ms)', 72)}${firstCompileMs.toFixed(2)}`);
console.log(`${pad('compile 100 rules, again p50 (ms)', 72)}${percentile(compileRuns, 50).toFixed(2)}`);
for (const row of callRows) {
  console.log(
    `${pad(`${row.label} (µs per call)`, 72)}${row.perCallUs.toFixed(2)}   (${row.allowed}/${calls.length} allowed)`,
  );
}
for (const row of listRows) {
  console.log(
    `${pad(`${row.label}, p50 / p99 (ms)`, 72)}${row.p50.toFixed(3)} / ${row.p99.toFixed(3)}   (${row.visible} visible)`,
  );
}
if (jsonOut) {
  const compileMs = { first: firstCompileMs, p50: percentile(compileRuns, 50) };
  writeFileSync(jsonOut, `${JSON.stringify({ compileMs, calls: callRows, lists: listRows }, null, 2)}\n`);
}
