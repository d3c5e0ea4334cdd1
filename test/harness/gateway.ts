import { existsSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { startProcess, type RunningProcess } from './process.ts';
import { GATEWAY_CLI, REPO_ROOT } from './repo-paths.ts';

/** A fixed 32+ byte signing key, so that tests never hit the "generated a key" path by accident. */
export const TEST_SIGNING_KEY = 'mcp-gateway-test-signing-key-0123456789abcdef';

/**
 * Gateway settings a developer's shell may carry; they are removed from the inherited
 * environment so that a suite runs the same everywhere. Pass them in `env` to use them.
 */
const GATEWAY_ENV = [
  'GATEWAY_SIGNING_KEY',
  'CACHE_CONNECTION_STRING',
  'OAUTH_RESOURCE_NAME',
  'OAUTH_RESOURCE',
  'OAUTH_AUTHORIZATION_SERVERS',
  'OAUTH_BEARER_METHODS_SUPPORTED',
  'OAUTH_SCOPES_SUPPORTED',
] as const;

export interface StartGatewayOptions {
  /** The config file's YAML text. */
  config: string;
  /** Extra environment; `GATEWAY_SIGNING_KEY` defaults to {@link TEST_SIGNING_KEY}. */
  env?: Record<string, string | undefined>;
  /**
   * Extra CLI arguments after the config and address flags. Unless they name
   * `--discovery-tools-enabled`, the harness adds `--discovery-tools-enabled=false`: suites list
   * exactly their upstreams' tools, and test/discovery turns the meta-tools on.
   */
  args?: readonly string[];
  /** Readiness timeout. Default 20 000 ms. */
  timeoutMs?: number;
  /**
   * The loopback port to listen on, for a config that must name the gateway's own URL (e.g. the
   * token audience). Default: a free port picked here.
   */
  port?: number;
}

export interface WriteConfigOptions {
  /**
   * Write a sibling file and rename it over the config (as Kubernetes and many editors
   * do) instead of rewriting the file in place. Default false.
   */
  atomic?: boolean;
}

export interface RunningGateway {
  /** The MCP endpoint, `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  /** `http://127.0.0.1:<port>`, for /healthz, /status and the like. */
  readonly baseUrl: string;
  readonly port: number;
  readonly configPath: string;
  readonly process: RunningProcess;
  /** Replaces the config file's contents (the gateway hot-reloads it). */
  writeConfig(yaml: string, options?: WriteConfigOptions): Promise<void>;
  /** Everything the gateway has printed, stdout and stderr interleaved. */
  logs(): string;
  /** Stops the gateway and removes its temp directory; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** The arguments with discovery's meta-tools off unless they say otherwise. */
export function withDiscoveryDefault(args: readonly string[]): readonly string[] {
  const named = args.some((arg) => /^--(no-)?discovery-tools-enabled(=|$)/.test(arg));
  return named ? args : ['--discovery-tools-enabled=false', ...args];
}

/**
 * Runs the built gateway (`packages/gateway/dist/cli.js`) on a free loopback port with
 * `config` as its config file and resolves once `GET /healthz` answers 2xx.
 */
export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  if (!existsSync(GATEWAY_CLI)) {
    throw new Error(`startGateway: ${GATEWAY_CLI} does not exist; run \`npm run build\` first`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'mcp-gateway-test-'));
  const configPath = join(dir, 'config.yaml');
  await writeFile(configPath, options.config);

  const port = options.port ?? (await freePort());
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: Record<string, string | undefined> = Object.fromEntries(GATEWAY_ENV.map((name) => [name, undefined]));
  Object.assign(env, { GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY }, options.env);

  let child: RunningProcess;
  try {
    child = await startProcess(
      process.execPath,
      [
        GATEWAY_CLI,
        '--mcp-gateway-config',
        configPath,
        '--mcp-broker-public-address',
        `127.0.0.1:${port}`,
        ...withDiscoveryDefault(options.args ?? []),
      ],
      {
        cwd: REPO_ROOT,
        env,
        readyWhen: { url: `${baseUrl}/healthz` },
        ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
      },
    );
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    url: `${baseUrl}/mcp`,
    baseUrl,
    port,
    configPath,
    process: child,
    async writeConfig(yaml, { atomic = false } = {}) {
      if (!atomic) {
        await writeFile(configPath, yaml);
        return;
      }
      const next = `${configPath}.next`;
      await writeFile(next, yaml);
      await rename(next, configPath);
    },
    logs: () => child.output(),
    async stop() {
      const code = await child.stop();
      await rm(dir, { recursive: true, force: true });
      return code;
    },
  };
}
