import type { JsonRpcId } from '../protocol/json-rpc.ts';
import { createSseParser, encodeSseEvent, type SseEvent } from '../protocol/sse.ts';
import type { SessionStore } from '../store/session-store.ts';
import type { SessionRequest } from './endpoint-context.ts';

/** How long a server-to-client request waits for the client's answer: 1 h. */
export const PENDING_REQUEST_TTL_SECONDS = 3600;

/** Options of `relayUpstreamStream`. */
export interface RelayOptions {
  upstream: ReadableStream<Uint8Array>;
  /** The client's request id: the response carrying it ends the call. */
  requestId: JsonRpcId;
  server: string;
  backendSessionId: string;
  session: SessionRequest;
  store: SessionStore;
  /** Aborts the upstream fetch (client gone, timeout). */
  abort: AbortController;
  /** Longest silence allowed from the upstream before the client gets an error. */
  timeoutMs: number;
  rewriteResult?: (result: Record<string, unknown>) => Record<string, unknown>;
}

const encoder = new TextEncoder();

/**
 * Relays an upstream's SSE response to the client event by event. Server-to-client requests
 * (elicitation/create, sampling/createMessage, roots/list, ping) get a fresh gateway id,
 * remembered in the store with the upstream's own id, so the client's answer, which may reach
 * any replica, goes back to the upstream that asked. Event ids are dropped: the gateway does
 * not offer resumption of relayed streams.
 */
export function relayUpstreamStream(options: RelayOptions): ReadableStream<Uint8Array> {
  const { session, store } = options;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let output!: TransformStreamDefaultController<Uint8Array>;
  let finished = false;

  const arm = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      if (finished) return;
      finished = true;
      const error = {
        jsonrpc: '2.0',
        id: options.requestId,
        error: { code: -32603, message: `upstream ${options.server} sent nothing for ${options.timeoutMs} ms; call abandoned` },
      };
      try {
        output.enqueue(encoder.encode(encodeSseEvent({ event: 'message', data: JSON.stringify(error) })));
        output.terminate();
      } catch {
        // The client is already gone.
      }
      options.abort.abort();
    }, options.timeoutMs);
  };
  const stop = () => {
    finished = true;
    if (timer !== undefined) clearTimeout(timer);
  };

  const relay = new TransformStream<SseEvent, Uint8Array>({
    start(controller) {
      output = controller;
      arm();
    },
    async transform(event, controller) {
      arm();
      const data = await rewriteEvent(event.data, options);
      if (data === undefined) return;
      controller.enqueue(encoder.encode(encodeSseEvent({ event: event.event ?? 'message', data })));
    },
    flush() {
      stop();
    },
  });

  session.request.signal.addEventListener('abort', () => {
    stop();
    options.abort.abort();
  });
  return options.upstream.pipeThrough(createSseParser()).pipeThrough(relay);

  async function rewriteEvent(data: string, opts: RelayOptions): Promise<string | undefined> {
    if (data === '') return undefined;
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return data;
    }
    if (typeof message['method'] === 'string' && 'id' in message) {
      const gatewayId = crypto.randomUUID();
      await store.putPending(
        gatewayId,
        {
          jti: session.claims.jti,
          server: opts.server,
          backendSessionId: opts.backendSessionId,
          upstreamId: message['id'] as JsonRpcId,
        },
        PENDING_REQUEST_TTL_SECONDS,
      );
      return JSON.stringify({ ...message, id: gatewayId });
    }
    if (opts.rewriteResult !== undefined && message['id'] === opts.requestId && isObject(message['result'])) {
      return JSON.stringify({ ...message, result: opts.rewriteResult(message['result']) });
    }
    return data;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
