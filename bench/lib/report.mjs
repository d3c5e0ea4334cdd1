// The bench's verdicts: rows with targets, printed as a table and written as JSON.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

const signed = (value, digits) => `${value >= 0 ? '+' : ''}${fmt(value, digits)}`;
const fmt = (value, digits = 2) =>
  value === undefined || value === null || Number.isNaN(value) ? '—' : Number(value).toFixed(digits);

/**
 * Turns the phases' results into report rows; `pass` is null for informational rows. A row
 * with `section` starts a group whose two value columns mean `gateway` and `direct` as given
 * there instead of the header's; a row with `note` is a line of text under the rows before it.
 */
export function toRows({ latency, throughput, eras, initialize, list, memory, redis, envoy }) {
  const rows = [];
  if (eras) {
    const { legacy: l50, modern: m50 } = eras.latency;
    const { legacy: lr, modern: mr } = eras.throughput;
    rows.push(
      row(
        '2026-07-28 vs legacy client, tools/call p50 c=1 (ms)',
        m50.p50,
        l50.p50,
        `${signed(m50.p50 - l50.p50, 3)} ms`,
        'modern ≤ legacy (+5 % noise)',
        m50.p50 <= l50.p50 * 1.05,
      ),
    );
    rows.push(
      row(
        '2026-07-28 vs legacy client, rate c=64 (req/s)',
        mr.perSecond,
        lr.perSecond,
        `${fmt((mr.perSecond / lr.perSecond) * 100, 1)} %`,
        'modern ≥ legacy (-5 % noise)',
        mr.perSecond >= lr.perSecond * 0.95,
        0,
      ),
    );
  }
  if (latency) {
    const { gateway: g, direct: d, relay: r } = latency;
    const added50 = g.p50 - d.p50;
    const added99 = g.p99 - d.p99;
    rows.push(row('tools/call p50, c=1 (ms)', g.p50, d.p50, `${signed(added50, 3)} ms`, 'added ≤ 1 ms', added50 <= 1));
    rows.push(row('tools/call p99, c=1 (ms)', g.p99, d.p99, `${signed(added99, 3)} ms`, '(info)', null));
    if (r)
      rows.push(row('  bare relay p50, c=1 (ms)', r.p50, d.p50, `${signed(r.p50 - d.p50, 3)} ms`, '(reference)', null));
  }
  if (throughput) {
    const { gateway: g, direct: d, relay: r } = throughput;
    const ratio = g.perSecond / d.perSecond;
    rows.push(
      row(
        'tools/call rate, c=64 (req/s)',
        g.perSecond,
        d.perSecond,
        `${fmt(ratio * 100, 1)} %`,
        '≥ 60 %',
        ratio >= 0.6,
        0,
      ),
    );
    rows.push(row('tools/call p50, c=64 (ms)', g.p50, d.p50, `×${fmt(g.p50 / d.p50)}`, '(info)', null));
    rows.push(row('gateway CPU per call, c=64 (µs)', g.relayCpuUsPerCall, undefined, '', '(info)', null, 0));
    rows.push(
      row(
        'upstream CPU per call, c=64 (µs)',
        g.upstreamCpuUsPerCall,
        d.upstreamCpuUsPerCall,
        `×${fmt(g.upstreamCpuUsPerCall / d.upstreamCpuUsPerCall)}`,
        '(info)',
        null,
        0,
      ),
    );
    if (r) {
      rows.push(
        row(
          '  bare relay rate, c=64 (req/s)',
          r.perSecond,
          d.perSecond,
          `${fmt((r.perSecond / d.perSecond) * 100, 1)} %`,
          '(reference)',
          null,
          0,
        ),
      );
      rows.push(
        row('  bare relay CPU per call, c=64 (µs)', r.relayCpuUsPerCall, undefined, '', '(reference)', null, 0),
      );
    }
  }
  if (list) {
    const { gateway: g, direct: d } = list.latency;
    const label = `tools/list p50 (ms), gw ${list.gatewayTools} tools / direct ${list.directTools}`;
    rows.push(row(label, g.p50, d.p50, '', 'gateway ≤ 5 ms', g.p50 <= 5, 3));
    rows.push(row('tools/list p99 (ms), same', g.p99, d.p99, '', '(info)', null, 3));
  }
  if (memory) {
    const perSession = memory.rssBytesPerSession;
    const label = `RSS growth per idle session (B), ${memory.sessions} after ${memory.warmupSessions}`;
    rows.push(row(label, perSession, undefined, '', '≤ 2048 B', perSession <= 2048, 0));
    rows.push(
      row('V8 heap growth per idle session (B), same', memory.heapBytesPerSession, undefined, '', '(info)', null, 0),
    );
    rows.push(
      row(
        `  RSS growth per session in the warm-up (B)`,
        memory.warmupRssBytesPerSession,
        undefined,
        '',
        '(info)',
        null,
        0,
      ),
    );
  }
  if (initialize) rows.push(...initializeRows(initialize));
  if (redis) rows.push(...redisRows(redis));
  if (envoy) rows.push(...envoyRows(envoy));
  return rows;
}

