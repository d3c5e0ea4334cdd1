import type { GatewayMetrics } from '../telemetry/gateway-metrics.ts';
import { GatewayError } from '../errors.ts';
import type { ServerConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { SessionClaims } from '../session/session-token.ts';
import type { NotificationBus } from '../store/notification-bus.ts';
import type { SessionStore } from '../store/session-store.ts';
import type { UpstreamClient } from '../upstream/upstream-client.ts';
import { NO_SPAN, withTraceHeaders, type GatewaySpan } from '../telemetry/gateway-tracer.ts';
import { mcpClientAttributes } from '../telemetry/mcp-spans.ts';
import { clientIdentityHeaders } from './upstream-headers.ts';

/** Sentinel stored for upstreams that run without sessions (they issue no Mcp-Session-Id). */
export const NO_BACKEND_SESSION = '';

/** Bus topic on which a gateway session's newly created backend sessions are announced. */
export function backendSessionTopic(jti: string): string {
  return `backend:${jti}`;
}

/** Longest a new backend session waits for the client's notification stream to open the upstream's: 2 s. */
export const BACKEND_STREAM_READY_MS = 2_000;

/** How young a session is when its client may still be opening its notification stream: 5 s. */
const YOUNG_SESSION_S = 5;
/** Longest a young session's new backend session waits for that stream to appear: 500 ms. */
const STREAM_GRACE_MS = 500;
const STREAM_GRACE_STEP_MS = 50;

/** Client capabilities by which an upstream asks the client things (on the session's stream, too). */
const ASKED_CAPABILITIES = ['elicitation', 'sampling', 'roots'] as const;

/**
 * Whether the client of a session is likely to open its notification stream any moment now: it
 * declared a capability an upstream asks it by, and its session is a few seconds old at most.
 */
function expectsStream(claims: SessionClaims): boolean {
  if (claims.iat === undefined || Date.now() / 1000 - claims.iat > YOUNG_SESSION_S) return false;
  return ASKED_CAPABILITIES.some((name) => Object.hasOwn(claims.clientCapabilities, name));
}

/** What an announcement of a new backend session carries (on backendSessionTopic). */
export interface BackendSessionAnnouncement {
  readonly server: string;
  readonly backendSessionId: string;
  /** The topic to answer on once the upstream's standalone stream is open (or cannot be). */
  readonly ready?: string;
}

/**
 * Returns the backend session for (gateway session, server): the one already held, or a new one
 * created by an initialize on the client's behalf (its identity headers and declared capabilities,
 * so the upstream may send it elicitation, sampling and roots requests). Concurrent first calls
 * create exactly one (the store's single flight). A new one is announced on the bus; when the
 * client's notification stream is open (on any replica), the replica holding it opens the
 * upstream's standalone stream for it, and the new session is handed out only once that stream
 * is open (at most BACKEND_STREAM_READY_MS): an upstream that sends a request on the session
 * during the first call (sampling, roots, elicitation outside the request) would otherwise
 * send it before anyone listens, and an upstream without an event store drops it.
 * The initialize is an upstream exchange of the request `span` serves: a client span of it, whose
 * context goes upstream. Shared by the broker's forwarding and the ext_proc router.
 */
export async function ensureBackendSession(
  deps: { store: SessionStore; bus: NotificationBus; logger: Logger; metrics?: GatewayMetrics },
  claims: SessionClaims,
  clientHeaders: Headers,
  server: ServerConfig,
  client: UpstreamClient,
  known?: string,
  span: GatewaySpan = NO_SPAN,
): Promise<string> {
  if (known !== undefined) return known;
  const ttlSeconds = Math.max(1, claims.exp - Math.floor(Date.now() / 1000));
  return deps.store.ensureBackendSession(claims.jti, server.name, ttlSeconds, async () => {
    const exchange = span.client('initialize', mcpClientAttributes('initialize', server.url));
    try {
      const created = await client.initialize({
        capabilities: claims.clientCapabilities,
        headers: withTraceHeaders(clientIdentityHeaders(clientHeaders), exchange.carrier),
        useCredential: false,
      });
      exchange.end();
      deps.logger.debug('backend session created', { jti: claims.jti, server: server.name });
      deps.metrics?.backendSessionOpened(server.name);
      const id = created.sessionId ?? NO_BACKEND_SESSION;
      if (id !== NO_BACKEND_SESSION) {
        await announce(deps, claims, { server: server.name, backendSessionId: id });
      }
      return id;
    } catch (error) {
      const failure =
        error instanceof GatewayError
          ? error
          : new GatewayError('UPSTREAM_UNAVAILABLE', `could not open a session on upstream ${server.name}`, {
              cause: error,
            });
      exchange.fail(failure.code, failure.message);
      exchange.end();
      throw failure;
    }
  });
}

/**
 * Announces a new backend session to the client's notification stream, wherever it is, and waits
 * until that stream's replica says the upstream's standalone stream is open. Nobody listening
 * (no client stream open): nothing to wait for, and nothing more sent. Someone listening: this
 * side subscribes to the answer and announces once more, so an answer given before the
 * subscription was in force is given again (a listener answers a repeated announcement as soon as
 * the stream it is opening is open). Never throws: a bus failure only loses the wait.
 */
async function announce(
  deps: { bus: NotificationBus; logger: Logger },
  claims: SessionClaims,
  announcement: Omit<BackendSessionAnnouncement, 'ready'>,
): Promise<void> {
  const { jti } = claims;
  const ready = `backend-ready:${crypto.randomUUID()}`;
  const message = { ...announcement, ready };
  let stop: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    let listeners = await deps.bus.publish(backendSessionTopic(jti), message);
    // A client that can be asked things opens its notification stream right after initialize, and
    // its first call may race it: a young session waits a little for that stream to appear.
    if (listeners === 0 && expectsStream(claims)) {
      const until = Date.now() + STREAM_GRACE_MS;
      while (listeners === 0 && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, STREAM_GRACE_STEP_MS));
        listeners = await deps.bus.publish(backendSessionTopic(jti), message);
      }
    }
    if (listeners === 0) return;
    const opened = new Promise<boolean>((resolve) => {
      stop = deps.bus.subscribe(ready, () => resolve(true));
      timer = setTimeout(() => resolve(false), BACKEND_STREAM_READY_MS);
    });
    await deps.bus.settled();
    await deps.bus.publish(backendSessionTopic(jti), message);
    if (!(await opened))
      deps.logger.debug('the upstream stream of a new backend session was not open in time', { jti });
  } catch (error) {
    deps.logger.warn('could not announce a new backend session', { jti, error: String(error) });
  } finally {
    clearTimeout(timer);
    stop?.();
  }
}
