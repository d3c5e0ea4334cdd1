import {
  createSseParser,
  encodeSseComment,
  encodeSseEvent,
  MAX_ANSWER_EVENT_BYTES,
  type SseEvent,
} from '../protocol/sse.ts';

/** A JSON-RPC message as relayed (kept as an object so handlers can inspect it). */
export type RelayedMessage = Record<string, unknown>;

/** What a relay does with one upstream message. */
export interface RelayStep {
  /** Messages to send the client, in order. */
  readonly send: readonly RelayedMessage[];
  /**
   * 'continue' reads on; 'end' closes the client stream and the upstream exchange; 'park'
   * closes the client stream but leaves the upstream reader open for the caller (see `onPark`).
   */
  readonly next: 'continue' | 'end' | 'park';
}

/** An upstream message stream as a pull source of parsed JSON-RPC messages. */
export interface UpstreamMessages {
  /** Resolves the next message, or undefined when the upstream stream ended. */
  next(): Promise<RelayedMessage | undefined>;
  /** Ends the upstream exchange (cancels the body: for 2026-07-28 upstreams that is the cancellation). */
  cancel(): void;
  /** The last SSE event id seen (for resuming a legacy stream with Last-Event-ID). */
  lastEventId?(): string | undefined;
}

/** Parses an SSE body into JSON-RPC messages; events that are not JSON objects are skipped. */
export function upstreamMessages(body: ReadableStream<Uint8Array>): UpstreamMessages {
  const reader = body.pipeThrough(createSseParser({ maxEventBytes: MAX_ANSWER_EVENT_BYTES })).getReader();
  let lastEventId: string | undefined;
  return {
    async next() {
      for (;;) {
        const read = await reader.read();
        if (read.done) return undefined;
        if (read.value.id !== undefined && read.value.id !== '') lastEventId = read.value.id;
        const message = parseEvent(read.value);
        if (message !== undefined) return message;
      }
    },
    cancel() {
      reader.cancel().catch(() => {});
    },
    lastEventId: () => lastEventId,
  };
}

/** Options of {@link relayMessages}. */
export interface RelayMessagesOptions {
  readonly upstream: UpstreamMessages;
  /** Decides, per upstream message, what the client gets and whether the relay goes on. */
  readonly onMessage: (message: RelayedMessage) => RelayStep | Promise<RelayStep>;
  /** Messages sent when the upstream stream ends before a step said 'end' (an error answer). */
  readonly onUpstreamEnd: () => readonly RelayedMessage[];
  /** The upstream stayed silent this long: `onSilence` answers, the exchange is cancelled. */
  readonly silenceMs: number;
  readonly onSilence: () => readonly RelayedMessage[];
  /** Called with the still-open upstream when a step said 'park'. */
  readonly onPark?: (upstream: UpstreamMessages) => void;
  /** The client went away before the end (for 2026-07-28 this is the cancellation). */
  readonly onClientGone?: () => void;
  /** Keep-alive comment interval while waiting; 0 disables. */
  readonly keepAliveMs?: number;
}

const encoder = new TextEncoder();

/**
 * Relays an upstream's messages to the client as an SSE stream, one step per message. The
 * stream is pull-driven, so a slow client slows the upstream read, and a client that goes away
 * cancels the upstream exchange (unless the relay parked it).
 */
export function relayMessages(options: RelayMessagesOptions): ReadableStream<Uint8Array> {
  const { upstream } = options;
  let finished = false;
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  const finish = (controller: ReadableStreamDefaultController<Uint8Array>, messages: readonly RelayedMessage[]) => {
    finished = true;
    if (keepAlive !== undefined) clearInterval(keepAlive);
    for (const message of messages) controller.enqueue(encode(message));
    controller.close();
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const interval = options.keepAliveMs ?? 0;
      if (interval > 0) {
        keepAlive = setInterval(() => {
          if (!finished) controller.enqueue(encoder.encode(encodeSseComment('keep-alive')));
        }, interval);
      }
    },
    async pull(controller) {
      if (finished) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const silence = new Promise<'silent'>((resolve) => {
        timer = setTimeout(() => resolve('silent'), options.silenceMs);
      });
      let message: RelayedMessage | undefined | 'silent';
      try {
        message = await Promise.race([upstream.next(), silence]);
      } catch {
        message = undefined;
      } finally {
        clearTimeout(timer);
      }
      if (message === 'silent') {
        upstream.cancel();
        finish(controller, options.onSilence());
        return;
      }
      if (message === undefined) {
        finish(controller, options.onUpstreamEnd());
        return;
      }
      const step = await options.onMessage(message);
      if (step.next === 'continue') {
        for (const sent of step.send) controller.enqueue(encode(sent));
        return;
      }
      if (step.next === 'park') options.onPark?.(upstream);
      else upstream.cancel();
      finish(controller, step.send);
    },
    cancel() {
      if (keepAlive !== undefined) clearInterval(keepAlive);
      if (finished) return;
      finished = true;
      upstream.cancel();
      options.onClientGone?.();
    },
  });
}

/** The SSE response headers of a relayed stream. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
} as const;

function encode(message: RelayedMessage): Uint8Array {
  return encoder.encode(encodeSseEvent({ event: 'message', data: JSON.stringify(message) }));
}

function parseEvent(event: SseEvent): RelayedMessage | undefined {
  if (event.data.trim() === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(event.data);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as RelayedMessage)
      : undefined;
  } catch {
    return undefined;
  }
}
