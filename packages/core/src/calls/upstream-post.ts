import type { GatewayMetrics } from '../telemetry/gateway-metrics.ts';
import type { UpstreamAccess } from '../backend/backend-exchange.ts';
import { ensureBackendSession, NO_BACKEND_SESSION } from '../backend/backend-session.ts';
import type { ServerConfig } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { SessionClaims } from '../session/session-token.ts';
import type { NotificationBus } from '../store/notification-bus.ts';
import type { SessionStore } from '../store/session-store.ts';
import type { UpstreamClient } from '../upstream/upstream-client.ts';

/** An upstream's answer whose headers arrived; `abort` ends the exchange (its body included). */
export interface UpstreamExchange {
  readonly response: Response;
  readonly abort: AbortController;
}

/** One POST to an upstream. */
export interface UpstreamPost {
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The JSON-RPC method, named in a timeout's message. */
  readonly method: string;
  /** Ends the exchange early (the client went away). */
  readonly signal?: AbortSignal | undefined;
  /** Told the upstream's HTTP status once its answer's headers arrive (the audit records it). */
  readonly onStatus?: ((status: number) => void) | undefined;
}

/**
 * POSTs one request to an upstream with the call deadline on the response headers (the body is
 * the relay's to time). A deadline passed is UPSTREAM_TIMEOUT, a failed connection
 * UPSTREAM_UNAVAILABLE naming the cause; both name the server.
 */
export async function postUpstream(
  access: UpstreamAccess,
  server: ServerConfig,
  post: UpstreamPost,
): Promise<UpstreamExchange | GatewayError> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), access.callTimeoutMs);
  const onClientGone = () => abort.abort();
  post.signal?.addEventListener('abort', onClientGone, { once: true });
  try {
    const response = await access.fetchFor(server)(server.url, {
      method: 'POST',
      headers: post.headers,
      body: post.body,
      signal: abort.signal,
    });
    post.onStatus?.(response.status);
    return { response, abort };
  } catch (error) {
    if (abort.signal.aborted && post.signal?.aborted !== true) {
      return new GatewayError(
        'UPSTREAM_TIMEOUT',
        `upstream ${server.name} did not answer ${post.method} within ${access.callTimeoutMs} ms`,
      );
    }
    return new GatewayError('UPSTREAM_UNAVAILABLE', `upstream ${server.name} is unreachable: ${causeOf(error)}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}

/** What sending on a backend session needs. */
export interface BackendSend {
  readonly deps: {
    readonly store: SessionStore;
    readonly bus: NotificationBus;
    readonly logger: Logger;
    readonly metrics?: GatewayMetrics;
  };
  /** Whose backend session: the gateway session (legacy clients) or the caller (2026-07-28 clients). */
  readonly claims: SessionClaims;
  /** The client's headers: its identity opens the backend session. */
  readonly clientHeaders: Headers;
  readonly server: ServerConfig;
  readonly client: UpstreamClient;
  /** The backend session the store already named for this pair, if any. */
  readonly known?: string | undefined;
  /** Sends the call on `backendSessionId`. */
  send(backendSessionId: string): Promise<UpstreamExchange | GatewayError>;
}

/** The outcome of {@link sendOnBackendSession}: the backend session used and the upstream's answer. */
export interface BackendOutcome {
  readonly backendSessionId: string;
  readonly outcome: UpstreamExchange | GatewayError;
}

/**
 * Sends a call on the backend session of (claims, server), opening one when there is none. An
 * upstream 404 means the backend session is gone (MCP: the session expired): it is dropped and
 * the call is sent once more on a new one. Resolves a GatewayError when no backend session can
 * be opened.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#session-management
 */
export async function sendOnBackendSession(options: BackendSend): Promise<BackendOutcome | GatewayError> {
  const { deps, claims, server } = options;
  let known = options.known;
  for (let attempt = 0; ; attempt++) {
    let backendSessionId: string;
    try {
      backendSessionId = await ensureBackendSession(deps, claims, options.clientHeaders, server, options.client, known);
    } catch (error) {
      return error instanceof GatewayError
        ? error
        : new GatewayError('UPSTREAM_UNAVAILABLE', `could not open a session on upstream ${server.name}`, {
            cause: error,
          });
    }
    const outcome = await options.send(backendSessionId);
    const gone =
      !(outcome instanceof GatewayError) &&
      outcome.response.status === 404 &&
      backendSessionId !== NO_BACKEND_SESSION &&
      attempt === 0;
    if (!gone) return { backendSessionId, outcome };
    await outcome.response.body?.cancel().catch(() => {});
    await deps.store.dropBackendSession(claims.jti, server.name, backendSessionId);
    deps.logger.info('backend session expired upstream; opening a new one', { server: server.name });
    known = undefined;
  }
}

function causeOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause as { code?: string; message?: string } | undefined;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}
