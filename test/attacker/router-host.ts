// The ext_proc router as an attacker reaches it: the built gateway started with
// --mcp-router-address (broker and router in one process, sharing key and store), spoken to
// directly over gRPC as Envoy would, one stream per HTTP request.
import {
  connectExtProc,
  exchange,
  httpHeaders,
  type DecodedAnswer,
  type ExtProcClient,
} from '../harness/ext-proc-client.ts';
import { freePort, startGateway, type RunningGateway } from '../harness/index.ts';
import { hostConfig, LEGACY_VERSION, MODERN_VERSION, type HostServer } from './http-hosts.ts';

/** The public host the router forces on requests it does not route to an upstream. */
export const PUBLIC_HOST = 'mcp.example.com';

/** A running gateway with its router, and a gRPC client of the router. */
export interface RouterHost {
  readonly gateway: RunningGateway;
  readonly routerPort: number;
  /** Sends the messages of one HTTP request on one stream; resolves with the router's answers. */
  exchange(messages: readonly object[]): Promise<DecodedAnswer[]>;
  stop(): Promise<void>;
}

/** Starts the built gateway with its router in front of `servers` (each needs a `hostname`), logging at debug. */
export async function startRouterHost(
  servers: readonly HostServer[],
  args: readonly string[] = [],
): Promise<RouterHost> {
  const routerPort = await freePort();
  const gateway = await startGateway({
    config: hostConfig(servers),
    args: [
      '--mcp-router-address',
      `127.0.0.1:${routerPort}`,
      '--mcp-gateway-public-host',
      PUBLIC_HOST,
      '--log-level',
      'debug',
      ...args,
    ],
  });
  await waitForRouter(gateway);
  const client: ExtProcClient = connectExtProc(routerPort);
  return {
    gateway,
    routerPort,
    exchange: (messages) => exchange(client, messages),
    async stop() {
      client.close();
      await gateway.stop();
    },
  };
}

async function waitForRouter(gateway: RunningGateway): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!gateway.logs().includes('mcp router (Envoy ext_proc) listening')) {
    if (Date.now() > deadline) throw new Error(`the router did not start:\n${gateway.logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** What an HTTP request to /mcp looks like to the router. */
export interface RouterRequest {
  /** Request headers besides the pseudo-headers and the MCP POST headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The body (serialised unless a string or bytes); undefined for a bodiless request. */
  readonly body?: unknown;
  /** The upstream's answer status, sent as the response-headers message when the stream is still open. */
  readonly responseStatus?: string;
  readonly method?: string;
}

/** The ext_proc messages Envoy sends for one request: request headers, body, response headers. */
export function routerMessages(request: RouterRequest): object[] {
  const method = request.method ?? 'POST';
  const headers = {
    ':method': method,
    ':authority': PUBLIC_HOST,
    ':path': '/mcp',
    ':scheme': 'http',
    ...(method === 'POST' ? { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } : {}),
    ...request.headers,
  };
  if (request.body === undefined) {
    return [{ request_headers: { ...httpHeaders(headers), end_of_stream: true } }];
  }
  const body =
    typeof request.body === 'string' || request.body instanceof Uint8Array
      ? Buffer.from(request.body)
      : Buffer.from(JSON.stringify(request.body));
  return [
    { request_headers: httpHeaders(headers) },
    { request_body: { body, end_of_stream: true } },
    {
      response_headers: httpHeaders({ ':status': request.responseStatus ?? '200', 'content-type': 'application/json' }),
    },
  ];
}

/** Headers of a legacy request on `sessionId`. */
export function legacyHeaders(
  sessionId: string | undefined,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ...(sessionId === undefined ? {} : { 'mcp-session-id': sessionId }),
    'mcp-protocol-version': LEGACY_VERSION,
    ...extra,
  };
}

/** Headers of a 2026-07-28 request for `method` (and `name`). */
export function modernHeaders(method: string, name?: string): Record<string, string> {
  return {
    'mcp-protocol-version': MODERN_VERSION,
    'mcp-method': method,
    ...(name === undefined ? {} : { 'mcp-name': name }),
  };
}

/** One header the router set, in any answer of the stream (phase mutations and immediate responses). */
export interface SetHeader {
  readonly phase: string;
  readonly key: string;
  readonly value: string;
}

/** Every header any of `answers` sets. */
export function setHeadersOf(answers: readonly DecodedAnswer[]): SetHeader[] {
  const out: SetHeader[] = [];
  for (const answer of answers) {
    for (const phase of ['request_headers', 'request_body', 'response_headers', 'response_body']) {
      const options = answer[phase]?.['response']?.['header_mutation']?.['set_headers'] ?? [];
      for (const option of options) out.push({ phase, ...decodeHeader(option['header']) });
    }
    for (const option of answer['immediate_response']?.['headers']?.['set_headers'] ?? []) {
      out.push({ phase: 'immediate_response', ...decodeHeader(option['header']) });
    }
  }
  return out;
}

function decodeHeader(header: DecodedAnswer): { key: string; value: string } {
  const raw = header['raw_value'];
  const value = raw !== undefined && raw.length > 0 ? Buffer.from(raw).toString('utf8') : String(header['value'] ?? '');
  return { key: String(header['key']), value };
}

/** The stream's immediate response (Envoy's local reply), if the router gave one. */
export function immediateOf(answers: readonly DecodedAnswer[]): { status: string | number; body: string } | undefined {
  const immediate = answers.find((answer) => answer['immediate_response'] !== undefined)?.['immediate_response'];
  if (immediate === undefined) return undefined;
  return { status: immediate['status']?.['code'], body: Buffer.from(immediate['body'] ?? []).toString('utf8') };
}

/** grpc-js decodes type.v3.StatusCode by name: the names of the HTTP statuses the suites expect. */
export const STATUS_NAMES: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'BadRequest',
  403: 'Forbidden',
  404: 'NotFound',
  408: 'RequestTimeout',
  413: 'PayloadTooLarge',
  500: 'InternalServerError',
};
