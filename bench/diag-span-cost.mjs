#!/usr/bin/env node
// Diagnosis (not part of `npm run bench`): what the gateway's tracer and its OTLP/HTTP protobuf
// export cost per traced call on their own, outside the gateway: the two spans of a call (server
// and client, the gateway's attributes) through core's tracer, batched, encoded and posted to a
// loopback sink in this process (its CPU counted too), against the same spans not sent.
//   node bench/diag-span-cost.mjs [export|noexport]
import { createServer } from 'node:http';
import { setImmediate } from 'node:timers';
import { createOtlpHttpSender, startOtelTracing } from '../packages/core/src/otel/index.ts';
import { NOOP_LOGGER } from '../packages/core/src/logger.ts';
import { SharedAttributes } from '../packages/core/src/telemetry/gateway-tracer.ts';
// The attributes the gateway shares between calls to one tool (telemetry/mcp-spans.ts).
const SERVER = new SharedAttributes({ 'mcp.method.name': 'tools/call', 'network.protocol.name': 'http' });
const TARGET = new SharedAttributes({
  'gen_ai.tool.name': 'e_echo',
  'gen_ai.operation.name': 'execute_tool',
  'mcp.server': 'bench',
});
const CLIENT = new SharedAttributes({
  'mcp.method.name': 'tools/call',
  'gen_ai.tool.name': 'echo',
  'gen_ai.operation.name': 'execute_tool',
  'server.address': '127.0.0.1',
  'server.port': 8080,
});
const sink = createServer((q, s) => {
  q.resume();
  q.on('end', () => s.end());
});
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${sink.address().port}/v1/traces`;
const variant = process.argv[2] ?? 'export';
const sender =
  variant === 'export'
    ? createOtlpHttpSender({ url, json: false, headers: {}, gzip: false, timeoutMs: 10_000, fetch })
    : { format: 'protobuf', send: async () => {} };
const t = startOtelTracing({}, '0', sender, NOOP_LOGGER);
const N = Number(process.env.N ?? 60_000);
let i = 0;
const call = () => {
  const s = t.tracer.server(
    'tools/call',
    { traceparent: `00-${crypto.randomUUID().replaceAll('-', '')}-00f067aa0ba902b7-01` },
    SERVER,
    Date.now(),
  );
  s.set({ 'jsonrpc.request.id': String(i) });
  s.rename('tools/call e_echo');
  s.set(TARGET);
  s.set({ 'mcp.session.id': crypto.randomUUID(), 'mcp.protocol.version': '2025-06-18' });
  const c = s.client('tools/call echo', CLIENT);
  c.set({ 'jsonrpc.request.id': String(i) });
  void c.carrier;
  c.set({ 'http.response.status_code': 200 });
  c.end();
  s.set({ 'http.response.status_code': 200 });
  s.end();
  i++;
};
const run = async (n) => {
  for (let k = 0; k < n; k++) {
    call();
    if (k % 16 === 0) await new Promise((r) => setImmediate(r));
  }
  await t.flush();
};
await run(20_000);
const before = process.cpuUsage();
const w0 = performance.now();
await run(N);
const used = process.cpuUsage(before);
console.log(
  variant,
  `${((used.user + used.system) / N).toFixed(1)} µs CPU per call (2 spans), wall ${(((performance.now() - w0) * 1000) / N).toFixed(1)} µs`,
);
await t.shutdown();
sink.close();
