import { encodeSseComment, encodeSseEvent } from '../protocol/sse.ts';
import type { MessageSource, RelayedMessage } from './upstream-messages.ts';

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

/** Options of {@link relayMessages}. */
export interface RelayMessagesOptions {
  readonly upstream: MessageSource;
  /** Decides, per upstream message, what the client gets and whether the relay goes on. */
  readonly onMessage: (message: RelayedMessage) => RelayStep | Promise<RelayStep>;
  /** Messages sent when the upstream stream ends before a step said 'end' (an error answer). */
  readonly onUpstreamEnd: () => readonly RelayedMessage[];
  /** Messages sent when `onMessage` fails (the store is unreachable, say): the relay ends. */
  readonly onError: (error: unknown) => readonly RelayedMessage[];
  /** The upstream stayed silent this long: `onSilence` answers, the exchange is cancelled. */
  readonly silenceMs: number;
  readonly onSilence: () => readonly RelayedMessage[];
  /** Called with the still-open upstream when a step said 'park'. */
  readonly onPark?: (upstream: MessageSource) => void;
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
    for (const message of messages) enqueue(controller, message);
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
      // One pull reads until something is sent or the relay ends: a pull that enqueues nothing
      // would not be called again while the client waits.
      for (;;) {
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
        // The client may have gone away while the upstream was read.
        if (finished) return;
        if (message === 'silent') {
          upstream.cancel();
          finish(controller, options.onSilence());
          return;
        }
        if (message === undefined) {
          finish(controller, options.onUpstreamEnd());
          return;
        }
        let step: RelayStep;
        try {
          step = await options.onMessage(message);
        } catch (error) {
          if (finished) return;
          upstream.cancel();
          finish(controller, options.onError(error));
          return;
        }
        if (finished) return;
        if (step.next === 'continue') {
          for (const sent of step.send) enqueue(controller, sent);
          if (step.send.length > 0) return;
          continue;
        }
        if (step.next === 'park') options.onPark?.(upstream);
        else upstream.cancel();
        finish(controller, step.send);
        return;
      }
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

/** Sends one message as an SSE event; a message that cannot be serialized (nested too deep) is skipped. */
function enqueue(controller: ReadableStreamDefaultController<Uint8Array>, message: RelayedMessage): void {
  let data: string;
  try {
    data = JSON.stringify(message);
  } catch {
    return;
  }
  controller.enqueue(encoder.encode(encodeSseEvent({ event: 'message', data })));
}
