import { spawn, type ChildProcess } from 'node:child_process';

/** When a started process counts as ready; every given condition must hold. */
export interface ReadyWhen {
  /** Polled with GET until it answers 2xx. */
  url?: string;
  /** Matched against everything the process has written to stdout so far. */
  stdout?: RegExp;
  /** Matched against everything the process has written to stderr so far. */
  stderr?: RegExp;
}

export interface StartProcessOptions {
  /** Merged over `process.env`; a key set to `undefined` removes an inherited variable. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  readyWhen?: ReadyWhen;
  /** How long to wait for readiness before killing the process. Default 20 000 ms. */
  timeoutMs?: number;
}

export interface RunningProcess {
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr interleaved in arrival order. */
  output(): string;
  /**
   * Signals the whole process group (default SIGTERM), escalates to SIGKILL after
   * `graceMs` (default 5 000 ms) and resolves with the exit code (null when a signal
   * ended it). Safe to call more than once and after the process exited by itself.
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
  /** Resolves with the exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
}

const DEFAULT_READY_TIMEOUT_MS = 20_000;
const DEFAULT_STOP_GRACE_MS = 5_000;
const READY_POLL_MS = 100;
const OUTPUT_TAIL_CHARS = 4_000;

/**
 * Process groups still running. Children start in their own group (detached) so that
 * stop() also reaches grandchildren (npx → node); the same detachment means they would
 * outlive the test process, hence this safety net, which does not depend on afterAll.
 */
const liveGroups = new Set<number>();
let safetyNetInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function installSafetyNet(): void {
  if (safetyNetInstalled) return;
  safetyNetInstalled = true;
  const killAll = () => {
    for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
    liveGroups.clear();
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      // With no other listener, keep the default behaviour: die of the same signal.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/**
 * Spawns `command` in its own process group, captures its output and resolves once
 * `readyWhen` holds. Rejects, after killing it, when the process exits or the timeout
 * passes first; the error carries the tail of its output.
 */
export async function startProcess(
  command: string,
  args: readonly string[],
  options: StartProcessOptions = {},
): Promise<RunningProcess> {
  installSafetyNet();
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];

  const child = spawn(command, args, {
    cwd: options.cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const running = track(child, `${command} ${args.join(' ')}`);
  try {
    await waitUntilReady(running, child, options.readyWhen ?? {}, options.timeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
  } catch (error) {
    await running.stop('SIGKILL');
    throw error;
  }
  return running;
}

type TrackedProcess = RunningProcess & { describe(reason: string): Error };

function track(child: ChildProcess, description: string): TrackedProcess {
  let stdout = '';
  let stderr = '';
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    output += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    output += chunk;
  });

  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      exitCode = code;
      if (child.pid !== undefined) {
        liveGroups.delete(child.pid);
        // Leftover grandchildren in the group go with their leader.
        killGroup(child.pid, 'SIGKILL');
      }
      resolve(code);
    });
    // A spawn failure (ENOENT) emits 'error' and never 'exit'.
    child.once('error', () => {
      exitCode ??= null;
      resolve(null);
    });
  });
  if (child.pid !== undefined) liveGroups.add(child.pid);

  return {
    get pid() {
      return child.pid ?? -1;
    },
    stdout: () => stdout,
    stderr: () => stderr,
    output: () => output,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = DEFAULT_STOP_GRACE_MS) {
      if (exitCode !== undefined || child.pid === undefined) return exited;
      killGroup(child.pid, signal);
      const timer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    describe(reason: string) {
      const tail = output.length > OUTPUT_TAIL_CHARS ? `…${output.slice(-OUTPUT_TAIL_CHARS)}` : output;
      return new Error(`${description}: ${reason}\n--- output ---\n${tail || '(none)'}`);
    },
  };
}

async function waitUntilReady(
  running: TrackedProcess,
  child: ChildProcess,
  readyWhen: ReadyWhen,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedEarly = false;
  void running.exited.then(() => (exitedEarly = true));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error) => reject(running.describe(`could not start (${error.message})`)));
  });

  for (;;) {
    if (exitedEarly) {
      throw running.describe(`exited with code ${await running.exited} before it was ready`);
    }
    if (await isReady(running, readyWhen)) return;
    if (Date.now() > deadline) {
      throw running.describe(`not ready after ${timeoutMs} ms (waiting for ${describeReadyWhen(readyWhen)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
}

async function isReady(running: RunningProcess, readyWhen: ReadyWhen): Promise<boolean> {
  if (readyWhen.stdout && !readyWhen.stdout.test(running.stdout())) return false;
  if (readyWhen.stderr && !readyWhen.stderr.test(running.stderr())) return false;
  if (readyWhen.url) {
    try {
      const response = await fetch(readyWhen.url, { signal: AbortSignal.timeout(1_000) });
      await response.body?.cancel();
      if (!response.ok) return false;
    } catch {
      return false;
    }
  }
  return true;
}

function describeReadyWhen(readyWhen: ReadyWhen): string {
  const parts = [
    readyWhen.url && `GET ${readyWhen.url} to answer 2xx`,
    readyWhen.stdout && `stdout to match ${readyWhen.stdout}`,
    readyWhen.stderr && `stderr to match ${readyWhen.stderr}`,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(' and ') : 'the process to spawn';
}
