// The three hosts the confirmation suites start from one config: the built CLI as broker, a real
// Envoy with the CLI's ext_proc router in front of it, and the built worker in workerd (one
// isolate: the worker's bus hands a client's answer over within an isolate only).
import type { Readable } from 'node:stream';
import { Miniflare } from 'miniflare';
import { renderEnvoyBootstrap, type EnvoyUpstream } from '../../infra/envoy/render-bootstrap.mjs';
import { waitForHealthy } from '../gateway-http/helpers.ts';
import { freePort, startEnvoy, startGateway, TEST_SIGNING_KEY, type RunningEnvoy } from '../harness/index.ts';
import { startIsolateFront } from '../workerd/isolate-front.ts';
import {
  COMPATIBILITY_DATE,
  COMPATIBILITY_FLAGS,
  SESSION_OBJECT_BINDING,
  WORKER_BUNDLE,
  assertWorkerBuilt,
} from '../workerd/start-worker.ts';

/** A started host: its MCP endpoint and everything it wrote (its log; audit records on stdout). */
export interface StartedHost {
  readonly url: string;
  output(): string;
  stop(): Promise<void>;
}

/** The public host Envoy's router forces on requests it leaves to the broker. */
const PUBLIC_HOST = 'mcp.example.com';

/** The built CLI serving `config`, once its `servers` upstreams are healthy. */
export async function startBrokerHost(config: string, servers: number): Promise<StartedHost> {
  const gateway = await startGateway({ config });
  await waitForHealthy(gateway, servers);
  return { url: gateway.url, output: () => gateway.logs(), stop: async () => void (await gateway.stop()) };
}

/** A real Envoy in front of the built CLI (broker and router) serving `config`, routing to `upstreams`. */
export async function startRouterHost(config: string, upstreams: readonly EnvoyUpstream[]): Promise<StartedHost> {
  const routerPort = await freePort();
  const gateway = await startGateway({
    config,
    args: ['--mcp-router-address', `127.0.0.1:${routerPort}`, '--mcp-gateway-public-host', PUBLIC_HOST],
  });
  let envoy: RunningEnvoy;
  try {
    await waitForHealthy(gateway, upstreams.length);
    const listenerPort = await freePort();
    envoy = await startEnvoy({
      config: renderEnvoyBootstrap({
        listenerPort,
        adminPort: await freePort(),
        brokerAddress: `127.0.0.1:${gateway.port}`,
        extProcAddress: `127.0.0.1:${routerPort}`,
        upstreams: [...upstreams],
      }),
    });
    return {
      url: `${envoy.listenerUrl(listenerPort)}/mcp`,
      output: () => gateway.logs(),
      async stop() {
        await envoy.stop();
        await gateway.stop();
      },
    };
  } catch (error) {
    await gateway.stop();
    throw error;
  }
}

/** The built worker in workerd (Miniflare) serving `config`, behind a loopback HTTP front. */
export async function startWorkerHost(config: string): Promise<StartedHost> {
  assertWorkerBuilt();
  let output = '';
  const mf = new Miniflare({
    workers: [
      {
        name: 'isolate-a',
        modules: true,
        scriptPath: WORKER_BUNDLE,
        compatibilityDate: COMPATIBILITY_DATE,
        compatibilityFlags: [...COMPATIBILITY_FLAGS],
        bindings: {
          MCP_GATEWAY_CONFIG: config,
          GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY,
          DISCOVERY_TOOLS_ENABLED: 'false',
        },
        durableObjects: SESSION_OBJECT_BINDING,
      },
    ],
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    },
  });
  await mf.ready;
  const front = await startIsolateFront(mf, ['isolate-a']);
  return {
    url: front.url,
    output: () => output,
    async stop() {
      await front.close();
      await mf.dispose();
    },
  };
}
