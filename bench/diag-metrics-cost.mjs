#!/usr/bin/env node
// Diagnosis (not part of `npm run bench`): what recording one forwarded call's metrics costs, in
// ns of CPU, with prom-client's Counter and Histogram as the gateway used them before (label
// objects, spread, prom-client's validation and hash per observation) against the cells of
// packages/gateway/src/prometheus-cells.ts. One call's worth: the request counter and histogram
// (method, outcome) and the call counter (6 labels) and histogram (5 labels), over 20 tools of 2
// servers, as the catalog would give them. Each variant in its own registry; rounds alternate.
//   node bench/diag-metrics-cost.mjs [iterations]
import { Counter, Histogram, Registry } from 'prom-client';
import { CellCounter, CellHistogram } from '../packages/gateway/src/prometheus-cells.ts';

const N = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = 3;
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const REQUEST = ['method', 'outcome'];
const CALL = ['host', 'method', 'server', 'kind', 'name'];

const facts = Array.from({ length: 20 }, (_, i) => ({
  host: 'broker',
  method: 'tools/call',
  server: i % 2 === 0 ? 'team-a/alpha' : 'team-b/beta',
  kind: 'tool',
  name: `${i % 2 === 0 ? 'a' : 'b'}_tool_${i}`,
  outcome: i % 7 === 0 ? 'tool_error' : 'ok',
  seconds: 0.0004 + i * 0.0003,
}));

function promClient(registers) {
  const requests = new Counter({ name: 'r_total', help: 'r', labelNames: REQUEST, registers });
  const requestSeconds = new Histogram({
    name: 'r_seconds',
    help: 'r',
    labelNames: ['method'],
    buckets: BUCKETS,
    registers,
  });
  const calls = new Counter({ name: 'c_total', help: 'c', labelNames: [...CALL, 'outcome'], registers });
  const callSeconds = new Histogram({ name: 'c_seconds', help: 'c', labelNames: CALL, buckets: BUCKETS, registers });
  return (fact) => {
    requests.inc({ method: fact.method, outcome: 'ok' });
    requestSeconds.observe({ method: fact.method }, fact.seconds);
    const labels = { host: fact.host, method: fact.method, server: fact.server, kind: fact.kind, name: fact.name };
    calls.inc({ ...labels, outcome: fact.outcome });
    callSeconds.observe(labels, fact.seconds);
  };
}

function cells(registers) {
  const requests = new CellCounter({ name: 'r_total', help: 'r', labelNames: REQUEST, registers });
  const requestSeconds = new CellHistogram({
    name: 'r_seconds',
    help: 'r',
    labelNames: ['method'],
    buckets: BUCKETS,
    registers,
  });
  const calls = new CellCounter({ name: 'c_total', help: 'c', labelNames: [...CALL, 'outcome'], registers });
  const callSeconds = new CellHistogram({
    name: 'c_seconds',
    help: 'c',
    labelNames: CALL,
    buckets: BUCKETS,
    registers,
  });
  return (fact) => {
    requests.inc(fact.method, 'ok');
    requestSeconds.observe(fact.seconds, fact.method);
    const { host, method, server, kind, name, outcome } = fact;
    calls.inc(host, method, server, kind, name, outcome);
    callSeconds.observe(fact.seconds, host, method, server, kind, name);
  };
}

/** CPU ns per call (user + system), over n calls. */
function measure(record, n) {
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) record(facts[i % facts.length]);
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / n;
}

const registries = { 'prom-client': new Registry(), cells: new Registry() };
const variants = { 'prom-client': promClient([registries['prom-client']]), cells: cells([registries.cells]) };
for (const record of Object.values(variants)) measure(record, 100_000);
const results = { 'prom-client': [], cells: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, record] of Object.entries(variants)) results[name].push(measure(record, N));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [old, now] = [median(results['prom-client']), median(results.cells)];
console.log(`one call's metrics (request + call, 2 counters and 2 histograms), ${N} calls, median of ${ROUNDS}`);
console.log(`${'prom-client (ns/call)'.padEnd(24)}${'cells (ns/call)'.padEnd(18)}ratio`);
console.log(`${old.toFixed(0).padEnd(24)}${now.toFixed(0).padEnd(18)}×${(old / now).toFixed(1)}`);
console.log(
  `rounds: prom-client ${results['prom-client'].map((x) => x.toFixed(0)).join(' ')}; cells ${results.cells.map((x) => x.toFixed(0)).join(' ')}`,
);
// Both recorded the same calls: their expositions must be the same text.
const same = (await registries['prom-client'].metrics()) === (await registries.cells.metrics());
console.log(`same exposition text: ${same ? 'yes' : 'NO'}`);
if (!same) process.exitCode = 1;
