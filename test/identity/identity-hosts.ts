// The three hosts with token verification configured, each reached over real HTTP at the URL its
// tokens name as their audience: the broker (the built CLI), the router (the built CLI with
// --mcp-router-address behind a real Envoy, reached on Envoy's public listener) and the worker
// (the built bundle in workerd through Miniflare, listening on a loopback port). All three
// capture their logs, so that a test can check that no token was written there.
import type { Readable } from 'node:stream';
import { Miniflare } from 'miniflare';
import { z } from 'zod';
import { renderEnvoyBootstrap } from '../../infra/envoy/render-bootstrap.mjs';
import { hostConfig, httpHostAt, type HostServer, type HttpHost } from '../attacker/http-hosts.ts';
import {
  freePort,
  startEnvoy,
  startGateway,
  startSdkUpstream,
  TEST_SIGNING_KEY,
  type RecordedRequest,
  type RunningEnvoy,
  type RunningGateway,
  type SdkUpstream,
} from '../harness/index.ts';
import {
  assertWorkerBuilt,
  COMPATIBILITY_DATE,
  COMPATIBILITY_FLAGS,
  SESSION_OBJECT_BINDING,
  WORKER_BUNDLE,
} from '../workerd/start-worker.ts';

/** The three hosts, as test names say them. */
export const HOST_KINDS = ['broker', 'router', 'worker'] as const;
export type HostKind = (typeof HOST_KINDS)[number];

/** The public host the router forces on requests for the broker (its --mcp-gateway-public-host). */
export const PUBLIC_HOST = 'mcp.example.com';

/** `auth.oauth` of a host's config; the audience defaults to the host's own MCP URL. */
export interface OAuthSection {
  readonly issuers: readonly string[];
  /** The audience; default the host's MCP URL; `null` leaves it out of the config. */
  readonly audience?: string | null;
  readonly requiredScopes?: readonly string[];
}

/** A gateway config: `servers` (each with a hostname, for the router) and, when given, `auth.oauth`. */
export function identityConfig(servers: readonly HostServer[], oauth?: OAuthSection & { audience: string | null }) {
  let yaml = hostConfig(servers);
  if (oauth === undefined) return yaml;
  yaml += 'auth:\n  oauth:\n';
  yaml += `    issuers: [${oauth.issuers.map((issuer) => JSON.stringify(issuer)).join(', ')}]\n`;
  if (oauth.audience !== null) yaml += `    audience: ${JSON.stringify(oauth.audience)}\n`;
  if (oauth.requiredScopes !== undefined) {
    yaml += `    requiredScopes: [${oauth.requiredScopes.map((scope) => JSON.stringify(scope)).join(', ')}]\n`;
  }
  return yaml;
}

/** What a host is started with. */
export interface IdentityHostOptions {
  /** The upstreams; each gets the hostname `<name>.mcp.local` unless it has one. */
  readonly servers: readonly HostServer[];
  /** Token verification; none: the config has no `auth` section. */
  readonly oauth?: OAuthSection;
  /** Audit records of every decision on a call, to stdout (the worker: its console). Default false. */
  readonly audit?: boolean;
  /** Extra environment of the CLI (broker and router), extra bindings of the worker. */
  readonly env?: Readonly<Record<string, string>>;
}

/** A host reached over HTTP at its public URL. */
export interface IdentityHost extends HttpHost {
  readonly kind: HostKind;
  /** The MCP endpoint clients use, `http://127.0.0.1:<port>/mcp`: the tokens' audience. */
  readonly url: string;
  readonly baseUrl: string;
  /** The CLI gateway behind it (broker and router), for config reloads. */
  readonly gateway?: RunningGateway;
  /** The Envoy in front of the router. */
  readonly envoy?: RunningEnvoy;
}

/** Starts the host of `kind`. */
export function startIdentityHost(kind: HostKind, options: IdentityHostOptions): Promise<IdentityHost> {
  switch (kind) {
    case 'broker':
      return startBroker(options);
    case 'router':
      return startRouterBehindEnvoy(options);
    case 'worker':
      return startWorker(options);
  }
}

function withHostnames(servers: readonly HostServer[]): HostServer[] {
  return servers.map((server) => ({ ...server, hostname: server.hostname ?? `${server.name}.mcp.local` }));
}

function configFor(options: IdentityHostOptions, url: string): string {
  const oauth = options.oauth;
  const yaml = identityConfig(
    withHostnames(options.servers),
    oauth === undefined ? undefined : { ...oauth, audience: oauth.audience === undefined ? url : oauth.audience },
  );
  return options.audit === true ? `${yaml}audit:\n  destination: stdout\n` : yaml;
}

/** The built CLI on a loopback port, logging at debug (a token there would count too). */
export async function startBroker(options: IdentityHostOptions): Promise<IdentityHost & { gateway: RunningGateway }> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const gateway = await startGateway({
    port,
    config: configFor(options, `${baseUrl}/mcp`),
    args: ['--log-level', 'debug'],
    ...(options.env === undefined ? {} : { env: { ...options.env } }),
  });
  await waitForUpstreams(gateway, options.servers.length);
  const http = httpHostAt('broker', baseUrl, gateway.logs, () => gateway.stop().then(() => undefined));
  return { ...http, kind: 'broker', url: gateway.url, baseUrl, gateway };
}

/**
 * The built CLI with its router (--mcp-router-address) behind a real Envoy rendered by
 * infra/envoy/render-bootstrap.mjs: clients reach Envoy's listener, whose URL is the audience.
 */
