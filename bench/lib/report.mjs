// The bench's verdicts: rows with targets, printed as a table and written as JSON.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

const signed = (value, digits) => `${value >= 0 ? '+' : ''}${fmt(value, digits)}`;
const fmt = (value, digits = 2) =>
  value === undefined || value === null || Number.isNaN(value) ? '—' : Number(value).toFixed(digits);

/** Turns the phases' results into report rows; `pass` is null for informational rows. */
export function toRows({ latency, throughput, list, memory }) {
  const rows = [];
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
  return rows;
}

function row(metric, gateway, direct, relation, target, pass, digits = 3) {
  return { metric, gateway: fmt(gateway, digits), direct: fmt(direct, digits), relation, target, pass };
}

/** Prints the rows as an aligned text table. */
export function printTable(rows, out = process.stdout) {
  const header = ['metric', 'gateway', 'direct', 'ratio/added', 'target', 'result'];
  const cells = rows.map((r) => [
    r.metric,
    r.gateway,
    r.direct,
    r.relation,
    r.target,
    r.pass === null ? 'info' : r.pass ? 'PASS' : 'FAIL',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  out.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const c of cells) out.write(`${line(c)}\n`);
}

/** Writes the full results (rows plus raw phase data) as JSON. */
export async function writeJson(path, data) {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(data, null, 2)}\n`);
}
