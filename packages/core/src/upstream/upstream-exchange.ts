import type { JsonObject } from './types.ts';
import { MAX_ANSWER_EVENT_BYTES, createSseParser, type SseEvent } from '../protocol/sse.ts';
import { sleep } from './backoff.ts';
import { UpstreamRpcError, upstreamProtocolError } from './upstream-errors.ts';

/** A JSON-RPC id as the gateway issues them. */
export type RpcId = string | number;

/** What reading one response needs besides the Response itself. */
export interface ExchangeContext {
  /** Config name of the upstream, for messages. */
  readonly server: string;
  /** JSON-RPC method of the request being answered, for messages. */
  readonly method: string;
  readonly signal: AbortSignal;
  /** Handles a request the upstream sends mid-stream (ping, …); must not throw. */
  readonly onServerRequest: (message: JsonObject) => Promise<void>;
  /** Re-opens the stream with GET + Last-Event-ID after the upstream closed it early. */
  readonly resume: (lastEventId: string) => Promise<Response>;
}

/** Stream reconnections allowed for one request (the per-request timeout bounds them too). */
const MAX_RESUMES = 32;
/** Wait before resuming when the upstream sent no `retry:` field. */
const DEFAULT_RESUME_DELAY_MS = 1000;

/** True when `value` is a plain JSON object. */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads the answer to request `id` from a 2xx POST response, `application/json` or
 * `text/event-stream`. In a stream, notifications are skipped, upstream requests go to
 * `onServerRequest`, and an early close after an event id is resumed (SSE polling).
 * Resolves with `result`; a JSON-RPC error rejects with UpstreamRpcError; anything malformed
 * rejects with UPSTREAM_PROTOCOL_ERROR.
 * @see MCP 2025-11-25 basic/transports §Sending Messages to the Server, §Resumability and Redelivery
 */
export async function readRpcResult(response: Response, id: RpcId, context: ExchangeContext): Promise<JsonObject> {
  const type = (response.headers.get('content-type') ?? '').toLowerCase();
  if (type.startsWith('application/json')) {
    const parsed = parseJson(await response.text(), context);
    const messages = Array.isArray(parsed) ? parsed : [parsed];
    const answer = messages.find((m) => isJsonObject(m) && m['id'] === id && !('method' in m));
    if (answer === undefined)
      throw upstreamProtocolError(
        `upstream ${context.server} answered ${context.method} without a response for its id`,
      );
    return toResult(answer as JsonObject, context);
  }
  if (type.startsWith('text/event-stream')) return readStream(response, id, context);
  await response.body?.cancel();
  throw upstreamProtocolError(
    `upstream ${context.server} answered ${context.method} with HTTP ${response.status} and content type "${type || 'none'}"`,
  );
}

async function readStream(first: Response, id: RpcId, context: ExchangeContext): Promise<JsonObject> {
  let response = first;
  let lastEventId: string | undefined;
  let retryMs = DEFAULT_RESUME_DELAY_MS;
  for (let resumes = 0; ; resumes++) {
    for await (const event of sseEvents(response)) {
      if (event.id !== undefined) lastEventId = event.id;
      if (event.retry !== undefined) retryMs = event.retry;
      if (event.data.trim() === '') continue;
      const message = parseJson(event.data, context);
      if (!isJsonObject(message)) continue;
      if (typeof message['method'] === 'string') {
        if ('id' in message) await context.onServerRequest(message);
        continue;
      }
      if (message['id'] === id) return toResult(message, context);
    }
    if (lastEventId === undefined || resumes >= MAX_RESUMES) {
      throw upstreamProtocolError(`upstream ${context.server} closed the ${context.method} stream without answering`);
    }
    await sleep(retryMs, context.signal);
    response = await context.resume(lastEventId);
  }
}

/** Yields the SSE events of a response body (an empty body yields nothing). */
export async function* sseEvents(response: Response): AsyncGenerator<SseEvent> {
  if (response.body === null) return;
  const reader = response.body.pipeThrough(createSseParser({ maxEventBytes: MAX_ANSWER_EVENT_BYTES })).getReader();
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // Ends the HTTP exchange when the caller stops early (answer found, abort).
    reader.cancel().catch(() => {});
  }
}

function toResult(message: JsonObject, context: ExchangeContext): JsonObject {
  const error = message['error'];
  if (isJsonObject(error)) {
    const code = typeof error['code'] === 'number' ? error['code'] : -32603;
    const text = typeof error['message'] === 'string' ? error['message'] : 'upstream error';
    throw new UpstreamRpcError(code, text, error['data']);
  }
  const result = message['result'];
  if (!isJsonObject(result))
    throw upstreamProtocolError(
      `upstream ${context.server} answered ${context.method} with a result that is not an object`,
    );
  return result;
}

function parseJson(text: string, context: ExchangeContext): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw upstreamProtocolError(`upstream ${context.server} sent invalid JSON answering ${context.method}`, cause);
  }
}
