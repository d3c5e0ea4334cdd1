import type { Logger } from '../logger.ts';
import type { JsonObject } from './types.ts';
import { isUpstreamSessionExpiredError } from './upstream-errors.ts';
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
}

/**
 * Opens the upstream's standalone SSE stream (GET) and pumps it until it closes. The deadline
 * covers only the response headers; the body lives as long as `signal`. 404, 405 and 2xx
 * answers that are not `text/event-stream` mean the upstream offers no stream ('unsupported');
 * other statuses and network failures reject with UPSTREAM_UNAVAILABLE. Aborting resolves 'ended'.
 * @see MCP 2025-11-25 basic/transports §Listening for Messages from the Server
 */
export async function openUpstreamStream(init: UpstreamStreamInit): Promise<NotificationStreamOutcome> {
  const { http, session, signal, logger } = init;
  const headers = init.lastEventId === undefined ? undefined : { 'last-event-id': init.lastEventId };
  let response: Response;
  try {
    // The deadline's signal aborts the body too, so only the headers are awaited under it and
    // the body is read with a fresh fetch signal tied to `signal` alone.
    response = await http.deadline('GET stream', signal, async (deadlineSignal) => {
      const stream = new AbortController();
      const forward = (): void => stream.abort(deadlineSignal.reason);
      deadlineSignal.addEventListener('abort', forward, { once: true });
      const answer = await http.send({ method: 'GET', session, headers, signal: stream.signal, what: 'GET stream' });
      deadlineSignal.removeEventListener('abort', forward);
      signal.addEventListener('abort', () => stream.abort(signal.reason), { once: true });
      return answer;
    });
  } catch (error) {
    if (signal.aborted) return 'ended';
    throw error;
  }
  if (response.status === 404 || response.status === 405) {
    await response.body?.cancel().catch(() => {});
    return 'unsupported';
  }
  try {
    await http.ensureOk(response, session, 'GET stream');
  } catch (error) {
    if (isUpstreamSessionExpiredError(error)) return 'unsupported';
    throw error;
  }
  const type = (response.headers.get('content-type') ?? '').toLowerCase();
  if (!type.startsWith('text/event-stream')) {
    await response.body?.cancel().catch(() => {});
    return 'unsupported';
  }
  try {
    for await (const event of sseEvents(response)) {
      if (event.id !== undefined) init.onEventId(event.id);
      if (event.data.trim() === '') continue;
      const message = parseMessage(event.data);
      if (message === undefined) {
        logger.warn('upstream sent a stream event that is not a JSON-RPC message; skipped');
      } else if (typeof message['method'] === 'string' && 'id' in message) {
        await init.onServerRequest(message);
      } else {
        init.onMessage(message);
      }
    }
  } catch (error) {
    if (signal.aborted) return 'ended';
    throw error;
  }
  return 'ended';
}

function parseMessage(data: string): JsonObject | undefined {
  try {
    const parsed: unknown = JSON.parse(data);
    return isJsonObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
