import type { GatewayMetrics } from '../telemetry/gateway-metrics.ts';
import { withTraceHeaders, withTraceMeta, type GatewaySpan } from '../telemetry/gateway-tracer.ts';
import { mcpClientAttributes, mcpSpanName } from '../telemetry/mcp-spans.ts';
import { isEventStream, whenSent } from '../protocol/when-sent.ts';
import type { CallTarget } from '../decision/route.ts';
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
  /** The JSON-RPC message, serialized here with the exchange's trace context in `params._meta`. */
  readonly message: {
    readonly jsonrpc: '2.0';
    readonly id: unknown;
    readonly method: string;
    readonly params?: unknown;
  };
  /** The request's span: the exchange is its child, and passes its context on. */
  readonly span: GatewaySpan;
  /** The upstream's own name for what is called (the exchange's span name and attributes). */
  readonly target?: CallTarget | undefined;
  /** Ends the exchange early (the client went away). */
  readonly signal?: AbortSignal | undefined;
  /** Told the upstream's HTTP status once its answer's headers arrive, or why none came. */
  readonly onOutcome?: ((outcome: number | GatewayError) => void) | undefined;
}

/**
 * POSTs one request to an upstream with the call deadline on the response headers (the body is
 * the relay's to time). A deadline passed is UPSTREAM_TIMEOUT, a failed connection
 * UPSTREAM_UNAVAILABLE naming the cause; both name the server. The exchange has a span of its
 * own (a child of the request's) whose W3C context goes upstream in the `traceparent` header and
 * in `params._meta`, as the MCP semantic conventions carry it; it ends with the answer's body.
 */
export async function postUpstream(
  access: UpstreamAccess,
  server: ServerConfig,
  post: UpstreamPost,
): Promise<UpstreamExchange | GatewayError> {
  const { message } = post;
  // Not recording, the request's span passes the caller's context on as it is: nothing to build.
  const span = post.span.recording
    ? post.span.client(
        mcpSpanName(message.method, post.target),
        mcpClientAttributes(message.method, server.url, post.target),
      )
    : post.span;
  span.requestId(message.id);
  const carrier = span.carrier;
  const traced = carrier['traceparent'] !== undefined;
  const body = JSON.stringify(traced ? { ...message, params: withTraceMeta(message.params, carrier) } : message);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), access.callTimeoutMs);
  const onClientGone = () => abort.abort();
  post.signal?.addEventListener('abort', onClientGone, { once: true });
  try {
    const response = await access.fetchFor(server)(server.url, {
      method: 'POST',
      headers: traced ? withTraceHeaders(post.headers, carrier) : post.headers,
      body,
      signal: abort.signal,
    });
    post.onOutcome?.(response.status);
    if (!span.recording) return { response, abort };
    if (response.status >= 400) {
      span.set({ 'http.response.status_code': response.status });
      span.fail(String(response.status));
    }
    // A JSON answer is read at once: the exchange ends with its headers; a stream when it ends.
    if (!isEventStream(response)) {
      span.end();
      return { response, abort };
    }
    return { response: whenSent(response, () => span.end()), abort };
  } catch (error) {
    const failure =
      abort.signal.aborted && post.signal?.aborted !== true
        ? new GatewayError(
            'UPSTREAM_TIMEOUT',
            `upstream ${server.name} did not answer ${message.method} within ${access.callTimeoutMs} ms`,
          )
        : new GatewayError('UPSTREAM_UNAVAILABLE', `upstream ${server.name} is unreachable: ${causeOf(error)}`, {
            cause: error,
          });
    post.onOutcome?.(failure);
    span.fail(failure.code, failure.message);
    span.end();
    return failure;
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
  /** The request's span: opening a backend session is an upstream exchange of it. */
  readonly span?: GatewaySpan;
  /** Told why no backend session could be opened (the call's outcome, as `UpstreamPost.onOutcome`). */
  readonly onOutcome?: ((outcome: GatewayError) => void) | undefined;
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
      backendSessionId = await ensureBackendSession(
        deps,
        claims,
        options.clientHeaders,
        server,
        options.client,
        known,
        options.span,
      );
    } catch (error) {
      const failure =
        error instanceof GatewayError
          ? error
          : new GatewayError('UPSTREAM_UNAVAILABLE', `could not open a session on upstream ${server.name}`, {
              cause: error,
            });
      options.onOutcome?.(failure);
      return failure;
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
