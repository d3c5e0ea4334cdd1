import type { Readable } from 'node:stream';
import { Miniflare } from 'miniflare';
import { TEST_SIGNING_KEY } from '../harness/index.ts';
import {
  assertWorkerBuilt,
  COMPATIBILITY_DATE,
  COMPATIBILITY_FLAGS,
  SESSION_OBJECT_BINDING,
  WORKER_BUNDLE,
} from '../workerd/start-worker.ts';

/** The built worker listening on a loopback port, as a deployment would serve it. */
export interface WorkerGateway {
  /** The MCP endpoint, e.g. `http://127.0.0.1:41234/mcp`. */
  readonly url: string;
  /** The last {@link MAX_LOG_CHARS} characters workerd printed (the worker's console and its own errors). */
  logs(): string;
  stop(): Promise<void>;
}

const MAX_LOG_CHARS = 64 * 1024;

/**
 * Runs the built worker bundle (packages/edge-broker/dist/worker.js) in workerd through
 * Miniflare, listening on an ephemeral port of 127.0.0.1 so that an out-of-process client
 * (the conformance CLI) can reach it over HTTP. `config` is the MCP_GATEWAY_CONFIG YAML;
 * the other bindings are the ones wrangler.toml deploys with, as test/workerd/start-worker.ts
 * gives them: GATEWAY_SIGNING_KEY and the GATEWAY_SESSIONS Durable Object holding session state.
 */
export async function startWorkerGateway(config: string): Promise<WorkerGateway> {
  assertWorkerBuilt();
  let output = '';
  const capture = (stream: Readable) =>
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      output = (output + chunk).slice(-MAX_LOG_CHARS);
    });
  const mf = new Miniflare({
    modules: true,
    scriptPath: WORKER_BUNDLE,
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: [...COMPATIBILITY_FLAGS],
    bindings: { MCP_GATEWAY_CONFIG: config, GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY, DISCOVERY_TOOLS_ENABLED: 'false' },
    durableObjects: SESSION_OBJECT_BINDING,
    host: '127.0.0.1',
    port: 0,
    // Kept for failure messages instead of interleaved with the test output.
    handleRuntimeStdio: (stdout: Readable, stderr: Readable) => {
      capture(stdout);
      capture(stderr);
    },
  });
  const ready = await mf.ready;
  return {
    url: new URL('/mcp', ready).href,
    logs: () => output,
    stop: () => mf.dispose(),
  };
}
