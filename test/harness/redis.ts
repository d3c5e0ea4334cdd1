import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { startProcess, type RunningProcess } from './process.ts';

/** A redis-server on a loopback port of its own, with nothing persisted. */
export interface RunningRedis {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Stops the server and removes its temp directory. Safe to call more than once. */
  stop(): Promise<void>;
  /** Starts the server again on the same port (stopping it first if it runs), empty. */
  restart(): Promise<void>;
  /** Everything the current server process has printed. */
  logs(): string;
}

const INSTALL_HINT =
  "install Debian's package (apt-get update && apt-get install -y redis-server) or run .ci/run, which provisions it";

/** Throws with the install command when `redis-server` is not on PATH. */
function assertRedisInstalled(): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    const reason = probe.error?.message ?? `exited with ${probe.status}`;
    throw new Error(`startRedis: redis-server is not usable (${reason}); ${INSTALL_HINT}`);
  }
}

/**
 * Starts Debian's `redis-server` on 127.0.0.1 and a free port, in a temp directory, with
 * persistence off (`--save '' --appendonly no`), and resolves once it accepts connections.
 * @throws Error naming the install command when redis-server is not installed (no skipping).
 */
export async function startRedis(): Promise<RunningRedis> {
  assertRedisInstalled();
  const port = await freePort();
  let server: RunningProcess | undefined;
  let dir: string | undefined;

  async function start(): Promise<void> {
    dir = await mkdtemp(join(tmpdir(), 'mcpgw-redis-'));
    // Flags straight from the command line: no config file, loopback only, nothing on disk.
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];
    server = await startProcess('redis-server', args, { readyWhen: { stdout: /Ready to accept connections/ } });
  }

  async function stop(): Promise<void> {
    await server?.stop();
    server = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    async restart() {
      await stop();
      await start();
    },
    logs: () => server?.output() ?? '',
  };
}
