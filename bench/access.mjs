#!/usr/bin/env node
// The cost of identity and access (issue 12), side by side in one run: two gateways in front of
// the same ten upstreams (1 000 tools), one without access sections ("off"), one with token
// verification against a real OpenID provider (oidc-provider, in this process) and 100 policy
// rules ("on"), the caller a verified platform engineer. Measured in turns (ABBA):
//   1. tools/call p50 at c=1 and gateway CPU per call at c=64, on against off
//      (target: ≤ 30 µs of CPU added per call);
//   2. tools/list of 1 000 tools filtered for the caller, p50 at c=1 (target ≤ 5 ms), beside
//      the unfiltered list of the off gateway;
//   3. signature checks per token: the gateway's JWKS fetches over the run (one per process) and,
//      in this process, core's verifier given one token 10 000 times (target: 1 check).
// Prints a table and writes bench/results/access.json. BENCH_QUICK=1: smaller counts.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createTokenVerifier } from '../packages/core/src/identity/token-verifier.ts';
import { NOOP_LOGGER } from '../packages/core/src/logger.ts';
import { createTokenForge, startOidcProvider } from '../test/harness/identity.ts';
import { REPO_ROOT } from '../test/harness/repo-paths.ts';
import { CALLER_CLAIMS, policyYaml, TEAMS } from './lib/access-policy.mjs';
import { echoCall, measureCallLatency, measureCallThroughput } from './lib/call-phases.mjs';
import { countTools, waitForTools } from './lib/list-memory-phases.mjs';
import { sequential, summarize } from './lib/load.mjs';
import { openMcpSession } from './lib/mcp-http.mjs';
import { startBenchGateway, startUpstreams } from './lib/processes.mjs';
import { printComparison, writeJson } from './lib/report.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
const SIZES = QUICK
  ? { warmup: 100, calls: 400, windowMs: 1_000, windows: 2, listWarmup: 20, lists: 100, verifies: 2_000 }
  : { warmup: 300, calls: 2_000, windowMs: 5_000, windows: 2, listWarmup: 100, lists: 500, verifies: 10_000 };
