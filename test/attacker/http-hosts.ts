// The two hosts an attacker reaches over HTTP, behind one small interface: the broker (the built
// Node CLI, `startGateway`) and the worker (the built bundle in workerd through Miniflare). Both
// capture their logs, so tests can check that no secret was written there.
import type { Readable } from 'node:stream';
import { Miniflare } from 'miniflare';
import { startGateway, TEST_SIGNING_KEY, type RunningGateway } from '../harness/index.ts';
import {
  COMPATIBILITY_DATE,
  COMPATIBILITY_FLAGS,
  SESSION_OBJECT_BINDING,
  WORKER_BUNDLE,
  assertWorkerBuilt,
} from '../workerd/start-worker.ts';
import { readAnswer, toAnswer, type Answer } from './answers.ts';

/** Headers of every Streamable HTTP POST. */
export const POST_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** The legacy version the attacker suites' clients negotiate. */
export const LEGACY_VERSION = '2025-11-25';
/** The current protocol version. */
export const MODERN_VERSION = '2026-07-28';

/** One upstream of a host's config. */
export interface HostServer {
  readonly name: string;
  readonly url: string;
  readonly prefix: string;
  readonly hostname?: string;
}

/** A gateway host reached over HTTP. */
export interface HttpHost {
  /** 'broker' or 'worker', for test names. */
  readonly kind: string;
  /** Sends a request to `path` (default /mcp) and reads the answer whole; a 200 event stream on GET is read for its head only. */
  fetch(init: HostRequest): Promise<Answer>;
  /** Everything the host has logged so far. */
  logs(): string;
  stop(): Promise<void>;
}

/** A request to a host. */
export interface HostRequest {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /**
   * Stop reading the answer after this long (a stream that stays open, e.g. subscriptions/listen):
   * what arrived by then is the answer, an SSE body cut after its last complete event. Default: read to the end.
   */
  readonly deadlineMs?: number;
}

/** The config YAML for `servers`. */
export function hostConfig(servers: readonly HostServer[]): string {
  if (servers.length === 0) return 'servers: []\n';
  const lines = ['servers:'];
  for (const server of servers) {
    lines.push(`  - name: ${JSON.stringify(server.name)}`);
    lines.push(`    url: ${JSON.stringify(server.url)}`);
    lines.push(`    prefix: ${JSON.stringify(server.prefix)}`);
    if (server.hostname !== undefined) lines.push(`    hostname: ${JSON.stringify(server.hostname)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The built Node gateway in front of `servers`, logging at debug (secrets there count too). */
export async function startBrokerHost(
  servers: readonly HostServer[],
  args: readonly string[] = [],
): Promise<HttpHost & { gateway: RunningGateway }> {
  const gateway = await startGateway({ config: hostConfig(servers), args: ['--log-level', 'debug', ...args] });
  return { ...brokerOf(gateway), gateway };
}

/** The broker of a running gateway as an {@link HttpHost}; stopping it stops the gateway. */
export function brokerOf(gateway: RunningGateway): HttpHost {
  return httpHostAt(
    'broker',
    gateway.baseUrl,
    () => gateway.logs(),
    () => gateway.stop().then(() => undefined),
  );
}

/** Any HTTP endpoint serving the gateway at `baseUrl` (e.g. Envoy in front of it) as an {@link HttpHost}. */
export function httpHostAt(kind: string, baseUrl: string, logs: () => string, stop: () => Promise<void>): HttpHost {
  return {
    kind,
    async fetch(init) {
      const controller = new AbortController();
      const response = await fetch(`${baseUrl}${init.path ?? '/mcp'}`, {
        method: init.method ?? 'POST',
        headers: init.headers ?? {},
        ...(init.body === undefined ? {} : { body: init.body as BodyInit }),
        signal: controller.signal,
      });
      if (isOpenStream(init, response)) {
        controller.abort();
        return { status: response.status, headers: headersOf(response), text: '', messages: [] };
      }
      return init.deadlineMs === undefined ? readAnswer(response) : readAnswerWithin(response, init.deadlineMs);
    },
    logs,
    stop,
  };
}

/**
 * The built worker in workerd (Miniflare) in front of `servers`, with the Durable Object binding
 * wrangler.toml deploys; workerd's stdout and stderr are captured.
 */
export async function startWorkerHost(servers: readonly HostServer[]): Promise<HttpHost & { mf: Miniflare }> {
  assertWorkerBuilt();
  let output = '';
  const mf = new Miniflare({
    modules: true,
    scriptPath: WORKER_BUNDLE,
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: [...COMPATIBILITY_FLAGS],
    bindings: {
      MCP_GATEWAY_CONFIG: hostConfig(servers),
      GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY,
      DISCOVERY_TOOLS_ENABLED: 'false',
    },
    durableObjects: SESSION_OBJECT_BINDING,
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    },
  });
  await mf.ready;
  return {
    kind: 'worker',
    mf,
    async fetch(init) {
      const response = await mf.dispatchFetch(`http://localhost${init.path ?? '/mcp'}`, {
        method: init.method ?? 'POST',
        headers: { ...init.headers },
        ...(init.body === undefined ? {} : { body: init.body }),
      });
      if (isOpenStream(init, response)) {
        await response.body?.cancel();
        return { status: response.status, headers: headersOf(response), text: '', messages: [] };
      }
      return init.deadlineMs === undefined
        ? readAnswer(response)
        : readAnswerWithin(response as unknown as StreamedResponse, init.deadlineMs);
    },
    logs: () => output,
    stop: () => mf.dispose(),
  };
}

