import type { Logger } from '../logger.ts';
import type { JsonObject } from './types.ts';
import { isJsonObject, sseEvents } from './upstream-exchange.ts';
import type { UpstreamHeaderSession } from './upstream-headers.ts';
import type { UpstreamHttp } from './upstream-http.ts';

/** How a standalone GET stream finished. */
export type NotificationStreamOutcome = 'ended' | 'unsupported';

/** Inputs of {@link openUpstreamStream}. */
export interface UpstreamStreamInit {
  readonly http: UpstreamHttp;
  readonly session: UpstreamHeaderSession;
  readonly signal: AbortSignal;
  /** Sent as `Last-Event-ID` to resume where the previous stream stopped. */
  readonly lastEventId: string | undefined;
  readonly onEventId: (id: string) => void;
  readonly onMessage: (message: JsonObject) => void;
  /** Answers an upstream request; must not throw. */
  readonly onServerRequest: (message: JsonObject) => Promise<void>;
  readonly logger: Logger;
  /**
   * Open a 2026-07-28 `subscriptions/listen` POST stream instead of the legacy GET stream:
   * the request id, params (with envelope) and standard headers.
   */
  readonly listen?: {
    readonly id: number | string;
    readonly params: JsonObject;
    readonly headers: Record<string, string>;
  };
}

/**
 * Opens the upstream's standalone SSE stream (GET) and pumps it until it closes. The deadline
 * covers only the response headers; the body lives as long as `signal`. 404, 405 and 2xx
 * answers that are not `text/event-stream` mean the upstream offers no stream ('unsupported');
 * other statuses and network failures reject with UPSTREAM_UNAVAILABLE. Aborting resolves 'ended'.
 * @see MCP 2025-11-25 basic/transports §Listening for Messages from the Server
 */
export async function openUpstreamStream(init: UpstreamStreamInit): Promise<NotificationStreamOutcome> {
  const { http, session, signal } = init;
  // The body must outlive the deadline (which covers only the headers), so the fetch gets its
  // own signal, tied to the deadline until the headers arrive and to `signal` throughout.
  const stream = new AbortController();
  const stop = (): void => stream.abort(signal.reason);
  signal.addEventListener('abort', stop, { once: true });
  try {
    const response = await receiveHeaders(init, stream);
    if (response === undefined) return 'ended';
    if (response.status === 404 || response.status === 405 || (response.ok && !isEventStream(response))) {
      await response.body?.cancel().catch(() => {});
      return 'unsupported';
    }
    await http.ensureOk(response, session, 'GET stream');
    await pump(response, init);
    return 'ended';
  } catch (error) {
    if (signal.aborted) return 'ended';
    throw error;
  } finally {
    signal.removeEventListener('abort', stop);
    stream.abort();
  }
}

async function receiveHeaders(init: UpstreamStreamInit, stream: AbortController): Promise<Response | undefined> {
  const { http, session, signal } = init;
  const { listen } = init;
  const headers =
    listen !== undefined
      ? listen.headers
      : init.lastEventId === undefined
        ? undefined
        : { 'last-event-id': init.lastEventId };
  try {
    return await http.deadline('GET stream', signal, async (deadlineSignal) => {
      const expire = (): void => stream.abort(deadlineSignal.reason);
      deadlineSignal.addEventListener('abort', expire, { once: true });
      try {
        if (listen !== undefined) {
          const body = { jsonrpc: '2.0', id: listen.id, method: 'subscriptions/listen', params: listen.params };
          return await http.send({
            method: 'POST',
            session,
            body,
            headers,
            signal: stream.signal,
            what: 'subscriptions/listen',
          });
        }
        return await http.send({ method: 'GET', session, headers, signal: stream.signal, what: 'GET stream' });
      } finally {
        deadlineSignal.removeEventListener('abort', expire);
      }
    });
  } catch (error) {
    if (signal.aborted) return undefined;
    throw error;
  }
}

async function pump(response: Response, init: UpstreamStreamInit): Promise<void> {
  try {
    for await (const event of sseEvents(response)) {
      if (event.id !== undefined) init.onEventId(event.id);
      if (event.data.trim() === '') continue;
      const message = parseMessage(event.data);
      if (message === undefined) {
        init.logger.warn('upstream sent a stream event that is not a JSON-RPC message; skipped');
      } else if (typeof message['method'] === 'string' && 'id' in message) {
        await init.onServerRequest(message);
      } else {
        init.onMessage(message);
      }
    }
  } catch (error) {
    if (init.signal.aborted) throw error;
    throw init.http.unavailable('reading the GET stream', error);
  }
}

function isEventStream(response: Response): boolean {
  return (response.headers.get('content-type') ?? '').toLowerCase().startsWith('text/event-stream');
}

function parseMessage(data: string): JsonObject | undefined {
  try {
    const parsed: unknown = JSON.parse(data);
    return isJsonObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
