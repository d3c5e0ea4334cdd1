// Protocol eras side by side (issue 3): tools/call through the same gateway and the same
// legacy upstream, by a legacy client (session) and by a 2026-07-28 client (stateless,
// per-request envelope, a backend session kept per caller), in ABBA rounds.
import { echoCall, measureCallLatency, measureCallThroughput } from './call-phases.mjs';
import { openMcpSession, openModernClient } from './mcp-http.mjs';

/** Latency at c=1 and rate at c=64 of both eras through `gateway` (tool `e_echo`). */
export async function measureEras(gateway, { sizes, warmupMs, upstreamPid, defer }) {
  const legacy = await openMcpSession(gateway.url, { connections: 64 });
  defer(() => legacy.close());
  const modern = openModernClient(gateway.url, { connections: 64, authorization: 'Bearer bench-caller' });
  defer(() => modern.close());
  const targets = {
    legacy: { send: echoCall(legacy, 'e_echo'), pid: gateway.pid },
    modern: { send: echoCall(modern, 'e_echo'), pid: gateway.pid },
  };
  const latency = await measureCallLatency(targets, { warmup: sizes.warmup, count: sizes.calls });
  const throughput = await measureCallThroughput(targets, {
    windowMs: sizes.windowMs,
    windows: sizes.windows,
    warmupMs,
    upstreamPid,
  });
  return { latency, throughput };
}
