import { createSseParser, MAX_ANSWER_EVENT_BYTES, type SseEvent } from '../protocol/sse.ts';

/** A JSON-RPC message as relayed (kept as an object so the relay can judge and rewrite it). */
export type RelayedMessage = Record<string, unknown>;

/** An upstream's answer to one request as a pull source of parsed JSON-RPC messages. */
export interface MessageSource {
  /** Resolves the next message, or undefined when the source ended. */
  next(): Promise<RelayedMessage | undefined>;
  /** Ends the upstream exchange (cancels the body: for 2026-07-28 upstreams that is the cancellation). */
  cancel(): void;
  /** The last SSE event id seen (for resuming a legacy stream with Last-Event-ID). */
  lastEventId?(): string | undefined;
  /** The upstream's last `retry:` hint in ms, if it gave one. */
  retryMs?(): number | undefined;
}

/** How often a relay resumes an upstream stream that closed before the call's result. */
export const MAX_STREAM_RESUMES = 10;
/** Wait before resuming a stream that closed early when the upstream sent no `retry:` hint. */
export const DEFAULT_RESUME_DELAY_MS = 500;

/**
 * Parses an SSE body into JSON-RPC messages: each event's data is one message, or a batch
 * (array) of messages given one by one; data that is not JSON, and array members that are not
 * objects, are skipped.
 */
export function sseMessages(body: ReadableStream<Uint8Array>): MessageSource {
  const reader = body.pipeThrough(createSseParser({ maxEventBytes: MAX_ANSWER_EVENT_BYTES })).getReader();
  let lastEventId: string | undefined;
  let retry: number | undefined;
  const queued: RelayedMessage[] = [];
  return {
    async next() {
      for (;;) {
        const waiting = queued.shift();
        if (waiting !== undefined) return waiting;
        const read = await reader.read();
        if (read.done) return undefined;
        if (read.value.id !== undefined && read.value.id !== '') lastEventId = read.value.id;
        if (read.value.retry !== undefined) retry = read.value.retry;
        queued.push(...parseEventData(read.value));
      }
    },
    cancel() {
      reader.cancel().catch(() => {});
    },
    lastEventId: () => lastEventId,
    retryMs: () => retry,
  };
}

/** A JSON answer (one message, or a batch) as a message source; undefined when it is not JSON. */
export function jsonMessages(text: string): MessageSource | undefined {
  const messages = parseMessages(text);
  if (messages === undefined) return undefined;
  return {
    next: () => Promise.resolve(messages.shift()),
    cancel: () => {
      messages.length = 0;
    },
  };
}

/** Options of {@link resumableSource}. */
export interface ResumableOptions {
  /** The last event id seen before `first` (a parked call's). */
  readonly lastEventId?: string | undefined;
  /** Reopens the stream after that event id (GET with Last-Event-ID); undefined when it cannot. Absent: no resuming. */
  readonly resume?: ((lastEventId: string) => Promise<MessageSource | undefined>) | undefined;
  /** Stops waiting and resuming (the call ended). */
  readonly signal?: AbortSignal;
}

/**
 * Reads `first` (when there is one) and, when it ends or fails, resumes the stream from the last
 * event id seen, after the upstream's `retry:` hint (default 500 ms), at most MAX_STREAM_RESUMES
 * times, never without an event id: MCP upstreams may close a call's stream early and expect
 * the client to poll (2025-11-25, SEP-1699), and the client must see one unbroken stream.
 * @see MCP 2025-11-25 basic/transports §Resumability and Redelivery
 */
export function resumableSource(first: MessageSource | undefined, options: ResumableOptions): MessageSource {
  let current = first;
  let last = options.lastEventId;
  let retry: number | undefined;
  let resumes = 0;
  return {
    async next() {
      for (;;) {
        if (current !== undefined) {
          let message: RelayedMessage | undefined;
          try {
            message = await current.next();
          } catch {
            message = undefined;
          }
          last = current.lastEventId?.() ?? last;
          retry = current.retryMs?.() ?? retry;
          if (message !== undefined) return message;
          current.cancel();
          current = undefined;
          if (options.resume === undefined || last === undefined || resumes >= MAX_STREAM_RESUMES) return undefined;
          await pause(retry ?? DEFAULT_RESUME_DELAY_MS, options.signal);
        }
        if (options.resume === undefined || last === undefined || resumes >= MAX_STREAM_RESUMES) return undefined;
        if (options.signal?.aborted === true) return undefined;
        resumes += 1;
        current = await options.resume(last).catch(() => undefined);
        if (current === undefined) return undefined;
      }
    },
    cancel() {
      current?.cancel();
      current = undefined;
      resumes = MAX_STREAM_RESUMES;
    },
    lastEventId: () => last,
    retryMs: () => retry,
  };
}

/** The JSON-RPC messages of a JSON text: one object, or the objects of a batch; undefined when not JSON. */
export function parseMessages(text: string): RelayedMessage[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (Array.isArray(parsed)) return parsed.filter(isMessage);
  return isMessage(parsed) ? [parsed] : [];
}

function parseEventData(event: SseEvent): RelayedMessage[] {
  if (event.data.trim() === '') return [];
  return parseMessages(event.data) ?? [];
}

function isMessage(value: unknown): value is RelayedMessage {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
