#!/usr/bin/env node
// Diagnostic, not part of `npm run bench`: where does a relay's CPU go on this machine?
// Runs tools/call at c=64, side by side: directly; through the gateway (whose upstream fetch
// is packages/gateway/src/upstream-fetch.ts, on undici.request); and through variants of
// bench/bare-relay.mjs (node:http or Hono in × undici.request, global fetch or the
// fetch-shaped undici adapter out). Prints the rate and the CPU per call of each relay.
//   node bench/diag-relay.mjs [windowMs]
// BENCH_RELAYS picks the relay variants, e.g. BENCH_RELAYS=hono+fetch,hono-reader+fetch.
import { echoCall, measureCallThroughput } from './lib/call-phases.mjs';
import { waitForTools } from './lib/list-memory-phases.mjs';
import { openMcpSession } from './lib/mcp-http.mjs';
import { startBareRelay, startBenchGateway, startUpstreams } from './lib/processes.mjs';

const windowMs = Number(process.argv[2] ?? 3_000);
const stops = [];
try {
  const upstream = await startUpstreams(1, 1);
  stops.push(upstream.stop);
  const url = upstream.urls[0];
  const gateway = await startBenchGateway([{ name: 'bench', url, prefix: 'e_' }]);
  stops.push(gateway.stop);
  const direct = await openMcpSession(url, { connections: 64 });
  stops.push(direct.close);
  const viaGateway = await openMcpSession(gateway.url, { connections: 64 });
  stops.push(viaGateway.close);
  await waitForTools(viaGateway, 1);
  const targets = {
    direct: { send: echoCall(direct, 'echo') },
    gateway: { send: echoCall(viaGateway, 'e_echo'), pid: gateway.pid },
  };
  const variants = (
    process.env.BENCH_RELAYS ?? 'node+undici,node+fetch,node+adapter,hono+undici,hono+fetch,hono+adapter'
  )
    .split(',')
    .map((v) => v.split('+'));
  for (const [inbound, outbound] of variants) {
    {
      const relay = await startBareRelay(url, inbound, outbound);
      stops.push(relay.stop);
      const session = await openMcpSession(relay.url, { connections: 64 });
      stops.push(session.close);
      targets[`${inbound}+${outbound}`] = { send: echoCall(session, 'echo'), pid: relay.pid };
    }
  }
  const result = await measureCallThroughput(targets, {
    windowMs,
    windows: 2,
    warmupMs: 1_000,
    upstreamPid: upstream.process.pid,
  });
  const directRate = result.direct.perSecond;
  for (const [name, r] of Object.entries(result)) {
    const cpu = r.relayCpuUsPerCall === undefined ? '' : `, relay CPU ${r.relayCpuUsPerCall.toFixed(0)} µs/call`;
    console.log(
      `${name.padEnd(16)} ${r.perSecond.toFixed(0).padStart(6)} req/s (${((r.perSecond / directRate) * 100).toFixed(1)} % of direct)${cpu}, errors ${r.errors}`,
    );
  }
} finally {
  for (const stop of stops.reverse())
    await Promise.resolve()
      .then(stop)
      .catch(() => {});
}
