import { Readable } from 'node:stream';
import * as tls from 'node:tls';
import type { ServerConfig } from '@mcp-gateway/core';
import { Agent, request, type Dispatcher } from 'undici';

/** The Node host's fetch towards upstreams, with the TLS trust the config asks for. */
export interface UpstreamFetch {
  /** The fetch for one server: Node's default trust plus its `caCert` and, for https, `gatewayCACertPEM`. */
  fetchFor(server: ServerConfig): typeof fetch;
  /**
   * The fetch for the gateway's own hosts (the router's hairpin to `--mcp-gateway-private-host`):
   * Node's default trust plus, for https URLs, `gatewayCACertPEM` as it stands at each request.
   */
  readonly gatewayFetch: typeof fetch;
  /** Sets the gateway-wide extra trust (`gatewayCACertPEM`), applied to later requests. */
  setGatewayCA(pem: string | undefined): void;
  close(): Promise<void>;
}

const NO_BODY_STATUS = new Set([101, 204, 205, 304]);

/**
 * Creates the Node host's upstream fetch. Core speaks `fetch`; on Node the global fetch costs
 * about twice the CPU of undici's dispatcher API per forwarded call (measured in bench/), so
 * this adapter gives core a fetch-shaped function on `undici.request`: keep-alive pools per
 * trust set (system trust, or Node's default CAs plus the server's PEMs; TLS 1.2 at least),
 * JSON bodies buffered, other bodies (SSE) streamed. It follows no redirects (an upstream
 * that redirects is reported with its status) and asks for no compression.
 */
export function createUpstreamFetch(): UpstreamFetch {
  const plain = new Agent({ keepAliveTimeout: 30_000 });
  const agents = new Map<string, Agent>();
  let gatewayCA: string | undefined;

  const dispatcherFor = (url: string, caCert: string | undefined): Dispatcher => {
    const https = url.toLowerCase().startsWith('https:');
    const extra = [caCert, https ? gatewayCA : undefined].filter(
      (pem): pem is string => pem !== undefined && pem !== '',
    );
    if (extra.length === 0) return plain;
    const key = extra.join('\n');
    let agent = agents.get(key);
    if (agent === undefined) {
      agent = new Agent({
        keepAliveTimeout: 30_000,
        connect: { ca: [...defaultCertificates(), ...extra], minVersion: 'TLSv1.2' },
      });
      agents.set(key, agent);
    }
    return agent;
  };

  return {
    fetchFor(server) {
      return ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
        dispatch(dispatcherFor(server.url, server.caCert), input, init)) as typeof fetch;
    },
    gatewayFetch: ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
      dispatch(dispatcherFor(requestUrl(input), undefined), input, init)) as typeof fetch,
    setGatewayCA(pem) {
      gatewayCA = pem;
    },
    async close() {
      await Promise.allSettled([plain, ...agents.values()].map((agent) => agent.close()));
      agents.clear();
    },
  };
}

async function dispatch(
  dispatcher: Dispatcher,
  input: Parameters<typeof fetch>[0],
  init: RequestInit = {},
): Promise<Response> {
  const url = requestUrl(input);
  const method = (init.method ?? 'GET').toUpperCase();
  let response: Dispatcher.ResponseData;
  try {
    response = await request(url, {
      dispatcher,
      method: method as Dispatcher.HttpMethod,
      headers: toHeaderRecord(init.headers),
      body: typeof init.body === 'string' || init.body instanceof Uint8Array ? init.body : null,
      signal: init.signal ?? null,
    });
  } catch (error) {
    if (init.signal?.aborted) throw init.signal.reason ?? error;
    // Shaped like fetch's network errors: the cause carries the system error code.
    throw new TypeError('fetch failed', { cause: error });
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(response.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.append(name, value);
  }
  const status = response.statusCode;
  if (NO_BODY_STATUS.has(status) || method === 'HEAD') {
    response.body.resume();
    return new Response(null, { status, headers });
  }
  const type = headers.get('content-type') ?? '';
  const body = type.includes('text/event-stream')
    ? (Readable.toWeb(response.body) as ReadableStream<Uint8Array>)
    : await readLimited(response.body, MAX_BUFFERED_ANSWER_BYTES);
  return new Response(body, { status, headers });
}

/** Largest non-streamed upstream answer the gateway holds in memory: 32 MiB. */
export const MAX_BUFFERED_ANSWER_BYTES = 32 * 1024 * 1024;

async function readLimited(body: Dispatcher.ResponseData['body'], limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.byteLength;
    if (total > limit) {
      body.destroy();
      throw new TypeError('fetch failed', { cause: new Error(`upstream answer exceeds ${limit} bytes`) });
    }
    chunks.push(chunk);
  }
  // Response copies the bytes it is given, so a view onto Node's buffer is enough.
  return (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total)) as Uint8Array<ArrayBuffer>;
}

function requestUrl(input: Parameters<typeof fetch>[0]): string {
  return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
}

function toHeaderRecord(headers: HeadersInit | undefined): Record<string, string> {
  if (headers === undefined) return {};
  if (headers instanceof Headers) return Object.fromEntries(headers);
  if (Array.isArray(headers)) return Object.fromEntries(headers);
  return headers as Record<string, string>;
}

/**
 * The CAs Node trusts when no `ca` option is given: the bundled roots plus NODE_EXTRA_CA_CERTS
 * and, under --use-system-ca, the OS store. Passing `ca` replaces that set, so it is rebuilt here
 * rather than narrowed to the bundled roots. Node before 22.15 lacks getCACertificates: bundled
 * roots only there.
 */
function defaultCertificates(): readonly string[] {
  return typeof tls.getCACertificates === 'function' ? tls.getCACertificates('default') : tls.rootCertificates;
}