/**
 * initialize (issue 11): this build against the baseline build (BENCH_BASELINE), when one was
 * measured; else this build alone, for information.
 */
function initializeRows({ latency, throughput }) {
  const { build: b, baseline: a } = latency;
  const { build: bc, baseline: ac } = throughput;
  const rows = [{ section: 'initialize (issue 11)', gateway: 'this build', direct: 'baseline' }];
  const versus = (target, pass) => (a === undefined ? ['(info)', null] : [target, pass]);
  rows.push(
    row(
      'initialize p50, c=1 (ms)',
      b.p50,
      a?.p50,
      a === undefined ? '' : `${signed(b.p50 - a.p50, 3)} ms`,
      ...versus('≤ baseline (+5 % noise)', a !== undefined && b.p50 <= a.p50 * 1.05),
    ),
  );
  rows.push(
    row(
      'initialize p99, c=1 (ms)',
      b.p99,
      a?.p99,
      a === undefined ? '' : `${signed(b.p99 - a.p99, 3)} ms`,
      '(info)',
      null,
    ),
  );
  rows.push(
    row(
      'gateway CPU per initialize, c=64 (µs)',
      bc.relayCpuUsPerCall,
      ac?.relayCpuUsPerCall,
      ac === undefined ? '' : `×${fmt(bc.relayCpuUsPerCall / ac.relayCpuUsPerCall)}`,
      ...versus('≤ baseline (+5 % noise)', ac !== undefined && bc.relayCpuUsPerCall <= ac.relayCpuUsPerCall * 1.05),
      0,
    ),
  );
  rows.push(
    row(
      '  initialize rate, c=64 (req/s)',
      bc.perSecond,
      ac?.perSecond,
      ac === undefined ? '' : `${fmt((bc.perSecond / ac.perSecond) * 100, 1)} %`,
      '(info)',
      null,
      0,
    ),
  );
  return rows;
}

/**
 * Envoy in front of the gateway (issue 5): Envoy with the ext_proc processor against Envoy's
 * pass-through route and against the same ext_proc bootstrap with a do-nothing processor (the
 * cost of ext_proc itself), the processor's time as Envoy's filter clocks it, the broker alone
 * as a reference, then the processor driven over gRPC.
 */
