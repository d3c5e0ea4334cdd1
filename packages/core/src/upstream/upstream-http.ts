import type { ServerConfig } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import type { JsonObject } from './types.ts';
import { UpstreamSessionExpiredError, upstreamUnavailable } from './upstream-errors.ts';
import { isJsonObject } from './upstream-exchange.ts';
import { buildUpstreamHeaders, displayUrl, type UpstreamHeaderSession } from './upstream-headers.ts';
import { protocolErrorFromRpcError } from './upstream-protocol.ts';

/** One HTTP exchange with the upstream's MCP endpoint. */
export interface UpstreamSendInit {
  readonly method: 'POST' | 'GET' | 'DELETE';
  readonly session?: UpstreamHeaderSession | undefined;
  readonly body?: JsonObject;
  /** Applied after the gateway's own headers (override them). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly signal: AbortSignal;
  /** What the exchange is for ("tools/list", "GET stream"), for messages. */
  readonly what: string;
}

/** The HTTP layer of the upstream client: headers, deadlines, status mapping. */
export interface UpstreamHttp {
  /** Runs `run` under a deadline of `timeoutMs`; past it the exchange aborts with UPSTREAM_TIMEOUT. */
  deadline<T>(what: string, signal: AbortSignal | undefined, run: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /** Sends one request; network failures reject with UPSTREAM_UNAVAILABLE, aborts with the abort reason. */
  send(init: UpstreamSendInit): Promise<Response>;
  /**
   * Rejects a non-2xx response: 404 with a session → UpstreamSessionExpiredError; a body holding
   * an UnsupportedProtocolVersion error → UPSTREAM_PROTOCOL_ERROR; anything else →
   * UPSTREAM_UNAVAILABLE naming the status and the upstream's JSON-RPC message if any.
   */
  ensureOk(response: Response, session: UpstreamHeaderSession | undefined, what: string): Promise<void>;
  /** An UPSTREAM_UNAVAILABLE error naming this upstream, for failures after the headers arrived. */
  unavailable(what: string, cause: unknown): GatewayError;
}

/** Options of {@link createUpstreamHttp}. */
export interface UpstreamHttpOptions {
  readonly server: ServerConfig;
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
}

/** Longest error body read to find a JSON-RPC error in it. */
const MAX_ERROR_BODY_CHARS = 16 * 1024;

/** Creates the HTTP layer shared by every call of one upstream client. */
export function createUpstreamHttp(options: UpstreamHttpOptions): UpstreamHttp {
  const { server, timeoutMs } = options;
  const url = displayUrl(server.url);

  return {
    async deadline(what, signal, run) {
      const timeout = new AbortController();
      const timer = setTimeout(() => {
        timeout.abort(
          new GatewayError('UPSTREAM_TIMEOUT', `upstream ${server.name} did not answer ${what} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const combined = signal === undefined ? timeout.signal : AbortSignal.any([signal, timeout.signal]);
      try {
        return await run(combined);
      } catch (error) {
        if (signal?.aborted === true) throw signal.reason;
        if (timeout.signal.aborted) throw timeout.signal.reason;
        throw error;
      } finally {
        clearTimeout(timer);
      }
    },

    async send(init) {
      const headers = buildUpstreamHeaders(server, init.session, init.headers);
      if (init.method !== 'POST') headers.delete('content-type');
      // A GET opens an SSE stream: it accepts only that, unless the caller said otherwise.
      if (init.method === 'GET' && !new Headers(init.headers).has('accept')) headers.set('accept', 'text/event-stream');
      try {
        return await options.fetch(server.url, {
          method: init.method,
          headers,
          signal: init.signal,
          ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        });
      } catch (cause) {
        if (init.signal.aborted) throw init.signal.reason;
        throw upstreamUnavailable(server.name, url, init.what, cause);
      }
    },

    async ensureOk(response, session, what) {
      if (response.ok) return;
      const rpcError = await readRpcError(response);
      if (rpcError !== undefined) {
        const protocolError = protocolErrorFromRpcError(rpcError.code, rpcError.data);
        if (protocolError !== undefined) throw protocolError;
      }
      if (response.status === 404 && session?.sessionId !== undefined)
        throw new UpstreamSessionExpiredError(server.name);
      const detail = rpcError === undefined ? '' : `: ${rpcError.message}`;
      const cause = Object.assign(new Error(`HTTP ${response.status}${detail}`), { upstreamStatus: response.status });
      throw upstreamUnavailable(server.name, url, what, cause);
    },

    unavailable(what, cause) {
      return upstreamUnavailable(server.name, url, what, cause);
    },
  };
}

/** The JSON-RPC error object of an error response body, if it holds one. */
async function readRpcError(response: Response): Promise<{ code: number; message: string; data: unknown } | undefined> {
  const type = (response.headers.get('content-type') ?? '').toLowerCase();
  if (!type.includes('json')) {
    await response.body?.cancel().catch(() => {});
    return undefined;
  }
  try {
    const text = await response.text();
    if (text.length > MAX_ERROR_BODY_CHARS) return undefined;
    const parsed: unknown = JSON.parse(text);
    const error = isJsonObject(parsed) ? parsed['error'] : undefined;
    if (!isJsonObject(error) || typeof error['code'] !== 'number') return undefined;
    const message = typeof error['message'] === 'string' ? error['message'].slice(0, 300) : '';
    return { code: error['code'], message, data: error['data'] };
  } catch {
    return undefined;
  }
}
