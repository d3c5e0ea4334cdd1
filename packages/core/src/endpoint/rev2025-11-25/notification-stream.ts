import { upstreamIdentity } from '../../backend/credential-headers.ts';
import { backendSessionTopic } from '../../backend/backend-session.ts';
import { relayBackendStream } from '../../backend/backend-stream.ts';
import { encodeSseComment, encodeSseEvent } from '../../protocol/sse.ts';
import type { SessionClaims } from '../../session/session-token.ts';
import {
  BROADCAST_TOPIC,
  isSessionTerminatedMessage,
  sessionTopic,
  type BusMessage,
} from '../../store/notification-bus.ts';
import type { EndpointContext } from '../endpoint-context.ts';

/**
 * Opens the client's standalone notification stream (GET /mcp): list_changed notifications for
 * every session and messages addressed to this session arrive here until the client leaves.
 * One stream per session and process, so no message is delivered twice: a client that opens a
 * new one (after a network break, say) replaces the old one, which is closed.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#listening-for-messages-from-the-server
 */
export function openNotificationStream(
  ctx: EndpointContext,
  request: Request,
  claims: SessionClaims,
  open: Map<string, () => void>,
): Response {
  const { jti } = claims;
  open.get(jti)?.();
  const encoder = new TextEncoder();
  const unsubscribers: (() => void)[] = [];
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  const upstreams = new AbortController();
  let closeController = () => {};
  const close = () => {
    if (open.get(jti) === replace) open.delete(jti);
    upstreams.abort();
    for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
    if (keepAlive !== undefined) clearInterval(keepAlive);
  };
  const replace = () => {
    close();
    closeController();
  };
  open.set(jti, replace);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      closeController = () => {
        try {
          controller.close();
        } catch {
          // already closed
        }
      };
      const deliver = (message: BusMessage) => {
        try {
          controller.enqueue(encoder.encode(encodeSseEvent({ event: 'message', data: JSON.stringify(message) })));
        } catch {
          close();
        }
      };
      unsubscribers.push(ctx.bus.subscribe(BROADCAST_TOPIC, deliver));
      unsubscribers.push(
        ctx.bus.subscribe(sessionTopic(jti), (message) => {
          // The session ended on some replica (DELETE): end this stream; the message stays internal.
          if (isSessionTerminatedMessage(message)) replace();
          else deliver(message);
        }),
      );
      // What upstreams send on this client's backend sessions outside calls comes here too. Each
      // relay's promise resolves once the upstream answered its first GET (see relayBackendStream).
      const attached = new Map<string, Promise<void>>();
      const attach = (serverName: unknown, backendSessionId: unknown, ready?: unknown) => {
        // The creator of a new backend session waits for its upstream stream: tell it when it may go on.
        const answer = () => {
          if (typeof ready === 'string') void ctx.bus.publish(ready, { open: true }).catch(() => {});
        };
        if (typeof serverName !== 'string' || typeof backendSessionId !== 'string') return answer();
        const server = ctx.upstreams.server(serverName);
        const key = `${serverName}\u0000${backendSessionId}`;
        const opening = attached.get(key);
        if (opening !== undefined) return void opening.then(answer);
        if (server === undefined || backendSessionId === '' || upstreams.signal.aborted) return answer();
        let opened!: () => void;
        attached.set(key, new Promise<void>((resolve) => (opened = resolve)));
        void relayBackendStream({
          access: ctx,
          store: ctx.store,
          jti,
          clientHeaders: upstreamIdentity(server, request.headers),
          protocolVersion: () => ctx.upstreams.sessionVersion(serverName),
          server,
          backendSessionId,
          deliver,
          signal: upstreams.signal,
          onOpen: () => {
            opened();
            answer();
          },
        }).finally(() => attached.delete(key));
      };
      unsubscribers.push(
        ctx.bus.subscribe(backendSessionTopic(jti), (m) => attach(m['server'], m['backendSessionId'], m['ready'])),
      );
      ctx.store.backendSessions(jti).then(
        (held) => {
          for (const [server, id] of Object.entries(held)) attach(server, id);
        },
        () => {},
      );
      controller.enqueue(encoder.encode(encodeSseComment('stream open')));
      keepAlive = setInterval(() => {
        try {
          controller.enqueue(encoder.encode(encodeSseComment('keep-alive')));
        } catch {
          close();
        }
      }, ctx.keepAliveMs);
      request.signal.addEventListener('abort', () => {
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
