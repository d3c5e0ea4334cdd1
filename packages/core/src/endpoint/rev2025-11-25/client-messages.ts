import { postToBackend } from '../../backend/backend-exchange.ts';
import { NO_BACKEND_SESSION } from '../../backend/backend-session.ts';
import { clientIdentityHeaders } from '../../backend/upstream-headers.ts';
import { upstreamIdentity } from '../../backend/credential-headers.ts';
import { modernCallKey } from '../../calls/call-context.ts';
import { GatewayError } from '../../errors.ts';
import { toErrorResponse } from '../../protocol/error-mapping.ts';
import type { JsonRpcMessage } from '../../protocol/json-rpc.ts';
import { DEFAULT_NEGOTIATED_PROTOCOL_VERSION } from '../../protocol/versions.ts';
import { INPUT_REQUEST_MARKER, inputAnswerTopic } from '../../relay/server-requests.ts';
import { SESSION_TERMINATED_MESSAGE, sessionTopic } from '../../store/notification-bus.ts';
import type { EndpointContext, SessionRequest } from '../endpoint-context.ts';
import { wholeResponse } from '../../protocol/when-sent.ts';

/** Notifications a client sends that concern every upstream holding a backend session for it. */
const FANNED_OUT_NOTIFICATIONS = new Set(['notifications/cancelled', 'notifications/roots/list_changed']);

/**
 * Takes a client's answer to a server-to-client request (elicitation, sampling, roots): finds
 * the upstream that asked by the gateway id and posts the answer there with the upstream's own id.
 * 202 when delivered; 400 when the id is unknown, already answered or belongs to another session.
 */
export async function deliverClientResponse(
  ctx: EndpointContext,
  session: SessionRequest,
  message: JsonRpcMessage,
): Promise<Response> {
  const id = (message as { id?: unknown }).id;
  const pending = typeof id === 'string' ? await ctx.store.takePending(id) : undefined;
  if (pending === undefined || pending.jti !== session.claims.jti) {
    return toErrorResponse(
      new GatewayError('INVALID_REQUEST', `No pending request with id ${JSON.stringify(id)} for this session`),
      null,
      session.logger,
    );
  }
  if (pending.backendSessionId === INPUT_REQUEST_MARKER) {
    // The answer to an input request of a 2026-07-28 upstream: the waiting call (on any replica) retries with it.
    await ctx.bus.publish(inputAnswerTopic(id as string), { ...(message as unknown as Record<string, unknown>) });
    return wholeResponse(null, { status: 202 });
  }
  await postToUpstream(ctx, session, pending.server, pending.backendSessionId, {
    ...message,
    id: pending.upstreamId,
  });
  return wholeResponse(null, { status: 202 });
}

/**
 * Takes a client notification. notifications/cancelled and roots/list_changed go to every
 * upstream where the client holds a backend session (request ids are unique per client, so an
 * upstream that does not know the id ignores the cancel); the rest need no upstream.
 */
export async function deliverClientNotification(
  ctx: EndpointContext,
  session: SessionRequest,
  message: JsonRpcMessage & { method: string },
): Promise<Response> {
  if (message.method === 'notifications/cancelled') {
    const params = (message as { params?: { requestId?: unknown } }).params;
    ctx.modernCalls.get(modernCallKey(session.claims.jti, params?.requestId))?.abort();
  }
  if (FANNED_OUT_NOTIFICATIONS.has(message.method)) {
    const held = await ctx.store.backendSessions(session.claims.jti);
    const deliveries = Object.entries(held).map(([server, backendSessionId]) =>
      postToUpstream(ctx, session, server, backendSessionId, message),
    );
    const sent = Promise.allSettled(deliveries);
    if (session.context.waitUntil !== undefined) session.context.waitUntil(sent);
    else await sent;
  }
  return wholeResponse(null, { status: 202 });
}

/** Ends a gateway session (DELETE): marks it terminated and closes its backend sessions upstream. */
export async function terminateSession(ctx: EndpointContext, session: SessionRequest): Promise<Response> {
  const ttlSeconds = Math.max(1, session.claims.exp - Math.floor(Date.now() / 1000));
  const held = await ctx.store.terminate(session.claims.jti, ttlSeconds);
  ctx.metrics.session('ended', session.claims.jti);
  // The client's GET stream may be held by another replica: tell whichever holds it to end it.
  ctx.bus.publish(sessionTopic(session.claims.jti), SESSION_TERMINATED_MESSAGE).catch((error: unknown) => {
    session.logger.warn('could not announce the end of a session', { error: String(error) });
  });
  const closing = Promise.allSettled(
    Object.entries(held).map(async ([server, backendSessionId]) => {
      const client = ctx.upstreams.client(server);
      const config = ctx.upstreams.server(server);
      if (client === undefined || config === undefined || backendSessionId === NO_BACKEND_SESSION) return;
      await client.close(
        {
          sessionId: backendSessionId,
          protocolVersion: ctx.upstreams.sessionVersion(server) ?? DEFAULT_NEGOTIATED_PROTOCOL_VERSION,
          capabilities: {},
          useCredential: false,
        },
        {
          headers: clientIdentityHeaders(upstreamIdentity(config, session.request.headers)),
          signal: AbortSignal.timeout(5_000),
        },
      );
    }),
  );
  if (session.context.waitUntil !== undefined) session.context.waitUntil(closing);
  else await closing;
  session.logger.info('session terminated', { backendSessions: Object.keys(held).length });
  return wholeResponse(null, { status: 200 });
}

async function postToUpstream(
  ctx: EndpointContext,
  session: SessionRequest,
  serverName: string,
  backendSessionId: string,
  message: object,
): Promise<void> {
  const server = ctx.upstreams.server(serverName);
  if (server === undefined) return;
  const protocolVersion = ctx.upstreams.sessionVersion(serverName);
  await postToBackend(
    ctx,
    { server, backendSessionId, protocolVersion, clientHeaders: upstreamIdentity(server, session.request.headers) },
    message,
    session.logger,
  );
}