const AUDIENCE = 'https://gateway.bench.local/mcp';
const log = (message) => process.stderr.write(`[bench:access] ${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const cleanups = [];
const defer = (fn) => cleanups.push(fn);

/** Polls tools/list until two answers a second apart list the same non-zero number of tools. */
async function settledToolCount(session, timeoutMs = 30_000) {
  const deadline = performance.now() + timeoutMs;
  let last = -1;
  while (performance.now() < deadline) {
    const count = countTools((await session.request('tools/list', {})).text);
    if (count > 0 && count === last) return count;
    last = count;
    await sleep(1_000);
  }
  throw new Error(`${session.url}: tools/list did not settle (last ${last})`);
}

/** tools/list at c=1 on each session, in alternating rounds; each answer must list `expected[name]` tools. */
async function measureLists(sessions, expected) {
  const send = (name) => () => sessions[name].request('tools/list', {});
  const names = Object.keys(sessions);
  for (const name of names) {
    const check = (response) => response.status === 200 && countTools(response.text) === expected[name];
    const warm = await sequential(send(name), check, { count: SIZES.listWarmup });
    if (warm.errors > 0) throw new Error(`tools/list on ${name}: ${warm.errors} wrong answers`);
  }
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  const ok = (response) => response.status === 200 && response.text.startsWith('{');
  for (let round = 0; round < 6; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      const run = await sequential(send(name), ok, { count: Math.ceil(SIZES.lists / 6) });
      if (run.errors > 0) throw new Error(`tools/list on ${name}: ${run.errors} failed`);
      samples[name].push(...run.latencies);
    }
  }
  return Object.fromEntries(names.map((name) => [name, summarize(samples[name])]));
}

/** Core's verifier given one token `count` times: signature checks made, and µs per verification. */
async function verifierChecks(idp, token) {
  const verifier = createTokenVerifier({
    oauth: { issuers: [{ issuer: idp.issuer }], audience: AUDIENCE, requiredScopes: [] },
    fetch: (input, init) => fetch(input, init),
    logger: NOOP_LOGGER,
  });
  const keys = verifier.issuers.get(idp.issuer);
  const resolve = keys.resolve;
  let checks = 0;
  // The key resolver runs once per signature check (jose's jwtVerify asks it for the key).
  keys.resolve = (...args) => {
    checks += 1;
    return resolve(...args);
  };
  const start = performance.now();
  for (let i = 0; i < SIZES.verifies; i++) {
    const outcome = await verifier.verify(`Bearer ${token}`);
    if (!outcome.ok) throw new Error(`the bench token was refused: ${outcome.refusal.description}`);
  }
  return { checks, usPerVerify: ((performance.now() - start) * 1000) / SIZES.verifies };
}

async function main() {
  const idp = await startOidcProvider();
  defer(() => idp.stop());
  const forge = createTokenForge({ issuer: idp.issuer, audience: AUDIENCE, key: idp.keys.active });
  const token = await forge.valid(CALLER_CLAIMS);
  const authorization = `Bearer ${token}`;

  const upstream = await startUpstreams(TEAMS.length, 100);
  defer(() => upstream.stop());
  const servers = TEAMS.map((team, i) => ({ ...team, url: upstream.urls[i] }));
  const accessConfig = `auth:\n  oauth:\n    issuers: [${JSON.stringify(idp.issuer)}]\n    audience: ${JSON.stringify(AUDIENCE)}\n${policyYaml()}`;
  const off = await startBenchGateway(servers);
  defer(() => off.stop());
  const on = await startBenchGateway(servers, { extraConfig: accessConfig });
  defer(() => on.stop());
  const fetchesBefore = idp.jwks.fetches();

  const sessions = {
    // The same credential both ways: off, the gateway binds the session to it without verifying it.
    off: await openMcpSession(off.url, { connections: 64, authorization }),
    on: await openMcpSession(on.url, { connections: 64, authorization }),
  };
  for (const session of Object.values(sessions)) defer(() => session.close());
  await waitForTools(sessions.off, TEAMS.length * 100);
  const visible = await settledToolCount(sessions.on);
  log(`the caller sees ${visible} of ${TEAMS.length * 100} tools through the policy`);

  // The call goes to team-3's echo; the allowances read x-tenant, which the session does not send:
  // the decision is the realistic one (rules evaluated, some failing and skipped), not a shortcut.
  const targets = {
    on: { send: echoCall(sessions.on, 't3_echo'), pid: on.pid },
    off: { send: echoCall(sessions.off, 't3_echo'), pid: off.pid },
  };
  log(`tools/call c=1: ${SIZES.calls} per gateway; c=64: ${SIZES.windows} × ${SIZES.windowMs} ms per gateway`);
  const latency = await measureCallLatency(targets, { warmup: SIZES.warmup, count: SIZES.calls });
  const throughput = await measureCallThroughput(targets, {
    ...SIZES,
    warmupMs: QUICK ? 500 : 2_000,
    upstreamPid: upstream.process.pid,
  });
  log('tools/list of 1 000 tools: filtered for the caller (on), whole (off)');
  const lists = await measureLists(sessions, { on: visible, off: TEAMS.length * 100 });
  const jwksFetches = idp.jwks.fetches() - fetchesBefore;
  log(`core's verifier given one token ${SIZES.verifies} times`);
  const verifier = await verifierChecks(idp, token);

  const added = throughput.on.relayCpuUsPerCall - throughput.off.relayCpuUsPerCall;
  const rows = [
    [
      'tools/call p50, c=1 (ms)',
      latency.on.p50.toFixed(3),
      latency.off.p50.toFixed(3),
      `+${(latency.on.p50 - latency.off.p50).toFixed(3)} ms`,
      'info',
    ],
    [
      'gateway CPU per call, c=64 (µs)',
      throughput.on.relayCpuUsPerCall.toFixed(0),
      throughput.off.relayCpuUsPerCall.toFixed(0),
      `${added >= 0 ? '+' : ''}${added.toFixed(1)} µs`,
      added <= 30 ? 'PASS (≤ +30 µs)' : 'MISS (≤ +30 µs)',
    ],
    [
      '  tools/call rate, c=64 (req/s)',
      throughput.on.perSecond.toFixed(0),
      throughput.off.perSecond.toFixed(0),
      `×${(throughput.on.perSecond / throughput.off.perSecond).toFixed(2)}`,
      'info',
    ],
    [
      `tools/list p50, c=1, ${visible} of 1 000 tools for the caller (ms)`,
      lists.on.p50.toFixed(3),
      lists.off.p50.toFixed(3),
      `p99 ${lists.on.p99.toFixed(3)}`,
      lists.on.p50 <= 5 ? 'PASS (≤ 5 ms)' : 'MISS (≤ 5 ms)',
    ],
    [
      'JWKS fetches by the gateway over the run',
      String(jwksFetches),
      '-',
      '',
      jwksFetches <= 1 ? 'PASS (≤ 1)' : 'MISS (≤ 1)',
    ],
    [
      `signature checks for one token given ${SIZES.verifies} times`,
      String(verifier.checks),
      '-',
      `${verifier.usPerVerify.toFixed(2)} µs per verify`,
      verifier.checks <= 1 ? 'PASS (≤ 1)' : 'MISS (≤ 1)',
    ],
  ];
  const errors = [latency.on, latency.off, throughput.on, throughput.off].reduce((sum, r) => sum + r.errors, 0);
  printComparison('access (issue 12)', ['on', 'off'], rows, { diffWidth: 22, errors });
  await writeJson(join(REPO_ROOT, 'bench', 'results', 'access.json'), {
    quick: QUICK,
    visibleTools: visible,
    latency,
    throughput,
    lists,
    jwksFetches,
    verifier,
  });
  if (errors > 0) throw new Error(`${errors} requests failed; the figures are not trustworthy`);
  if (process.env.BENCH_STRICT === '1' && rows.some((row) => row[4].startsWith('MISS'))) process.exitCode = 1;
}

try {
  await main();
} catch (error) {
  log(`failed: ${error.stack ?? error}`);
  process.exitCode = 2;
} finally {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
}
