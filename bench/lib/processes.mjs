// Starting the bench's processes (upstreams, gateways) with the test harness's
// startProcess (own process group, stopped with the group, killed if the bench dies),
// and reading a process's memory and CPU time from /proc.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/harness/free-port.ts';
import { startProcess } from '../../test/harness/process.ts';
import { GATEWAY_CLI, REPO_ROOT } from '../../test/harness/repo-paths.ts';

const UPSTREAM_SCRIPT = join(REPO_ROOT, 'bench', 'upstream.mjs');
const GC_PRELOAD = join(REPO_ROOT, 'bench', 'gc-signal.mjs');
const RELAY_SCRIPT = join(REPO_ROOT, 'bench', 'bare-relay.mjs');
const NULL_EXT_PROC_SCRIPT = join(REPO_ROOT, 'bench', 'null-ext-proc.mjs');
const SIGNING_KEY = 'mcp-gateway-bench-signing-key-0123456789abcdef';

/** Starts `servers` SDK upstreams with `tools` tools each in one process; resolves with their URLs. */
export async function startUpstreams(servers, tools) {
  const child = await startProcess(process.execPath, [UPSTREAM_SCRIPT, String(servers), String(tools)], {
    cwd: REPO_ROOT,
    readyWhen: { stdout: /BENCH_UPSTREAM_READY .*\n/ },
    timeoutMs: 30_000,
  });
  const line = /BENCH_UPSTREAM_READY (.*)\n/.exec(child.stdout())[1];
  return { process: child, urls: JSON.parse(line).urls, stop: () => child.stop() };
}

/** Starts the bare reference relay (bench/bare-relay.mjs) in front of `upstreamUrl`; see there for in/out. */
export async function startBareRelay(upstreamUrl, inbound = 'node', outbound = 'undici') {
  const child = await startProcess(process.execPath, [RELAY_SCRIPT, upstreamUrl, inbound, outbound], {
    cwd: REPO_ROOT,
    readyWhen: { stdout: /BENCH_RELAY_READY .*\n/ },
    timeoutMs: 30_000,
  });
  const line = /BENCH_RELAY_READY (.*)\n/.exec(child.stdout())[1];
  return { process: child, pid: child.pid, url: JSON.parse(line).url, stop: () => child.stop() };
}

/** Starts bench/null-ext-proc.mjs, a do-nothing ext_proc processor; resolves with its port. */
export async function startNullExtProc() {
  const child = await startProcess(process.execPath, [NULL_EXT_PROC_SCRIPT], {
    cwd: REPO_ROOT,
    readyWhen: { stdout: /BENCH_NULL_EXT_PROC_READY .*\n/ },
    timeoutMs: 30_000,
  });
  const line = /BENCH_NULL_EXT_PROC_READY (.*)\n/.exec(child.stdout())[1];
  return { port: JSON.parse(line).port, stop: () => child.stop() };
}

/**
 * Starts the built gateway in front of `upstreams` (`[{ name, url, prefix, hostname? }]`) on a
 * free port; `args` are more gateway flags (--mcp-router-address …). `nodeArgs` go before the script (--cpu-prof, --expose-gc …); `gcSignal` preloads
 * bench/gc-signal.mjs so that `settle()` can force a full GC; `cacheConnectionString` sets
 * CACHE_CONNECTION_STRING (shared state in that Redis; without it the store is in memory).
 * `cli` is the built gateway to run; default this checkout's packages/gateway/dist/cli.js
 * (BENCH_BASELINE gives another checkout's).
 */
export async function startBenchGateway(
  upstreams,
  {
    nodeArgs = [],
    args = [],
    gcSignal = false,
    cacheConnectionString,
    cli = GATEWAY_CLI,
    extraConfig = '',
    env = {},
  } = {},
) {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-gateway-bench-'));
  const configPath = join(dir, 'config.yaml');
  const servers = upstreams.map(
    (u) =>
      `  - name: ${u.name}\n    url: ${u.url}\n    prefix: ${u.prefix}\n${u.hostname ? `    hostname: ${u.hostname}\n` : ''}${u.yaml ?? ''}`,
  );
  await writeFile(configPath, `servers:\n${servers.join('')}${extraConfig}`);
  const port = await freePort();
  const preload = gcSignal ? ['--expose-gc', '--import', GC_PRELOAD] : [];
  let child;
  try {
    child = await startProcess(
      process.execPath,
      [
        ...preload,
        ...nodeArgs,
        cli,
        '--mcp-gateway-config',
        configPath,
        '--mcp-broker-public-address',
        `127.0.0.1:${port}`,
        // The other benches measure the upstreams' own lists; bench/discovery.mjs turns the meta-tools on.
        ...(args.some((arg) => /^--(no-)?discovery-tools-enabled(=|$)/.test(arg))
          ? args
          : ['--discovery-tools-enabled=false', ...args]),
      ],
      {
        cwd: REPO_ROOT,
        env: { GATEWAY_SIGNING_KEY: SIGNING_KEY, CACHE_CONNECTION_STRING: cacheConnectionString, ...env },
        readyWhen: { url: `http://127.0.0.1:${port}/healthz` },
        timeoutMs: 30_000,
      },
    );
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  let gcSeq = 0;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    pid: child.pid,
    process: child,
    /** Forces two full GCs in the gateway (gcSignal only); resolves with process.memoryUsage() there. */
    async settle() {
      gcSeq += 1;
      const marker = new RegExp(`BENCH_GC ${gcSeq} (.*)\\n`);
      process.kill(child.pid, 'SIGUSR2');
      for (let i = 0; i < 100; i++) {
        const match = marker.exec(child.stderr());
        if (match) return JSON.parse(match[1]);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('the gateway did not answer the GC signal within 5 s');
    },
    async stop() {
      const code = await child.stop();
      await rm(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/** VmRSS of a process in bytes, from /proc/<pid>/status. */
export async function readRss(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (match === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** User + system CPU time of a process in ms, from /proc/<pid>/stat (clock ticks of 10 ms). */
export async function readCpuMs(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