function envoyRows({ latency, envoyClock, throughput, grpc }) {
  const rows = [{ section: 'Envoy in front of the gateway (issue 5)', gateway: 'Envoy+proc', direct: 'pass-thru' }];
  const { processor: p, passThrough: t, broker: b, nullProcessor: n } = latency;
  // What the router adds over a do-nothing processor behind the same Envoy: the ext_proc filter
  // and a gRPC round trip per message cost that much whatever the processor does.
  const own50 = p.p50 - n.p50;
  rows.push(row('tools/call p50, c=1 (ms)', p.p50, t.p50, `${signed(p.p50 - t.p50, 3)} ms`, '(info)', null));
  rows.push(
    row(
      '  do-nothing processor p50, c=1 (ms)',
      n.p50,
      t.p50,
      `${signed(n.p50 - t.p50, 3)} ms`,
      '(ext_proc floor)',
      null,
    ),
  );
  rows.push(
    row(
      'router over do-nothing processor, p50 c=1 (ms)',
      p.p50,
      n.p50,
      `${signed(own50, 3)} ms`,
      'processor adds ≤ 0.5 ms',
      own50 <= 0.5,
    ),
  );
  const { processor: pe, nullProcessor: ne } = envoyClock;
  rows.push(row("processor time per call, Envoy's clock p50 (ms)", pe.p50, ne.p50, 'vs do-nothing', '(info)', null));
  rows.push(row("processor time per call, Envoy's clock p99 (ms)", pe.p99, ne.p99, 'vs do-nothing', '(info)', null));
  rows.push(row('tools/call p99, c=1 (ms)', p.p99, t.p99, `${signed(p.p99 - t.p99, 3)} ms`, '(info)', null));
  rows.push(row('  broker alone p50, c=1 (ms)', b.p50, t.p50, `${signed(b.p50 - t.p50, 3)} ms`, '(reference)', null));
  const { processor: pc, passThrough: tc, broker: bc } = throughput;
  const share = (x) => `${fmt((x.perSecond / tc.perSecond) * 100, 1)} %`;
  rows.push(row('tools/call rate, c=64 (req/s)', pc.perSecond, tc.perSecond, share(pc), '(info)', null, 0));
  rows.push(row('tools/call p50, c=64 (ms)', pc.p50, tc.p50, `×${fmt(pc.p50 / tc.p50)}`, '(info)', null));
  rows.push(row('  broker alone rate, c=64 (req/s)', bc.perSecond, tc.perSecond, share(bc), '(reference)', null, 0));
  rows.push(row('gateway CPU per routed call, c=64 (µs)', pc.relayCpuUsPerCall, undefined, '', '(info)', null, 0));
  rows.push(row('  broker alone CPU per call, c=64 (µs)', bc.relayCpuUsPerCall, undefined, '', '(reference)', null, 0));
  const failed = p.errors + pc.errors;
  const tried = p.n + pc.count;
  rows.push(row('failed calls through Envoy+proc, c=1 and 64', failed, undefined, `of ${tried}`, '0', failed === 0, 0));
  const { c1, c64 } = grpc;
  rows.push(row('processor alone (gRPC) p50, c=1 (ms)', c1.p50, undefined, '', '(info)', null));
  rows.push(row('processor alone (gRPC) p99, c=1 (ms)', c1.p99, undefined, '', '(info)', null));
  rows.push(row('processor alone rate, c=64 (req/s)', c64.perSecond, undefined, '', '(info)', null, 0));
  rows.push(row('  p50 / p99 at c=64 (ms)', c64.p50, c64.p99, '', '(info)', null));
  rows.push(row('processor CPU per request, c=64 (µs)', c64.cpuUsPerRequest, undefined, '', '(info)', null, 0));
  rows.push(
    row(
      'processor requests/s per core',
      c64.perSecondPerCore,
      undefined,
      '',
      '≥ 5000',
      c64.perSecondPerCore >= 5000,
      0,
    ),
  );
  return rows;
}

