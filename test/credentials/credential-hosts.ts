// The three hosts of the credentials suites, each reached over real HTTP at the URL its callers'
// tokens name as their audience: the broker (the built CLI), the router (the built CLI with
// --mcp-router-address behind a real Envoy, reached on Envoy's listener) and the worker (the
// built bundle in workerd through Miniflare on a loopback port). Each is started with URL
// elicitation on (`--enable-url-elicitation`, or ENABLE_URL_ELICITATION in the worker) and the
// config its suite writes for the host's own URL.
import type { Readable } from 'node:stream';
import { Miniflare } from 'miniflare';
import { renderEnvoyBootstrap } from '../../infra/envoy/render-bootstrap.mjs';
import { waitForHealthy } from '../gateway-http/helpers.ts';
import {
  freePort,
  startEnvoy,
  startGateway,
  TEST_SIGNING_KEY,
  type RunningEnvoy,
  type RunningGateway,
} from '../harness/index.ts';
import {
  assertWorkerBuilt,
  COMPATIBILITY_DATE,
  COMPATIBILITY_FLAGS,
  SESSION_OBJECT_BINDING,
  WORKER_BUNDLE,
} from '../workerd/start-worker.ts';
import type { CredentialServer } from './credential-config.ts';

/** The three hosts, as test names say them. */
export const CREDENTIAL_HOST_KINDS = ['broker', 'router', 'worker'] as const;
export type CredentialHostKind = (typeof CREDENTIAL_HOST_KINDS)[number];

/** The public host the router is started with: the /tokens URLs it hands out name it. */
export const ROUTER_PUBLIC_HOST = 'mcp.example.com';

/** Where a host is, for the config it is started with. */
export interface HostAddress {
  /** The MCP endpoint clients use: the audience of their tokens. */
  readonly url: string;
  /** `http://127.0.0.1:<port>`: where a browser reaches the /tokens pages. */
  readonly baseUrl: string;
  /** The origins the host may name itself by in the URLs it hands out (for the login's redirect_uri). */
  readonly origins: readonly string[];
}

/** What a host is started with. */
export interface CredentialHostOptions {
  /** The upstreams (the router's Envoy routes to each by its hostname, default `<name>.mcp.local`). */
  readonly servers: readonly CredentialServer[];
  /** The config for the host at `address`. */
  config(address: HostAddress): string | Promise<string>;
  /** Extra environment of the CLI, extra bindings of the worker (e.g. CREDENTIAL_ENCRYPTION_KEYS). */
  readonly env?: Readonly<Record<string, string>>;
  /** URL elicitation on. Default true. */
  readonly urlElicitation?: boolean;
}

/** A running host. */
export interface CredentialHost extends HostAddress {
  readonly kind: CredentialHostKind;
  /** Hosts other than the listener's that its URLs name (the router's public host). */
  readonly publicHosts: readonly string[];
  /** The CLI behind it (broker and router). */
  readonly gateway?: RunningGateway;
  readonly envoy?: RunningEnvoy;
  /** Everything the host printed. */
  logs(): string;
  stop(): Promise<void>;
}

/** Starts the host of `kind`. */
export function startCredentialHost(kind: CredentialHostKind, options: CredentialHostOptions): Promise<CredentialHost> {
  switch (kind) {
    case 'broker':
      return startBroker(options);
    case 'router':
      return startRouter(options);
    case 'worker':
      return startWorkerHost(options);
  }
}

function bothSchemes(host: string): string[] {
  return [`http://${host}`, `https://${host}`];
}

function cliArgs(options: CredentialHostOptions): string[] {
  return ['--log-level', 'debug', ...(options.urlElicitation === false ? [] : ['--enable-url-elicitation'])];
}

/** The built CLI on a loopback port. */
export async function startBroker(
  options: CredentialHostOptions,
): Promise<CredentialHost & { gateway: RunningGateway }> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const address = { url: `${baseUrl}/mcp`, baseUrl, origins: bothSchemes(`127.0.0.1:${port}`) };
  const gateway = await startGateway({
    port,
    config: await options.config(address),
    args: cliArgs(options),
    ...(options.env === undefined ? {} : { env: { ...options.env } }),
  });
  try {
    await waitForHealthy(gateway, options.servers.length);
  } catch (error) {
    await gateway.stop();
    throw error;
  }
  return {
    ...address,
    kind: 'broker',
    publicHosts: [],
    gateway,
    logs: () => gateway.logs(),
    stop: async () => void (await gateway.stop()),
  };
}

