import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Miniflare, type RequestInit, type Response } from 'miniflare';
import { expect } from 'vitest';
import { TEST_SIGNING_KEY } from '../harness/index.ts';
import { readRpcMessage } from './read-rpc-message.ts';

/** The bundle `npm run build` writes for workerd. */
export const WORKER_BUNDLE = fileURLToPath(new URL('../../packages/edge-broker/dist/worker.js', import.meta.url));

/**
 * The date packages/edge-broker/wrangler.toml deploys with. The installed workerd (2026-07-30)
 * supports it, and it is past 2026-04-01, from which ioredis-style `nodejs_compat` code runs.
 */
export const COMPATIBILITY_DATE = '2026-07-01';

/** The flags wrangler.toml deploys with. */
export const COMPATIBILITY_FLAGS = ['nodejs_compat'] as const;

/** The version the tests negotiate and then send in `mcp-protocol-version`. */
export const PROTOCOL_VERSION = '2025-11-25';

/** One entry of the worker's MCP_GATEWAY_CONFIG. */
export interface WorkerServer {
  name: string;
  url: string;
  prefix: string;
  /** More YAML of the entry (indented as its fields, e.g. toolOverrides). */
  yaml?: string;
}

/** The built worker running in workerd, and the MCP requests the tests send it. */
export interface RunningWorker {
  /** A request to `http://localhost<path>`, straight into the worker's fetch handler. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** POSTs one JSON-RPC message to /mcp, on `sessionId` when given. */
  post(message: object, sessionId?: string): Promise<Response>;
  /** Runs the initialize handshake and returns the Mcp-Session-Id the worker issued. */
  initialize(): Promise<string>;
  /**
   * Redeploys with MCP_GATEWAY_CONFIG for `servers` (a config change: the worker rebuilds its
   * gateway); Durable Object storage is kept, as in a deployment.
   */
  reconfigure(servers: readonly WorkerServer[]): Promise<void>;
  dispose(): Promise<void>;
}

/** Options of `startWorker`. */
export interface StartWorkerOptions {
  /**
   * Where the worker keeps session state: 'durable-object' (default, as wrangler.toml deploys:
   * the GATEWAY_SESSIONS binding), or 'memory' (no binding: each isolate on its own).
   */
  sessionState?: 'durable-object' | 'memory';
  /** Further vars, e.g. CACHE_CONNECTION_STRING or OAUTH_*. */
  bindings?: Record<string, string>;
}

/** The Durable Object binding wrangler.toml declares, as Miniflare takes it. */
export const SESSION_OBJECT_BINDING = {
  GATEWAY_SESSIONS: { className: 'GatewaySessionObject', useSQLite: true },
} as const;

/** MCP_GATEWAY_CONFIG for `servers`, in the config file's YAML schema. */
export function workerConfig(servers: readonly WorkerServer[]): string {
  const entries = servers
    .map(({ name, url, prefix, yaml }) => `  - name: ${name}\n    url: ${url}\n    prefix: ${prefix}\n${yaml ?? ''}`)
    .join('');
  return `servers:\n${entries}`;
}

/** Throws the build hint when the bundle is missing. */
export function assertWorkerBuilt(): void {
  if (!existsSync(WORKER_BUNDLE)) {
    throw new Error(`${WORKER_BUNDLE} does not exist: run \`npm run build\` before the workerd suite`);
  }
}

/**
 * Runs the built worker bundle in workerd through Miniflare, with the bindings a deployment
 * sets: MCP_GATEWAY_CONFIG (YAML naming `servers`), GATEWAY_SIGNING_KEY and, by default, the
 * GATEWAY_SESSIONS Durable Object. The worker reaches loopback upstreams with its ordinary
 * outbound fetch.
 */
export async function startWorker(
  servers: readonly WorkerServer[],
  options: StartWorkerOptions = {},
): Promise<RunningWorker> {
  assertWorkerBuilt();
  const miniflareOptions = (config: readonly WorkerServer[]) => ({
    modules: true,
    scriptPath: WORKER_BUNDLE,
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: [...COMPATIBILITY_FLAGS],
    bindings: {
      MCP_GATEWAY_CONFIG: workerConfig(config),
      GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY,
      // Lists are the upstreams' own unless a suite turns the meta-tools on (test/discovery does).
      DISCOVERY_TOOLS_ENABLED: 'false',
      ...options.bindings,
    },
    ...(options.sessionState === 'memory' ? {} : { durableObjects: SESSION_OBJECT_BINDING }),
  });
  const mf = new Miniflare(miniflareOptions(servers));
  await mf.ready;

  const fetch = (path: string, init?: RequestInit) => mf.dispatchFetch(`http://localhost${path}`, init);

  const post = (message: object, sessionId?: string) =>
    fetch('/mcp', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(sessionId === undefined ? {} : { 'mcp-session-id': sessionId, 'mcp-protocol-version': PROTOCOL_VERSION }),
      },
      body: JSON.stringify(message),
    });

  async function initialize(): Promise<string> {
    const response = await post({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: 'workerd-suite', version: '1.0.0' },
      },
    });
    expect(response.status).toBe(200);
    const sessionId = response.headers.get('mcp-session-id');
    expect((await readRpcMessage(response, 0)).result).toMatchObject({ protocolVersion: PROTOCOL_VERSION });
    if (sessionId === null || sessionId === '') throw new Error('initialize: the worker issued no Mcp-Session-Id');
    const initialized = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, sessionId);
    expect(initialized.status).toBe(202);
    await initialized.body?.cancel();
    return sessionId;
  }

  return {
    fetch,
    post,
    initialize,
    reconfigure: (config) => mf.setOptions(miniflareOptions(config)),
    dispose: () => mf.dispose(),
  };
}
