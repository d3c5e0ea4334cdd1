import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from './free-port.ts';
import { startProcess, type RunningProcess } from './process.ts';

/** The Go server program (main.go, go.mod and go.sum pin the official Go SDK). */
export const GO_UPSTREAM_SOURCES = fileURLToPath(new URL('./fixtures/go-upstream/', import.meta.url));

/** Builds are cached here, one folder per hash of the sources. */
export const GO_UPSTREAM_CACHE = join(homedir(), '.cache', 'mcpgw-go');

/** Longest a cold build may take (module downloads included). */
export const GO_BUILD_TIMEOUT_MS = 300_000;

const INSTALL_HINT = 'install Go >= 1.25 or run .ci/run, whose provision_go step checks it and downloads the modules';

export interface GoUpstreamOptions {
  /**
   * Serve every request on its own (the Go SDK's `Stateless` option), which is how it speaks
   * 2026-07-28; server-to-client requests are then impossible. Default false: stateful, legacy era.
   */
  stateless?: boolean;
  /** Readiness timeout. Default 20 000 ms. */
  timeoutMs?: number;
}

/** The Go SDK server of {@link GO_UPSTREAM_SOURCES}, serving streamable HTTP on a loopback port. */
export interface GoUpstream {
  /** `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  readonly port: number;
  readonly process: RunningProcess;
  /** Everything the server has printed. */
  logs(): string;
  /** Stops the server. Safe to call twice. */
  stop(): Promise<void>;
}

let built: Promise<string> | undefined;

/**
 * The path of the built program, building it first when this hash of its sources has no
 * binary in {@link GO_UPSTREAM_CACHE} yet. A build goes to a temporary folder renamed into
 * place, so processes building at the same time never see half a binary. Cached per process.
 * @throws Error naming the install step when Go is missing, or with the compiler's output.
 */
export function goUpstreamBinary(): Promise<string> {
  built ??= buildOnce().catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return built;
}

/**
 * Builds (or reuses) the Go SDK server and runs it on a free loopback port; resolves once its
 * `/healthz` answers. Call it from a hook whose timeout allows a cold build
 * ({@link GO_BUILD_TIMEOUT_MS}); a cached build starts in well under a second.
 */
export async function startGoUpstream(options: GoUpstreamOptions = {}): Promise<GoUpstream> {
  const binary = await goUpstreamBinary();
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const args = ['-port', String(port), ...(options.stateless === true ? ['-stateless'] : [])];
  const child = await startProcess(binary, args, {
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

async function buildOnce(): Promise<string> {
  const dir = join(GO_UPSTREAM_CACHE, await hashSources());
  const binary = join(dir, 'go-upstream');
  if (existsSync(binary)) return binary;

  await mkdir(GO_UPSTREAM_CACHE, { recursive: true });
  const staging = await mkdtemp(join(GO_UPSTREAM_CACHE, 'build-'));
  try {
    await promisify(execFile)('go', ['build', '-trimpath', '-o', join(staging, 'go-upstream'), '.'], {
      cwd: GO_UPSTREAM_SOURCES,
      timeout: GO_BUILD_TIMEOUT_MS,
      env: { ...process.env, GOFLAGS: '-mod=readonly -buildvcs=false', CGO_ENABLED: '0' },
    });
    await rename(staging, dir).catch((error: NodeJS.ErrnoException) => {
      // Another process renamed its build into place first: use that one.
      if (!existsSync(binary)) throw error;
    });
  } catch (error) {
    const { code, stderr } = error as NodeJS.ErrnoException & { stderr?: string };
    if (code === 'ENOENT') throw new Error(`startGoUpstream: no go on PATH; ${INSTALL_HINT}`, { cause: error });
    throw new Error(`startGoUpstream: go build failed in ${GO_UPSTREAM_SOURCES}\n${stderr ?? String(error)}`, {
      cause: error,
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return binary;
}

/** sha256 over the name and bytes of every source file, so any edit makes a new build. */
async function hashSources(): Promise<string> {
  const hash = createHash('sha256');
  const names = (await readdir(GO_UPSTREAM_SOURCES)).filter((name) => /\.go$|^go\.(mod|sum)$/.test(name)).sort();
  for (const name of names) {
    hash.update(`${name}\0`);
    hash.update(await readFile(join(GO_UPSTREAM_SOURCES, name)));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}