export async function startRouterBehindEnvoy(
  options: IdentityHostOptions,
): Promise<IdentityHost & { gateway: RunningGateway; envoy: RunningEnvoy }> {
  const servers = withHostnames(options.servers);
  const [routerPort, listenerPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const baseUrl = `http://127.0.0.1:${listenerPort}`;
  const gateway = await startGateway({
    config: configFor(options, `${baseUrl}/mcp`),
    args: [
      '--mcp-router-address',
      `127.0.0.1:${routerPort}`,
      '--mcp-gateway-public-host',
      PUBLIC_HOST,
      '--log-level',
      'debug',
    ],
    ...(options.env === undefined ? {} : { env: { ...options.env } }),
  });
  let envoy: RunningEnvoy;
  try {
    await waitForRouter(gateway);
    await waitForUpstreams(gateway, servers.length);
    envoy = await startEnvoy({
      config: renderEnvoyBootstrap({
        listenerPort,
        adminPort,
        brokerAddress: `127.0.0.1:${gateway.port}`,
        extProcAddress: `127.0.0.1:${routerPort}`,
        upstreams: servers.map((server) => {
          const url = new URL(server.url);
          return { name: server.name, hostname: server.hostname!, address: url.host, path: url.pathname };
        }),
      }),
    });
  } catch (error) {
    await gateway.stop();
    throw error;
  }
  const logs = () => `${gateway.logs()}\n${envoy.logs()}`;
  const stop = async () => {
    await envoy.stop();
    await gateway.stop();
  };
  return {
    ...httpHostAt('router', baseUrl, logs, stop),
    kind: 'router',
    url: `${baseUrl}/mcp`,
    baseUrl,
    gateway,
    envoy,
  };
}

async function waitForRouter(gateway: RunningGateway): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!gateway.logs().includes('mcp router (Envoy ext_proc) listening')) {
    if (Date.now() > deadline) throw new Error(`the router did not start:\n${gateway.logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Waits until the CLI gateway's /status counts `count` healthy upstreams: a call sent before the
 * gateway has listed an upstream's tools would not find them. (The worker lists its upstreams
 * within the first request that needs them.)
 */
async function waitForUpstreams(gateway: RunningGateway, count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const status = (await (await fetch(`${gateway.baseUrl}/status`)).json()) as { healthyServers?: number };
    if ((status.healthyServers ?? 0) >= count) return;
    if (Date.now() > deadline) throw new Error(`${count} upstream(s) not healthy after 15 s:\n${gateway.logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The built worker in workerd (Miniflare) listening on a loopback port, with the Durable Object
 * binding wrangler.toml deploys; MCP_GATEWAY_CONFIG carries `auth.oauth`; workerd's output is kept.
 */
export async function startWorker(options: IdentityHostOptions): Promise<IdentityHost & { mf: Miniflare }> {
  assertWorkerBuilt();
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  let output = '';
  const capture = (stream: Readable) => stream.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const mf = new Miniflare({
    modules: true,
    scriptPath: WORKER_BUNDLE,
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: [...COMPATIBILITY_FLAGS],
    bindings: {
      MCP_GATEWAY_CONFIG: configFor(options, `${baseUrl}/mcp`),
      GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY,
      DISCOVERY_TOOLS_ENABLED: 'false',
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
  const http = httpHostAt(
    'worker',
    baseUrl,
    () => output,
    () => mf.dispose(),
  );
  return { ...http, kind: 'worker', url: `${baseUrl}/mcp`, baseUrl, mf };
}

/** The upstream every identity suite routes to: a real SDK server whose `forecast` tool is `w_forecast` at the gateway. */
export const WEATHER = { name: 'weather', prefix: 'w_', tool: 'w_forecast' } as const;

/** Starts the weather upstream: one tool, `forecast`, answering `sunny in <city>`. */
export function startWeatherUpstream(): Promise<SdkUpstream> {
  return startSdkUpstream({
    name: WEATHER.name,
    setup: (server) =>
      server.registerTool(
        'forecast',
        { description: 'The forecast of a city', inputSchema: { city: z.string() } },
        ({ city }) => ({ content: [{ type: 'text', text: `sunny in ${city}` }] }),
      ),
  });
}

/**
 * How many requests Envoy sent straight to the upstream `name` (the calls the router routed
 * itself, not through the broker); undefined for a host without Envoy.
 */
export async function routedByEnvoy(host: IdentityHost, name: string): Promise<number | undefined> {
  if (host.envoy === undefined) return undefined;
  const stat = `cluster.upstream_${name}.upstream_rq_total`;
  const text = await (await fetch(`${host.envoy.adminUrl}/stats?filter=${encodeURIComponent(`^${stat}$`)}`)).text();
  const match = /: (\d+)/.exec(text);
  return match === null ? 0 : Number(match[1]);
}

/** The weather upstream as a server of a host's config. */
export function weatherServer(upstream: SdkUpstream): HostServer {
  return { name: WEATHER.name, url: upstream.url, prefix: WEATHER.prefix };
}

/**
 * What reached the upstream on a client's behalf: every message that carried an Authorization
 * header (the gateway's own discovery and health checks carry none).
 */
export function clientRequests(upstream: SdkUpstream): RecordedRequest[] {
  return upstream.requests.filter((request) => request.headers['authorization'] !== undefined);
}
