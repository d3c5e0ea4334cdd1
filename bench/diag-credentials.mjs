#!/usr/bin/env node
// Diagnostic, not part of `npm run bench`: a CPU profile of the gateway (in-memory store) under
// tools/call at c=64 to one server of bench/credentials.mjs's setup, summarized by
// bench/profile-summary.mjs. Profile `service` and then `pasted` or `exchanged` to see what a
// user's own credential adds.
//
//   node bench/diag-credentials.mjs <service|pasted|exchanged> [seconds] [regex]
//
// The profile is written under bench/results/profiles/credentials-<variant>-<time>/.
import { spawnSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/harness/repo-paths.ts';
import { echoCall, isCallOk } from './lib/call-phases.mjs';
import { credentialTool, startCredentialBench, VARIANTS } from './lib/credential-setup.mjs';
import { concurrent } from './lib/load.mjs';
import { readCpuMs } from './lib/processes.mjs';

const [variant, secondsArg, regex] = process.argv.slice(2);
if (!VARIANTS.includes(variant)) {
  process.stderr.write(`usage: node bench/diag-credentials.mjs <${VARIANTS.join('|')}> [seconds] [regex]\n`);
  process.exit(2);
}
const durationMs = Number(secondsArg ?? 10) * 1000;
const profileDir = join(REPO_ROOT, 'bench', 'results', 'profiles', `credentials-${variant}-${Date.now()}`);

const stops = [];
try {
  const { gateways, sessions } = await startCredentialBench(
    { memory: { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } },
    (fn) => stops.push(fn),
  );
  const send = echoCall(sessions.memory, credentialTool(variant));
  await concurrent(send, isCallOk, { concurrency: 64, durationMs: 2_000 });
  const cpuBefore = await readCpuMs(gateways.memory.pid);
  const run = await concurrent(send, isCallOk, { concurrency: 64, durationMs });
  const cpuMs = (await readCpuMs(gateways.memory.pid)) - cpuBefore;
  process.stderr.write(
    `[diag] ${run.count} calls to ${variant}, ${run.errors} failed; gateway CPU ${((cpuMs * 1000) / run.count).toFixed(0)} µs per call under the profiler\n`,
  );
} finally {
  // Stopping the gateway (SIGTERM, a clean exit) is what writes its profile.
  for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => {});
}
const [file] = (await readdir(profileDir)).filter((name) => name.endsWith('.cpuprofile'));
if (file === undefined) throw new Error(`no profile in ${profileDir}`);
process.stderr.write(`[diag] ${join(profileDir, file)}\n`);
spawnSync(
  process.execPath,
  [join(REPO_ROOT, 'bench', 'profile-summary.mjs'), join(profileDir, file), '40', ...(regex ? [regex] : [])],
  { stdio: 'inherit' },
);
