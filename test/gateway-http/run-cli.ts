// Runs the `mcp-gateway` command to completion, for the start-up checks that make it exit.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../harness/index.ts';

/** The bin shim that `npx mcp-gateway` runs. */
export const GATEWAY_BIN = join(REPO_ROOT, 'packages/gateway/bin/mcp-gateway.js');

/** Gateway settings removed from the inherited environment so a developer's shell does not leak in. */
const GATEWAY_ENV = [
  'GATEWAY_SIGNING_KEY',
  'CACHE_CONNECTION_STRING',
  'OAUTH_RESOURCE_NAME',
  'OAUTH_RESOURCE',
  'OAUTH_AUTHORIZATION_SERVERS',
  'OAUTH_BEARER_METHODS_SUPPORTED',
  'OAUTH_SCOPES_SUPPORTED',
];

export interface CliRun {
  /** Exit code; null when a signal ended it. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command args` in the repository root with `env` over a cleaned environment (this
 * Node first on PATH) and resolves when it exits. A run that outlives `timeoutMs` is killed and
 * rejects with its output, so a command that starts listening instead of exiting fails the test.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 20_000,
): Promise<CliRun> {
  const childEnv: Record<string, string | undefined> = { ...process.env };
  for (const name of GATEWAY_ENV) delete childEnv[name];
  childEnv['PATH'] = `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`;
  Object.assign(childEnv, env);

  return new Promise((resolve, reject) => {
    // Its own process group, so that a timeout also ends what it started (npx → node).
    const child = spawn(command, args, {
      cwd: REPO_ROOT,
      env: childEnv,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs the gateway's bin shim with this Node. */
export function runGatewayCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCommand(process.execPath, [GATEWAY_BIN, ...args], env);
}
