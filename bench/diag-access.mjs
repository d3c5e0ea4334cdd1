#!/usr/bin/env node
// Profiles the gateway with token verification and the bench's 100 policy rules under tools/call
// at c=64 (`--cpu-prof`), as bench/access.mjs runs it, and summarizes the profile:
//   node bench/diag-access.mjs [seconds] [off]   (`off`: the same gateway without access sections, the same caller)
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createTokenForge, startOidcProvider } from '../test/harness/identity.ts';
import { REPO_ROOT } from '../test/harness/repo-paths.ts';
import { CALLER_CLAIMS, policyYaml, TEAMS } from './lib/access-policy.mjs';
import { echoCall, isCallOk } from './lib/call-phases.mjs';
import { concurrent } from './lib/load.mjs';
import { openMcpSession } from './lib/mcp-http.mjs';
import { startBenchGateway, startUpstreams } from './lib/processes.mjs';

const seconds = Number(process.argv[2] ?? 10);
const off = process.argv[3] === 'off';
const AUDIENCE = 'https://gateway.bench.local/mcp';
const dir = join(REPO_ROOT, 'bench', 'results', 'profiles', `access-${Date.now()}`);
const idp = await startOidcProvider();
const token = await createTokenForge({ issuer: idp.issuer, audience: AUDIENCE, key: idp.keys.active }).valid(
  CALLER_CLAIMS,
);
const upstream = await startUpstreams(TEAMS.length, 100);
const servers = TEAMS.map((team, i) => ({ ...team, url: upstream.urls[i] }));
const extraConfig = `auth:\n  oauth:\n    issuers: [${JSON.stringify(idp.issuer)}]\n    audience: ${JSON.stringify(AUDIENCE)}\n${policyYaml()}`;
process.stderr.write(`[diag] token of ${token.length} characters; access sections ${off ? 'off' : 'on'}\n`);
const gateway = await startBenchGateway(servers, {
  extraConfig: off ? '' : extraConfig,
  nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
});
const session = await openMcpSession(gateway.url, { connections: 64, authorization: `Bearer ${token}` });
const send = echoCall(session, 't3_echo');
await concurrent(send, isCallOk, { concurrency: 64, durationMs: 2_000 });
const run = await concurrent(send, isCallOk, { concurrency: 64, durationMs: seconds * 1000 });
process.stderr.write(`[diag] ${run.count} calls, ${run.errors} failed\n`);
await session.close();
await gateway.stop();
await upstream.stop();
await idp.stop();
const [file] = await readdir(dir);
spawnSync(process.execPath, [join(REPO_ROOT, 'bench', 'profile-summary.mjs'), join(dir, file), '40'], {
  stdio: 'inherit',
});
