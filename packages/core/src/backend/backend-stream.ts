import { prefixUri } from '../catalog/tool-prefix.ts';
import type { ServerConfig } from '../config/schema.ts';
import { createSseParser } from '../protocol/sse.ts';
import { isServerRequest, rememberServerRequest } from '../relay/server-requests.ts';
import type { SessionStore } from '../store/session-store.ts';
import type { UpstreamAccess } from './backend-exchange.ts';
import { clientIdentityHeaders } from './upstream-headers.ts';

/**
 * Notifications an upstream sends on a backend session that the client must not see raw: the
 * gateway's own watcher turns upstream list changes into its own list_changed, after the
 * catalog is rebuilt.
 */
const GATEWAY_OWNED_NOTIFICATIONS = new Set([
  'notifications/tools/list_changed',
  'notifications/prompts/list_changed',
  'notifications/resources/list_changed',
]);

/** Consecutive failed connects after which a backend stream is given up. */
const MAX_FAILURES = 10;

/** Options of `relayBackendStream`. */
export interface BackendStreamOptions {
  access: Pick<UpstreamAccess, 'fetchFor'>;
  store: SessionStore;
  /** The gateway session the stream belongs to. */
  jti: string;
  /** The client's request headers (its identity goes with the GET). */
  clientHeaders: Headers;
  /** The version negotiated on the backend session, read at each (re)connect. */
  protocolVersion: () => string | undefined;
  server: ServerConfig;
  backendSessionId: string;
  /** Delivers one message to the client's notification stream. */
  deliver: (message: Record<string, unknown>) => void;
  /** Ends the relay (the client's stream closed). */
  signal: AbortSignal;
  /**
   * Called once, when the upstream answered the first GET (the stream is open, or the upstream
   * offers none) or the relay gave up or ended first: whoever waits for the stream may go on.
   */
  onOpen?: () => void;
}

/**
 * Relays what an upstream sends on a backend session's standalone stream (GET), outside any
 * call: log messages, resource updates, and requests such as an elicitation not tied to a call,
 * which get gateway ids like those relayed on call streams. Runs while the client's own GET
 * stream is open; reconnects with Last-Event-ID and backoff; stops when the upstream offers no
 * such stream (405), the backend session is gone (404) or another listener holds it (409).
 */
export async function relayBackendStream(options: BackendStreamOptions): Promise<void> {
  let notified = false;
  const opened = () => {
    if (notified) return;
    notified = true;
    options.onOpen?.();
  };
  try {
    await relay(options, opened);
  } finally {
    opened();
  }
}

async function relay(options: BackendStreamOptions, opened: () => void): Promise<void> {
  const { access, server, signal } = options;
  let lastEventId: string | undefined;
  let retryMs = 1000;
  let failures = 0;
  while (!signal.aborted && failures < MAX_FAILURES) {
    const headers: Record<string, string> = {
      ...clientIdentityHeaders(options.clientHeaders),
      accept: 'text/event-stream',
      'mcp-session-id': options.backendSessionId,
    };
    const version = options.protocolVersion();
    if (version !== undefined) headers['mcp-protocol-version'] = version;
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    let response: Response;
    try {
      response = await access.fetchFor(server)(server.url, { method: 'GET', headers, signal });
    } catch {
      opened();
      if (signal.aborted) return;
      failures++;
      await pause(Math.min(1000 * 2 ** failures, 30_000), signal);
      continue;
    }
    // The upstream holds the stream once it answered: what it sends from now on reaches the client.
    opened();
    const type = response.headers.get('content-type') ?? '';
    if ([404, 405, 409].includes(response.status) || (response.ok && !type.includes('text/event-stream'))) {
      await response.body?.cancel().catch(() => {});
      return;
    }
    if (!response.ok || response.body === null) {
      await response.body?.cancel().catch(() => {});
      failures++;
      await pause(Math.min(1000 * 2 ** failures, 30_000), signal);
      continue;
    }
    failures = 0;
    try {
      for await (const event of response.body.pipeThrough(createSseParser())) {
        if (event.id !== undefined) lastEventId = event.id;
        if (event.retry !== undefined) retryMs = event.retry;
        const message = await toClientMessage(options, event.data);
        if (message !== undefined) options.deliver(message);
      }
    } catch {
      if (signal.aborted) return;
    }
    await pause(retryMs, signal);
  }
}

async function toClientMessage(
  options: BackendStreamOptions,
  data: string,
): Promise<Record<string, unknown> | undefined> {
  if (data === '') return undefined;
  let message: Record<string, unknown>;
  try {
    message = JSON.parse(data) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null || typeof message['method'] !== 'string') return undefined;
  if (isServerRequest(message)) {
    const { store, jti, server, backendSessionId } = options;
    return rememberServerRequest(store, jti, server.name, backendSessionId, message);
  }
  if (GATEWAY_OWNED_NOTIFICATIONS.has(message['method'])) return undefined;
  const params = message['params'] as Record<string, unknown> | undefined;
  if (message['method'] === 'notifications/resources/updated' && typeof params?.['uri'] === 'string') {
    return { ...message, params: { ...params, uri: prefixUri(options.server.prefix, params['uri']) } };
  }
  return message;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
