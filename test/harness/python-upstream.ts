import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.ts';
import { startProcess, type RunningProcess } from './process.ts';

/** The folder of the FastMCP fixture scripts and of the `requirements.txt` that pins the SDK. */
export const PYTHON_FIXTURES = fileURLToPath(new URL('./fixtures/python/', import.meta.url));

/** The pinned version of PyPI's `mcp`, read from the fixtures' `requirements.txt` (`.ci/run` reads it too). */
export const PYTHON_MCP_VERSION = readPinnedVersion();

/** The virtualenv `.ci/run` (provision_python_mcp) installs the pinned `mcp` into. */
export const PYTHON_MCP_VENV = join(homedir(), '.cache', 'mcpgw-python', PYTHON_MCP_VERSION);

const INSTALL_HINT = `run .ci/run (its provision_python_mcp step installs mcp==${PYTHON_MCP_VERSION} into ${PYTHON_MCP_VENV})`;

export interface PythonUpstreamOptions {
  /** A FastMCP script: a file name in {@link PYTHON_FIXTURES}, or an absolute path. */
  script: string;
  /** Extra environment for the script. */
  env?: Record<string, string>;
  /** Readiness timeout. Default 20 000 ms. */
  timeoutMs?: number;
}

/** A FastMCP server of the official Python SDK, serving streamable HTTP on a loopback port. */
export interface PythonUpstream {
  /** `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  readonly port: number;
  readonly process: RunningProcess;
  /** Everything the server has printed. */
  logs(): string;
  /** Stops the server. Safe to call twice. */
  stop(): Promise<void>;
}

let checkedPython: string | undefined;

/**
 * The venv's python, checked once to import the pinned `mcp`.
 * @throws Error naming the .ci/run step when the venv is missing or holds another version (no skipping).
 */
export function pythonBinary(): string {
  if (checkedPython !== undefined) return checkedPython;
  const python = join(PYTHON_MCP_VENV, 'bin', 'python');
  const probe = spawnSync(python, ['-c', 'import importlib.metadata as m; print(m.version("mcp"))'], {
    encoding: 'utf8',
  });
  if (probe.error !== undefined || probe.status !== 0) {
    const reason = probe.error?.message ?? probe.stderr.trim().split('\n').at(-1) ?? `exited with ${probe.status}`;
    throw new Error(`startPythonUpstream: no usable mcp in ${PYTHON_MCP_VENV} (${reason}); ${INSTALL_HINT}`);
  }
  if (probe.stdout.trim() !== PYTHON_MCP_VERSION) {
    throw new Error(`startPythonUpstream: ${PYTHON_MCP_VENV} holds mcp ${probe.stdout.trim()}; ${INSTALL_HINT}`);
  }
  checkedPython = python;
  return python;
}

/**
 * Runs a FastMCP script with the pinned Python SDK on a free loopback port and resolves once
 * its `/healthz` answers. The script gets the port in `MCPGW_PORT` (and `MCPGW_HOST`); the
 * fixtures' `harness_serve.py` binds it, adds `/healthz` and serves streamable HTTP on `/mcp`.
 * @throws Error naming the .ci/run step when the SDK is not provisioned, or with the script's
 *   output when it exits or is not ready in time.
 */
export async function startPythonUpstream(options: PythonUpstreamOptions): Promise<PythonUpstream> {
  const python = pythonBinary();
  const script = isAbsolute(options.script) ? options.script : join(PYTHON_FIXTURES, options.script);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = await startProcess(python, [script], {
    env: {
      ...options.env,
      MCPGW_PORT: String(port),
      MCPGW_HOST: '127.0.0.1',
      PYTHONUNBUFFERED: '1',
      PYTHONDONTWRITEBYTECODE: '1',
    },
    readyWhen: { url: `${baseUrl}/healthz` },
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
  });
  return {
    url: `${baseUrl}/mcp`,
    port,
    process: child,
    logs: () => child.output(),
    async stop() {
      await child.stop();
    },
  };
}

function readPinnedVersion(): string {
  const requirements = readFileSync(join(PYTHON_FIXTURES, 'requirements.txt'), 'utf8');
  const version = /^mcp==(\S+)$/m.exec(requirements)?.[1];
  if (version === undefined) throw new Error(`${PYTHON_FIXTURES}requirements.txt pins no mcp==<version>`);
  return version;
}
