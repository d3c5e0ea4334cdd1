import { encodeSseComment, encodeSseEvent } from '../protocol/sse.ts';
import { BROADCAST_TOPIC, sessionTopic, type BusMessage } from '../store/notification-bus.ts';
import type { McpEndpointOptions, SessionRequest } from './endpoint-context.ts';

/** Default interval of keep-alive comments on notification streams: 15 s. */
export const DEFAULT_KEEP_ALIVE_MS = 15_000;

/**
 * Opens the client's standalone notification stream (GET /mcp): list_changed notifications for
 * every session and messages addressed to this session arrive here until the client leaves.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#listening-for-messages-from-the-server
 */
export function openNotificationStream(options: McpEndpointOptions, session: SessionRequest): Response {
  const encoder = new TextEncoder();
  const unsubscribers: (() => void)[] = [];
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  const close = () => {
    for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
    if (keepAlive !== undefined) clearInterval(keepAlive);
  };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const deliver = (message: BusMessage) => {
        try {
          controller.enqueue(encoder.encode(encodeSseEvent({ event: 'message', data: JSON.stringify(message) })));
        } catch {
          close();
        }
      };
      unsubscribers.push(options.bus.subscribe(BROADCAST_TOPIC, deliver));
      unsubscribers.push(options.bus.subscribe(sessionTopic(session.claims.jti), deliver));
      controller.enqueue(encoder.encode(encodeSseComment('stream open')));
      keepAlive = setInterval(() => {
        try {
          controller.enqueue(encoder.encode(encodeSseComment('keep-alive')));
        } catch {
          close();
        }
      }, options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS);
      session.request.signal.addEventListener('abort', () => {
        close();
        try {
          controller.close();
        } catch {
          // already closed
        }
      });
    },
    cancel() {
      close();
    },
  });
  return new Response(stream, {
    status: 200,
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' },
  });
}
