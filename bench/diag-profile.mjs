#!/usr/bin/env node
// Diagnostic, not part of `npm run bench`: a CPU profile of the gateway under one workload,
// summarized by bench/profile-summary.mjs.
//
//   node bench/diag-profile.mjs <initialize|router> [seconds] [path/to/cli.js]
//
// - initialize: new sessions (one initialize each, nothing kept) at concurrency 1, straight to
//   the broker; what the session token's signing costs shows here.
// - router: tools/call at concurrency 64 through Envoy with the gateway's router, routed to the
//   upstream (Envoy → router → upstream, the broker idle); Envoy resets every ext_proc stream.
//
// The third argument profiles another build (e.g. /work/baseline/packages/gateway/dist/cli.js);
// default this checkout's. The profile is written under bench/results/profiles/<workload>-<time>/.
import { spawnSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { renderEnvoyBootstrap } from '../infra/envoy/render-bootstrap.mjs';
import { startEnvoy } from '../test/harness/envoy.ts';
import { freePort } from '../test/harness/free-port.ts';
import { GATEWAY_CLI, REPO_ROOT } from '../test/harness/repo-paths.ts';
import { echoCall, isCallOk } from './lib/call-phases.mjs';
import { waitForTools } from './lib/list-memory-phases.mjs';
import { concurrent } from './lib/load.mjs';
import { createInitializer, openMcpSession } from './lib/mcp-http.mjs';
import { readCpuMs, startBenchGateway, startUpstreams } from './lib/processes.mjs';

const [workload, secondsArg, cli = GATEWAY_CLI] = process.argv.slice(2);
if (workload !== 'initialize' && workload !== 'router') {
  process.stderr.write('usage: node bench/diag-profile.mjs <initialize|router> [seconds] [cli.js]\n');
  process.exit(2);
}
const durationMs = Number(secondsArg ?? 10) * 1000;
const profileDir = join(REPO_ROOT, 'bench', 'results', 'profiles', `${workload}-${Date.now()}`);
const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
const PUBLIC_HOST = 'mcp.bench.local';
const UPSTREAM_HOST = 'bench.mcp.local';

/** One line on the run: requests, failures, and the gateway's CPU per request (profiler included). */
const report = (run, what, cpuMs) =>
  process.stderr.write(
    `[diag] ${run.count} ${what}, ${run.errors} failed; gateway CPU ${((cpuMs * 1000) / run.count).toFixed(0)} µs per request under the profiler\n`,
  );

const stops = [];
try {
  const upstream = await startUpstreams(1, 1);
  stops.push(upstream.stop);
  const url = upstream.urls[0];
  if (workload === 'initialize') {
    const gateway = await startBenchGateway([{ name: 'bench', url, prefix: 'e_' }], { nodeArgs, cli });
    stops.push(gateway.stop);
    const initializer = createInitializer(gateway.url, { connections: 1 });
    stops.push(initializer.close);
    await concurrent(initializer.initialize, (status) => status === 200, { concurrency: 1, durationMs: 1_000 });
    const cpuBefore = await readCpuMs(gateway.pid);
    const run = await concurrent(initializer.initialize, (status) => status === 200, { concurrency: 1, durationMs });
    report(run, 'initializes at c=1', (await readCpuMs(gateway.pid)) - cpuBefore);
  } else {
    const routerPort = await freePort();
    const gateway = await startBenchGateway([{ name: 'bench', url, prefix: 'e_', hostname: UPSTREAM_HOST }], {
      nodeArgs,
      cli,
      args: ['--mcp-router-address', `127.0.0.1:${routerPort}`, '--mcp-gateway-public-host', PUBLIC_HOST],
    });
    stops.push(gateway.stop);
    const listenerPort = await freePort();
    const envoy = await startEnvoy({
      config: renderEnvoyBootstrap({
        listenerPort,
        adminPort: await freePort(),
        brokerAddress: `127.0.0.1:${new URL(gateway.url).port}`,
        extProcAddress: `127.0.0.1:${routerPort}`,
        upstreams: [{ name: 'bench', hostname: UPSTREAM_HOST, address: new URL(url).host, path: '/mcp' }],
      }).replace(/^ {16}access_log:\n(?: {18}.*\n)+/m, ''),
    });
    stops.push(envoy.stop);
    const session = await openMcpSession(`${envoy.listenerUrl(listenerPort)}/mcp`, { connections: 64 });
    stops.push(session.close);
    await waitForTools(session, 1);
    const send = echoCall(session, 'e_echo');
    await concurrent(send, isCallOk, { concurrency: 64, durationMs: 1_000 });
    const cpuBefore = await readCpuMs(gateway.pid);
    const run = await concurrent(send, isCallOk, { concurrency: 64, durationMs });
    report(run, 'tools/calls through Envoy at c=64', (await readCpuMs(gateway.pid)) - cpuBefore);
  }
} finally {
  // Stopping the gateway (SIGTERM, a clean exit) is what writes its profile.
  for (const stop of stops.reverse()) await stop();
}
const [file] = (await readdir(profileDir)).filter((name) => name.endsWith('.cpuprofile'));
if (file === undefined) throw new Error(`no profile in ${profileDir}`);
process.stderr.write(`[diag] ${join(profileDir, file)}\n`);
spawnSync(process.execPath, [join(REPO_ROOT, 'bench', 'profile-summary.mjs'), join(profileDir, file), '40'], {
  stdio: 'inherit',
});