/** Shared state in Redis (issue 4): Redis against the in-memory store, then 1 replica against several. */
function redisRows({ latency, commands, memory, throughput, replicas, cpus }) {
  const rows = [{ section: 'Redis store (issue 4)', gateway: 'Redis', direct: 'memory' }];
  const { redis: r, memory: m } = latency;
  const added50 = r.p50 - m.p50;
  rows.push(
    row('tools/call p50, c=1 (ms)', r.p50, m.p50, `${signed(added50, 3)} ms`, 'Redis adds ≤ 0.3 ms', added50 <= 0.3),
  );
  rows.push(row('tools/call p99, c=1 (ms)', r.p99, m.p99, `${signed(r.p99 - m.p99, 3)} ms`, '(info)', null));
  const trips = (step) => `${fmt(step.roundTripsPerRequest)} sent`;
  const warm = commands.warmCall;
  rows.push(
    row('Redis commands per warm tools/call', warm.perRequest, undefined, trips(warm), '≤ 1', warm.perRequest <= 1, 2),
  );
  rows.push(
    row(
      'Redis commands per initialize',
      commands.initialize.perRequest,
      undefined,
      trips(commands.initialize),
      '(info)',
      null,
      2,
    ),
  );
  rows.push(
    row(
      '  per notifications/initialized',
      commands.initialized.perRequest,
      undefined,
      trips(commands.initialized),
      '(info)',
      null,
      2,
    ),
  );
  rows.push(
    row(
      'Redis commands per first tools/call',
      commands.firstCall.perRequest,
      undefined,
      trips(commands.firstCall),
      '(info)',
      null,
      2,
    ),
  );
  rows.push(
    row(
      `Redis memory per session (B), ${memory.sessions} with a call`,
      memory.bytesPerSession,
      undefined,
      '',
      '(info)',
      null,
      0,
    ),
  );
  rows.push(row('  MEMORY USAGE of one session key (B)', memory.sampleKey?.bytes, undefined, '', '(info)', null, 0));

  const { replicas: n, one } = throughput;
  rows.push({ section: `${replicas} replicas on one Redis`, gateway: `${replicas} replicas`, direct: '1 replica' });
  rows.push(
    row(
      'tools/call rate, c=64 (req/s), round-robin',
      n.perSecond,
      one.perSecond,
      `${fmt((n.perSecond / one.perSecond) * 100, 1)} %`,
      '(info)',
      null,
      0,
    ),
  );
  rows.push(row('tools/call p50, c=64 (ms)', n.p50, one.p50, `×${fmt(n.p50 / one.p50)}`, '(info)', null));
  rows.push(
    row(
      'gateway CPU per call, c=64 (µs), all replicas',
      n.relayCpuUsPerCall,
      one.relayCpuUsPerCall,
      `×${fmt(n.relayCpuUsPerCall / one.relayCpuUsPerCall)}`,
      '(info)',
      null,
      0,
    ),
  );
  rows.push(
    row(
      'Redis CPU per call, c=64 (µs)',
      n.redisCpuUsPerCall,
      one.redisCpuUsPerCall,
      `×${fmt(n.redisCpuUsPerCall / one.redisCpuUsPerCall)}`,
      '(info)',
      null,
      0,
    ),
  );
  rows.push(
    { note: `  On ${cpus} cores the ${replicas} replicas compete for the same CPU, with the upstream, Redis and` },
    { note: '  the load generator: this shows the overhead of replicas, not how they scale.' },
  );
  return rows;
}

function row(metric, gateway, direct, relation, target, pass, digits = 3) {
  return { metric, gateway: fmt(gateway, digits), direct: fmt(direct, digits), relation, target, pass };
}

/**
 * Prints the rows as an aligned text table. A section row prints its title and its two column
 * captions after an empty line; a note row prints as it is, without widening the columns.
 */
export function printTable(rows, out = process.stdout) {
  const header = ['metric', 'gateway', 'direct', 'ratio/added', 'target', 'result'];
  const cells = rows.map((r) => {
    if (r.note !== undefined) return r.note;
    if (r.section !== undefined) return [r.section, r.gateway, r.direct, '', '', ''];
    return [r.metric, r.gateway, r.direct, r.relation, r.target, r.pass === null ? 'info' : r.pass ? 'PASS' : 'FAIL'];
  });
  const tabular = cells.filter((c) => Array.isArray(c));
  const widths = header.map((h, i) => Math.max(h.length, ...tabular.map((c) => c[i].length)));
  const line = (c) =>
    c
      .map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  out.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  rows.forEach((r, i) => {
    if (r.section !== undefined) out.write('\n');
    out.write(`${Array.isArray(cells[i]) ? line(cells[i]) : cells[i]}\n`);
  });
}

/**
 * Prints a side-by-side comparison of an extra bench: its title over the two columns' captions,
 * then `[metric, a, b, difference, target]` rows, then the failed requests.
 */
export function printComparison(title, [captionA, captionB], rows, { diffWidth, errors }, out = process.stdout) {
  const width = Math.max(...rows.map((r) => r[0].length));
  out.write(
    `\n${title.padEnd(width)}  ${captionA.padStart(8)}  ${captionB.padStart(8)}  ${'difference'.padStart(diffWidth)}  target\n`,
  );
  for (const [metric, a, b, diff, target] of rows) {
    out.write(`${metric.padEnd(width)}  ${a.padStart(8)}  ${b.padStart(8)}  ${diff.padStart(diffWidth)}  ${target}\n`);
  }
  out.write(`failed requests: ${errors}\n`);
}

/** Writes the full results (rows plus raw phase data) as JSON. */
export async function writeJson(path, data) {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(data, null, 2)}\n`);
}
