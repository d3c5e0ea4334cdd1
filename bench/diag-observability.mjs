#!/usr/bin/env node
// Diagnosis (not part of `npm run bench`): the same number of tools/call (CALLS, c=32) through a
// gateway with tracing exporting to a loopback sink that discards (OBS_ENV adds OTEL_* settings)
// and through one without: CPU per call and p50 at c=1 (C1_CALLS of them) of each; PROF=1 runs
// both under --cpu-prof (/tmp/diag-obs-on, /tmp/diag-obs-off) for bench/profile-summary.mjs;
// TRACE_GC=1 counts their garbage collections; OBS_METRICS=1 turns metrics on in the traced gateway.
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { echoParams } from './lib/call-phases.mjs';
import { openMcpSession } from './lib/mcp-http.mjs';
import { readCpuMs, startBenchGateway, startUpstreams } from './lib/processes.mjs';

const CALLS = Number(process.env.CALLS ?? 20_000);
let exports = 0;
let bytes = 0;
const sink = createServer((req, res) => {
  exports += 1;
  req.on('data', (chunk) => (bytes += chunk.length));
  req.on('end', () => res.end());
});
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const upstream = await startUpstreams(1, 1);
const servers = [{ name: 'bench', url: upstream.urls[0], prefix: 'e_' }];
const variants = {
  off: { args: ['--disable-metrics'], env: {} },
  on: {
    args: process.env.OBS_METRICS === '1' ? [] : ['--disable-metrics'],
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.address().port}`,
      ...JSON.parse(process.env.OBS_ENV ?? '{}'),
    },
  },
};
for (const [name, v] of Object.entries(variants)) {
  const dir = `/tmp/diag-obs-${name}`;
  rmSync(dir, { recursive: true, force: true });
  const gw = await startBenchGateway(servers, {
    ...v,
    ...(process.env.GATEWAY_CLI_PATH === undefined ? {} : { cli: process.env.GATEWAY_CLI_PATH }),
    nodeArgs: [
      ...(process.env.PROF === '1' ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []),
      ...(process.env.TRACE_GC === '1' ? ['--trace-gc'] : []),
      ...(process.env.NODE_ARGS ?? '').split(' ').filter(Boolean),
    ],
  });
  const session = await openMcpSession(gw.url, { connections: 32 });
  const params = echoParams('e_echo');
  const send = () =>
    session.request('tools/call', params, {
      traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
    });
  let done = 0;
  const worker = async () => {
    while (done < CALLS) {
      done++;
      await send();
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  done = 0;
  const before = await readCpuMs(gw.pid);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 32 }, worker));
  const cpu = (await readCpuMs(gw.pid)) - before;
  process.stderr.write(
    `${name}: ${((cpu * 1000) / CALLS).toFixed(0)} µs CPU per call, ${((CALLS * 1000) / (performance.now() - t0)).toFixed(0)} calls/s\n`,
  );
  const c1Before = await readCpuMs(gw.pid);
  const samples = [];
  for (let i = 0; i < Number(process.env.C1_CALLS ?? 2_000); i++) {
    const t = performance.now();
    await send();
    samples.push(performance.now() - t);
  }
  const c1Cpu = (await readCpuMs(gw.pid)) - c1Before;
  samples.sort((a, b) => a - b);
  process.stderr.write(`${name}: ${((c1Cpu * 1000) / samples.length).toFixed(0)} µs CPU per call at c=1\n`);
  process.stderr.write(`${name}: p50 at c=1 ${(samples[samples.length >> 1] * 1000).toFixed(0)} µs\n`);
  await session.close();
  if (process.env.TRACE_GC === '1') {
    const lines = gw.process.output().split('\n');
    const count = (kind) => lines.filter((line) => line.includes(kind)).length;
    const ms = (kind) =>
      lines
        .filter((line) => line.includes(kind))
        .reduce((sum, line) => sum + Number(/ ([\d.]+) \/ [\d.]+ ms/.exec(line)?.[1] ?? 0), 0);
    process.stderr.write(
      `${name}: ${count('Scavenge')} scavenges (${ms('Scavenge').toFixed(0)} ms), ${count('Mark-Compact')} mark-compacts (${ms('Mark-Compact').toFixed(0)} ms)\n`,
    );
  }
  if (process.env.NODE_ARGS) writeFileSync(`${dir}.log`, gw.process.output());
  await gw.stop();
  process.stderr.write(`${name}: ${CALLS} calls, profile in ${dir}\n`);
}
await upstream.stop();
sink.close();
process.stderr.write(`sink: ${exports} exports, ${bytes} bytes\n`);
