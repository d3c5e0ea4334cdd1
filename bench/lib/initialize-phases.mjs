// initialize, the request that opens a session (issue 11): answered by the gateway itself (it
// signs the session token, nothing reaches the upstream), measured on this checkout's built
// gateway and, with BENCH_BASELINE, on another checkout's, side by side as the call phases
// measure their targets (ABBA rounds at c=1, ABBA windows at c=64 with the gateway's CPU).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { measureCallLatency, measureCallThroughput } from './call-phases.mjs';
import { createInitializer } from './mcp-http.mjs';
import { startBenchGateway } from './processes.mjs';

/** `createInitializer` resolves with the status, negative when no session id came back. */
const isInitialized = (status) => status === 200;

/**
 * The built gateway of the checkout `BENCH_BASELINE` names; undefined when the variable is unset.
 * @throws Error naming the variable and the fix when that checkout has no built gateway.
 */
export function baselineCli(env = process.env) {
  const checkout = env.BENCH_BASELINE;
  if (checkout === undefined || checkout === '') return undefined;
  const cli = join(resolve(checkout), 'packages', 'gateway', 'dist', 'cli.js');
  if (!existsSync(cli)) {
    throw new Error(`BENCH_BASELINE=${checkout}: no ${cli}; run \`npm ci\` (or \`npm run build\`) in that checkout`);
  }
  return cli;
}

/**
 * initialize latency at c=1 and CPU per initialize at c=64 of this build's gateway (`build`) and,
 * when `baseline` (a built cli.js) is given, of that build's (`baseline`), both in front of
 * `upstreamUrl`. Each request opens a new session (initialize only, nothing kept).
 */
export async function measureInitialize(upstreamUrl, { sizes, warmupMs, baseline, upstreamPid, defer }) {
  const servers = [{ name: 'bench', url: upstreamUrl, prefix: 'e_' }];
  const targets = {};
  const start = async (name, cli) => {
    const gateway = await startBenchGateway(servers, cli === undefined ? {} : { cli });
    defer(() => gateway.stop());
    const initializer = createInitializer(gateway.url, { connections: 64 });
    defer(() => initializer.close());
    targets[name] = { send: initializer.initialize, pid: gateway.pid, gateway, initializer };
  };
  await start('build');
  if (baseline !== undefined) await start('baseline', baseline);
  const latency = await measureCallLatency(targets, {
    warmup: sizes.warmup,
    count: sizes.calls,
    isOk: isInitialized,
  });
  const throughput = await measureCallThroughput(targets, {
    windowMs: sizes.windowMs,
    windows: sizes.windows,
    warmupMs,
    upstreamPid,
    isOk: isInitialized,
  });
  for (const { initializer, gateway } of Object.values(targets)) {
    await initializer.close();
    await gateway.stop();
  }
  return { latency, throughput, ...(baseline === undefined ? {} : { baseline }) };
}
