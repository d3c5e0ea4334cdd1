// What the dashboard suite measures: a real Envoy with the repository's ext_proc bootstrap in
// front of a broker process and a `--router-only` process (sharing a real Redis and the signing
// key), two real SDK upstreams (the second behind a proxy that fails every tools/call), and a
// real Prometheus scraping the broker's /metrics and the router's --metrics-addr listener.
import { renderEnvoyBootstrap } from '../../infra/envoy/render-bootstrap.mjs';
import { echoAndGreet } from '../gateway-http/helpers.ts';
import {
  freePort,
  GATEWAY_CLI,
  REPO_ROOT,
  startEnvoy,
  startGateway,
  startProcess,
  startPrometheus,
  startRedis,
  startSdkUpstream,
  TEST_SIGNING_KEY,
  type RunningEnvoy,
  type RunningGateway,
  type RunningProcess,
  type RunningPrometheus,
  type RunningRedis,
  type SdkUpstream,
} from '../harness/index.ts';
import { startFailingProxy, type FailingProxy } from './failing-proxy.ts';

export const PUBLIC_HOST = 'mcp.example.com';
/** The rule that refuses the upstreams' `greet` prompt. */
export const DENY_RULE = 'no-greetings';
/** Prometheus scrape interval: a rate needs two samples. */
export const SCRAPE_INTERVAL_MS = 500;

export interface DashboardStack {
  readonly broker: RunningGateway;
  readonly router: RunningProcess;
  readonly envoy: RunningEnvoy;
  readonly prometheus: RunningPrometheus;
  readonly failing: FailingProxy;
  /** The broker's MCP endpoint, called directly (calls counted with host="broker"). */
  readonly brokerUrl: string;
  /** The MCP endpoint through Envoy (calls the router routes are counted with host="router"). */
  readonly envoyUrl: string;
  stop(): Promise<void>;
}

function configYaml(servers: readonly { name: string; url: string; prefix: string }[]): string {
  const entries = servers.map(
    (s) =>
      `  - name: ${s.name}\n    url: ${JSON.stringify(s.url)}\n    prefix: ${s.prefix}\n    hostname: ${s.name}.mcp.local\n`,
  );
  return [
    `servers:\n${entries.join('')}`,
    'policy:',
    '  rules:',
    `    - { name: ${DENY_RULE}, effect: deny, prompts: [greet] }`,
    '',
  ].join('\n');
}

/** Starts everything; stops what started when a part fails. */
export async function startDashboardStack(): Promise<DashboardStack> {
  const parts: { stop(): Promise<unknown> }[] = [];
  const stop = async () => {
    for (const part of parts.reverse()) await part.stop();
  };
  const started = <T extends { stop(): Promise<unknown> }>(part: T): T => {
    parts.push(part);
    return part;
  };
  try {
    const redis: RunningRedis = started(await startRedis());
    const healthy: SdkUpstream = started(await startSdkUpstream({ name: 'server1', setup: echoAndGreet }));
    const behindFault: SdkUpstream = started(await startSdkUpstream({ name: 'server2', setup: echoAndGreet }));
    const failing = started(await startFailingProxy(behindFault.port));
    const servers = [
      { name: 'server1', url: healthy.url, prefix: 's1_', port: healthy.port },
      { name: 'server2', url: failing.url, prefix: 's2_', port: failing.port },
    ];
    const shared = { CACHE_CONNECTION_STRING: redis.url, GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY };
    const broker = started(
      await startGateway({
        config: configYaml(servers),
        env: shared,
        args: ['--mcp-gateway-public-host', PUBLIC_HOST],
      }),
    );
    const routerPort = await freePort();
    const routerMetricsPort = await freePort();
    const router = started(
      await startProcess(
        process.execPath,
        [
          GATEWAY_CLI,
          '--router-only',
          '--mcp-gateway-config',
          broker.configPath,
          '--mcp-router-address',
          `127.0.0.1:${routerPort}`,
          '--mcp-gateway-public-host',
          PUBLIC_HOST,
          '--metrics-addr',
          `127.0.0.1:${routerMetricsPort}`,
        ],
        { cwd: REPO_ROOT, env: shared, readyWhen: { stdout: /mcp router \(Envoy/ } },
      ),
    );
    const listenerPort = await freePort();
    const envoy = started(
      await startEnvoy({
        config: renderEnvoyBootstrap({
          listenerPort,
          adminPort: await freePort(),
          brokerAddress: `127.0.0.1:${broker.port}`,
          extProcAddress: `127.0.0.1:${routerPort}`,
          upstreams: servers.map((s) => ({
            name: s.name,
            hostname: `${s.name}.mcp.local`,
            address: `127.0.0.1:${s.port}`,
            path: '/mcp',
          })),
        }),
      }),
    );
    const prometheus = started(
      await startPrometheus({
        scrapeTargets: [
          { job: 'broker', url: `${broker.baseUrl}/metrics` },
          { job: 'router', url: `http://127.0.0.1:${routerMetricsPort}/metrics` },
        ],
        scrapeIntervalMs: SCRAPE_INTERVAL_MS,
      }),
    );
    return {
      broker,
      router,
      envoy,
      prometheus,
      failing,
      brokerUrl: broker.url,
      envoyUrl: `${envoy.listenerUrl(listenerPort)}/mcp`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
