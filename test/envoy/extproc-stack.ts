// The stack the ext_proc suites run: a real Envoy with the repository's bootstrap WITH the
// ext_proc filter, in front of the built gateway started with --mcp-router-address (broker and
// router in one process) and two real SDK upstreams whose config hostnames are the bootstrap's
// upstream virtual hosts.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { renderEnvoyBootstrap, type EnvoyUpstream } from '../../infra/envoy/render-bootstrap.mjs';
import {
  freePort,
  startEnvoy,
  startGateway,
  startSdkUpstream,
  type RecordedRequest,
  type RunningEnvoy,
  type RunningGateway,
  type SdkUpstream,
} from '../harness/index.ts';

export const PUBLIC_HOST = 'mcp.example.com';
export const SERVERS = [
  { name: 'server1', hostname: 'server1.mcp.local', prefix: 's1_' },
  { name: 'server2', hostname: 'server2.mcp.local', prefix: 's2_' },
] as const;

/** Envoy's request counter of the broker's cluster. */
export const BROKER_REQUESTS = 'cluster.mcp_broker.upstream_rq_total';
/** Envoy's request counter of server1's cluster (calls the processor routed there). */
export const SERVER1_REQUESTS = 'cluster.upstream_server1.upstream_rq_total';

export interface ExtProcStackOptions {
  /** Registers the tools of every upstream (both run the same setup). */
  setup: (server: McpServer) => void;
  /** More gateway flags, after --mcp-router-address and --mcp-gateway-public-host. */
  gatewayArgs?: readonly string[];
  /** More gateway environment (e.g. OTEL_*). */
  gatewayEnv?: Record<string, string>;
  /** More YAML of every server entry (indented as its fields, e.g. toolOverrides). */
  serverYaml?: string;
  /** More top-level YAML of the config (e.g. policy, audit), after `servers`. */
  topYaml?: string;
  /** Rewrites the rendered bootstrap before Envoy starts (a test variant). */
  editBootstrap?: (yaml: string) => string;
  /** Passed to startEnvoy: how often Envoy flushes file access logs. */
  fileFlushIntervalMs?: number;
  /**
   * Starts the gateway with `--mcp-gateway-private-host` naming Envoy's listener, so the router
   * opens backend sessions by a hairpin initialize through Envoy. Default false.
   */
  hairpin?: boolean;
}

export interface ExtProcStack {
  readonly upstreams: readonly [SdkUpstream, SdkUpstream];
  readonly gateway: RunningGateway;
  readonly envoy: RunningEnvoy;
  /** `http://127.0.0.1:<listener port>/mcp`: the MCP endpoint through Envoy. */
  readonly mcpUrl: string;
  /** Stops Envoy, the gateway and the upstreams (whatever started). */
  stop(): Promise<void>;
}

function configYaml(upstreams: readonly SdkUpstream[], serverYaml = '', topYaml = ''): string {
  const entries = SERVERS.map(
    (server, i) =>
      `  - name: ${server.name}\n    url: ${JSON.stringify(upstreams[i]?.url)}\n    prefix: ${server.prefix}\n    hostname: ${server.hostname}\n${serverYaml}`,
  );
  return `servers:\n${entries.join('')}${topYaml}`;
}

/** Starts the upstreams, the gateway with its router, then Envoy; stops what started on failure. */
export async function startExtProcStack(options: ExtProcStackOptions): Promise<ExtProcStack> {
  const upstreams: SdkUpstream[] = [];
  let gateway: RunningGateway | undefined;
  let envoy: RunningEnvoy | undefined;
  const stop = async () => {
    await envoy?.stop();
    await gateway?.stop();
    for (const upstream of upstreams) await upstream.stop();
  };
  try {
    for (const server of SERVERS) upstreams.push(await startSdkUpstream({ name: server.name, setup: options.setup }));
    const routerPort = await freePort();
    const listenerPort = await freePort();
    gateway = await startGateway({
      config: configYaml(upstreams, options.serverYaml, options.topYaml),
      args: [
        '--mcp-router-address',
        `127.0.0.1:${routerPort}`,
        '--mcp-gateway-public-host',
        PUBLIC_HOST,
        ...(options.hairpin === true ? ['--mcp-gateway-private-host', `127.0.0.1:${listenerPort}`] : []),
        ...(options.gatewayArgs ?? []),
      ],
      ...(options.gatewayEnv !== undefined && { env: options.gatewayEnv }),
    });
    const envoyUpstreams: EnvoyUpstream[] = SERVERS.map((server, i) => ({
      name: server.name,
      hostname: server.hostname,
      address: `127.0.0.1:${upstreams[i]?.port}`,
      path: '/mcp',
    }));
    const yaml = renderEnvoyBootstrap({
      listenerPort,
      adminPort: await freePort(),
      brokerAddress: `127.0.0.1:${gateway.port}`,
      extProcAddress: `127.0.0.1:${routerPort}`,
      upstreams: envoyUpstreams,
    });
    envoy = await startEnvoy({
      config: options.editBootstrap?.(yaml) ?? yaml,
      ...(options.fileFlushIntervalMs !== undefined && { fileFlushIntervalMs: options.fileFlushIntervalMs }),
    });
    const [first, second] = upstreams;
    if (first === undefined || second === undefined) throw new Error('startExtProcStack: upstreams missing');
    return { upstreams: [first, second], gateway, envoy, mcpUrl: `${envoy.listenerUrl(listenerPort)}/mcp`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A counter from Envoy's admin `/stats` (0 when the stat does not exist yet). */
export async function envoyStat(envoy: RunningEnvoy, name: string): Promise<number> {
  const text = await (await fetch(`${envoy.adminUrl}/stats?filter=${encodeURIComponent(`^${name}$`)}`)).text();
  const match = /: (\d+)/.exec(text);
  return match === null ? 0 : Number(match[1]);
}

/**
 * A counter once it has stopped moving (unchanged over `quietMs`): what Envoy counts for an
 * exchange that already answered can still arrive (the end of its stream, a background stream the
 * exchange started), and a count taken before that would be charged to the next exchange.
 */
export async function settledEnvoyStat(envoy: RunningEnvoy, name: string, quietMs = 300): Promise<number> {
  let last = await envoyStat(envoy, name);
  for (let i = 0; i < 50; i++) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    const next = await envoyStat(envoy, name);
    if (next === last) return next;
    last = next;
  }
  return last;
}

/** The tools/call requests an upstream received, in order. */
export function toolCalls(upstream: SdkUpstream): RecordedRequest[] {
  return upstream.requests.filter((r) => r.method === 'tools/call');
}