/** A GET answered with an event stream stays open: only its head is read. */
function isOpenStream(init: HostRequest, response: { status: number; headers: { get(name: string): string | null } }) {
  return (
    (init.method ?? 'POST') === 'GET' &&
    response.status === 200 &&
    (response.headers.get('content-type') ?? '').includes('text/event-stream')
  );
}

/** A response whose body streams (undici's or, cast, Miniflare's). */
interface StreamedResponse {
  readonly status: number;
  readonly body: ReadableStream<Uint8Array> | null;
  readonly headers: { forEach(callback: (value: string, name: string) => void): void };
}

/** Reads `response` until it ends or `deadlineMs` passes; an SSE body cut short keeps its complete events. */
async function readAnswerWithin(response: StreamedResponse, deadlineMs: number): Promise<Answer> {
  const headers = headersOf(response);
  if (response.body === null) return toAnswer(response.status, headers, '');
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void reader.cancel().catch(() => {});
  }, deadlineMs);
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      text += decoder.decode(next.value, { stream: true });
    }
  } catch {
    timedOut = true;
  } finally {
    clearTimeout(timer);
  }
  if (timedOut && (headers['content-type'] ?? '').includes('text/event-stream')) {
    const normalized = text.replaceAll('\r\n', '\n');
    const end = normalized.lastIndexOf('\n\n');
    text = end < 0 ? '' : normalized.slice(0, end + 2);
  }
  return toAnswer(response.status, headers, text);
}

function headersOf(response: { headers: { forEach(callback: (value: string, name: string) => void): void } }) {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => (headers[name.toLowerCase()] = value));
  return headers;
}

/** POSTs one legacy JSON-RPC message on `sessionId` (when given) with `headers`. */
export function postLegacy(
  host: HttpHost,
  message: unknown,
  sessionId: string | undefined,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return host.fetch({
    headers: {
      ...POST_HEADERS,
      ...(sessionId === undefined ? {} : { 'mcp-session-id': sessionId, 'mcp-protocol-version': LEGACY_VERSION }),
      ...headers,
    },
    body: typeof message === 'string' ? message : JSON.stringify(message),
  });
}

/**
 * Runs the legacy handshake (initialize with `capabilities`, then notifications/initialized) with
 * `headers` (e.g. authorization) and resolves with the session id the host issued.
 */
export async function openLegacySession(
  host: HttpHost,
  headers: Record<string, string> = {},
  capabilities: Record<string, unknown> = {},
): Promise<string> {
  const initialize = {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: LEGACY_VERSION, capabilities, clientInfo: { name: 'attacker-suite', version: '1.0.0' } },
  };
  const answer = await postLegacy(host, initialize, undefined, headers);
  const sessionId = answer.headers['mcp-session-id'];
  if (answer.status !== 200 || sessionId === undefined) {
    throw new Error(`initialize through the ${host.kind} failed: ${answer.status} ${answer.text}`);
  }
  const initialized = await postLegacy(
    host,
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    sessionId,
    headers,
  );
  if (initialized.status !== 202)
    throw new Error(`notifications/initialized: ${initialized.status} ${initialized.text}`);
  return sessionId;
}

/** The 2026-07-28 per-request envelope, with `capabilities`. */
export function modernMeta(capabilities: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
    'io.modelcontextprotocol/clientCapabilities': capabilities,
    'io.modelcontextprotocol/clientInfo': { name: 'attacker-suite', version: '2.0.0' },
  };
}

/**
 * POSTs one 2026-07-28 request: the envelope merged into `params._meta`, MCP-Protocol-Version,
 * Mcp-Method and (for calls naming an item) Mcp-Name set to agree with the body.
 */
export function postModern(
  host: HttpHost,
  request: { id: string | number; method: string; params?: Record<string, unknown> },
  headers: Record<string, string> = {},
): Promise<Answer> {
  const params = request.params ?? {};
  const meta = { ...(params['_meta'] as Record<string, unknown> | undefined), ...modernMeta() };
  const name = params['name'] ?? params['uri'];
  return host.fetch({
    headers: {
      ...POST_HEADERS,
      'mcp-protocol-version': MODERN_VERSION,
      'mcp-method': request.method,
      ...(typeof name === 'string' ? { 'mcp-name': name } : {}),
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', ...request, params: { ...params, _meta: meta } }),
  });
}
