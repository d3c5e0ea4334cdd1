import type { JsonRpcId } from '../protocol/json-rpc.ts';
import { MAX_ANSWER_EVENT_BYTES, createSseParser, encodeSseEvent, type SseEvent } from '../protocol/sse.ts';
import type { SessionStore } from '../store/session-store.ts';
import type { SessionRequest } from './endpoint-context.ts';
import { isServerRequest, rememberServerRequest } from './server-requests.ts';

/** How often a relay resumes an upstream stream that closed before the call's result. */
export const MAX_STREAM_RESUMES = 10;
/** Wait before resuming when the upstream sent no `retry:` hint. */
const DEFAULT_RESUME_DELAY_MS = 500;

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
  /**
   * Reopens the upstream stream after `lastEventId` (GET with Last-Event-ID), for upstreams that
   * close a call's stream early and expect the client to poll (MCP 2025-11-25, SEP-1699).
   * Resolves undefined when the upstream cannot resume.
   */
  resume?: (lastEventId: string) => Promise<ReadableStream<Uint8Array> | undefined>;
  /** Called once when the relay gives up on a silent upstream, so it can be told to cancel. */
  onAbandon?: (reason: string) => void;
}

const encoder = new TextEncoder();

/**
 * Relays an upstream's SSE response to the client event by event, as it arrives. Server-to-client
 * requests (elicitation/create, sampling/createMessage, roots/list, ping) get a fresh gateway id,
 * remembered in the store with the upstream's own id, so the client's answer, which may reach any
 * replica, goes back to the upstream that asked. When the upstream closes the stream before the
 * call's result, the relay resumes it upstream, so the client sees one unbroken stream. Event ids
 * are not passed on: the relayed stream is not resumable by the client.
 */
export function relayUpstreamStream(options: RelayOptions): ReadableStream<Uint8Array> {
  const { session, store } = options;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finished = false;
  let sawResult = false;
  let lastEventId: string | undefined;
  let retryMs = DEFAULT_RESUME_DELAY_MS;
  let resumes = 0;
  let reader = options.upstream.pipeThrough(createSseParser({ maxEventBytes: MAX_ANSWER_EVENT_BYTES })).getReader();

  const stop = () => {
    finished = true;
    if (timer !== undefined) clearTimeout(timer);
  };
  session.request.signal.addEventListener('abort', () => {
    stop();
    options.abort.abort();
  });

  return new ReadableStream<Uint8Array>({
    start(controller) {
      const arm = () => {
        if (timer !== undefined) clearTimeout(timer);
        timer = setTimeout(() => {
          if (finished) return;
          stop();
          const message = `upstream ${options.server} sent nothing for ${options.timeoutMs} ms; call abandoned`;
          try {
            controller.enqueue(errorEvent(options.requestId, message));
            controller.close();
          } catch {
            // The client is already gone.
          }
          options.abort.abort();
          reader.cancel().catch(() => {});
          options.onAbandon?.(message);
        }, options.timeoutMs);
      };
      arm();
      armTimer = arm;
    },
    async pull(controller) {
      for (;;) {
        if (finished) return;
        let next: ReadableStreamReadResult<SseEvent>;
        try {
          next = await reader.read();
        } catch (error) {
          if (finished) return;
          stop();
          controller.enqueue(
            errorEvent(options.requestId, `upstream ${options.server} stream failed: ${String(error)}`),
          );
          controller.close();
          return;
        }
        if (finished) return;
        if (next.done) {
          if (!sawResult && (await reopen())) continue;
          stop();
          if (!sawResult) {
            controller.enqueue(
              errorEvent(options.requestId, `upstream ${options.server} closed the stream before answering`),
            );
          }
          controller.close();
          return;
        }
        armTimer();
        const event = next.value;
        if (event.id !== undefined) lastEventId = event.id;
        if (event.retry !== undefined) retryMs = event.retry;
        const data = await rewriteEvent(event.data);
        // The silence timer may have ended the stream while the event was being rewritten.
        if (finished) return;
        if (data === undefined) continue;
        controller.enqueue(encoder.encode(encodeSseEvent({ event: event.event ?? 'message', data })));
        if (sawResult) {
          // The call is answered: end the client's stream even if the upstream keeps its own open,
          // so a silent upstream can neither add a second answer nor be told to cancel.
          stop();
          controller.close();
          reader.cancel().catch(() => {});
        }
        return;
      }
    },
    cancel() {
      stop();
      options.abort.abort();
      reader.cancel().catch(() => {});
    },
  });

  // Set in start(): re-arms the silence timer.
  // eslint-disable-next-line no-var
  var armTimer: () => void;

  async function reopen(): Promise<boolean> {
    if (options.resume === undefined || lastEventId === undefined || resumes >= MAX_STREAM_RESUMES) return false;
    resumes++;
    await new Promise((resolve) => setTimeout(resolve, Math.min(retryMs, options.timeoutMs)));
    if (finished) return false;
    const body = await options.resume(lastEventId).catch(() => undefined);
    if (body === undefined) return false;
    reader = body.pipeThrough(createSseParser({ maxEventBytes: MAX_ANSWER_EVENT_BYTES })).getReader();
    return true;
  }

  async function rewriteEvent(data: string): Promise<string | undefined> {
    if (data === '') return undefined;
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return data;
    }
    if (isServerRequest(message)) {
      const mapped = await rememberServerRequest(store, session, options.server, options.backendSessionId, message);
      return JSON.stringify(mapped);
    }
    if (message['id'] === options.requestId && ('result' in message || 'error' in message)) {
      sawResult = true;
      if (options.rewriteResult !== undefined && isObject(message['result'])) {
        return JSON.stringify({ ...message, result: options.rewriteResult(message['result']) });
      }
    }
    return data;
  }
}

function errorEvent(id: JsonRpcId, message: string): Uint8Array {
  const body = { jsonrpc: '2.0', id, error: { code: -32603, message } };
  return encoder.encode(encodeSseEvent({ event: 'message', data: JSON.stringify(body) }));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