/** The built CLI with its router behind a real Envoy rendered by infra/envoy/render-bootstrap.mjs. */
export async function startRouter(
  options: CredentialHostOptions,
): Promise<CredentialHost & { gateway: RunningGateway; envoy: RunningEnvoy }> {
  const [routerPort, listenerPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const baseUrl = `http://127.0.0.1:${listenerPort}`;
  const address = {
    url: `${baseUrl}/mcp`,
    baseUrl,
    origins: [...bothSchemes(ROUTER_PUBLIC_HOST), ...bothSchemes(`127.0.0.1:${listenerPort}`)],
  };
  const gateway = await startGateway({
    config: await options.config(address),
    args: [
      ...cliArgs(options),
      '--mcp-router-address',
      `127.0.0.1:${routerPort}`,
      '--mcp-gateway-public-host',
      ROUTER_PUBLIC_HOST,
    ],
    ...(options.env === undefined ? {} : { env: { ...options.env } }),
  });
  let envoy: RunningEnvoy;
  try {
    await waitForHealthy(gateway, options.servers.length);
    envoy = await startEnvoy({
      config: renderEnvoyBootstrap({
        listenerPort,
        adminPort,
        brokerAddress: `127.0.0.1:${gateway.port}`,
        extProcAddress: `127.0.0.1:${routerPort}`,
        upstreams: options.servers.map((server) => {
          const url = new URL(server.url);
          return {
            name: server.name,
            hostname: server.hostname ?? `${server.name}.mcp.local`,
            address: url.host,
            path: url.pathname,
          };
        }),
      }),
    });
  } catch (error) {
    await gateway.stop();
    throw error;
  }
  return {
    ...address,
    kind: 'router',
    publicHosts: [ROUTER_PUBLIC_HOST],
    gateway,
    envoy,
    logs: () => `${gateway.logs()}\n${envoy.logs()}`,
    async stop() {
      await envoy.stop();
      await gateway.stop();
    },
  };
}

/** The built worker in workerd (Miniflare) on a loopback port, with the Durable Object binding wrangler.toml deploys. */
export async function startWorkerHost(options: CredentialHostOptions): Promise<CredentialHost & { mf: Miniflare }> {
  assertWorkerBuilt();
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const address = { url: `${baseUrl}/mcp`, baseUrl, origins: bothSchemes(`127.0.0.1:${port}`) };
  let output = '';
  const capture = (stream: Readable) => stream.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const mf = new Miniflare({
    modules: true,
    scriptPath: WORKER_BUNDLE,
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: [...COMPATIBILITY_FLAGS],
    bindings: {
      MCP_GATEWAY_CONFIG: await options.config(address),
      GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY,
      DISCOVERY_TOOLS_ENABLED: 'false',
      ...(options.urlElicitation === false ? {} : { ENABLE_URL_ELICITATION: 'true' }),
      ...options.env,
    },
    durableObjects: SESSION_OBJECT_BINDING,
    host: '127.0.0.1',
    port,
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      capture(stdout);
      capture(stderr);
    },
  });
  await mf.ready;
  return { ...address, kind: 'worker', publicHosts: [], mf, logs: () => output, stop: () => mf.dispose() };
}

/**
 * How many requests Envoy sent straight to the upstream `name` (calls the router routed itself,
 * not through the broker); undefined for a host without Envoy.
 */
export async function routedByEnvoy(host: CredentialHost, name: string): Promise<number | undefined> {
  if (host.envoy === undefined) return undefined;
  const stat = `cluster.upstream_${name}.upstream_rq_total`;
  const text = await (await fetch(`${host.envoy.adminUrl}/stats?filter=${encodeURIComponent(`^${stat}$`)}`)).text();
  const match = /: (\d+)/.exec(text);
  return match === null ? 0 : Number(match[1]);
}
