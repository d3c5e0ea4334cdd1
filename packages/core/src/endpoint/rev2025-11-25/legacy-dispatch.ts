import { quotaCheckOf } from '../../decision/call-quota.ts';
import { decideRoute, type RouteDecision } from '../../decision/route.ts';
import type { Authentication } from '../../identity/authentication.ts';
import type { Logger } from '../../logger.ts';
import { jsonResponse, rpcErrorResponse, toErrorResponse } from '../../protocol/error-mapping.ts';
import {
  toolErrorResult,
  type JsonRpcMessage,
  type JsonRpcMessageKind,
  type JsonRpcRequest,
} from '../../protocol/json-rpc.ts';
import type { SessionClaims } from '../../session/session-token.ts';
import type { EndpointContext, RequestContext, SessionRequest } from '../endpoint-context.ts';
import { forwardGuarded } from '../guarded-call.ts';
import { deliverClientNotification, deliverClientResponse, terminateSession } from './client-messages.ts';
import { sessionOwner } from '../discovery-answers.ts';
import { answerInitialize, answerLocal } from './local-answers.ts';
import { openNotificationStream } from './notification-stream.ts';
import { mcpSessionAttributes } from '../../telemetry/mcp-spans.ts';

/** The legacy-era state of one endpoint: the GET stream open on this process per session. */
export interface LegacyStreams {
  /** Closes the notification stream this process holds for a session (a newer one replaces it). */
  readonly open: Map<string, () => void>;
}

/**
 * Serves one legacy POST (protocol 2024-11-05 to 2025-11-25): initialize opens a session; every
 * other message needs one, which the session gate admits (a valid token of this gateway,
 * presented with the credential that opened it, not ended) before anything else happens, so a
 * request on an ended or foreign session gets 404 whatever it asks. A tools/call under a quota is
 * the one exception: whether its session ended is read with its quota's admission, in one store
 * round trip, once the access decision allowed it (see forwardGuarded); it still gets 404 and is
 * never forwarded. Requests are then routed:
 * answered here, forwarded to the owning upstream, or refused.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#sending-messages-to-the-server
 */
export async function handleLegacyPost(
  ctx: EndpointContext,
  request: Request,
  context: RequestContext,
  message: JsonRpcMessage,
  kind: JsonRpcMessageKind,
  auth: Authentication,
): Promise<Response> {
  if (kind === 'request' && (message as JsonRpcRequest).method === 'initialize') {
    return answerInitialize(ctx, request, message as JsonRpcRequest, auth);
  }
  // A refusal answers the request it refuses (a client's response or notification has no id to answer).
  const id = kind === 'request' ? (message as JsonRpcRequest).id : null;
  const checked = await ctx.gate.check(presentedSession(request, auth));
  if (!checked.ok) return toErrorResponse(checked.error, id, ctx.logger);
  ctx.metrics.sessionSeen(checked.claims.jti);
  let route: RouteDecision | undefined;
  if (kind === 'request') {
    const refreshing = ctx.refreshIfStale();
    if (refreshing !== undefined) await refreshing;
    route = decideRoute(message as JsonRpcRequest, 'legacy', ctx.routeContext());
  }
  const server = route?.kind === 'forward' ? route.plan.server.name : undefined;
  // A tools/call under a quota has its session read with its admission, in one store round trip
  // (forwardGuarded); every other request here, before anything else.
  const admitWith =
    route?.kind === 'forward' ? quotaCheckOf(route.plan, checked.claims.caller, ctx.callTimeoutMs) : undefined;
  const admitted = admitWith === undefined ? await ctx.gate.admit(checked.claims, server) : undefined;
  if (admitted?.ok === false) return toErrorResponse(admitted.error, id, ctx.logger);
  const session = sessionRequest(ctx.logger, request, checked.claims, context);
  if (ctx.span.recording) ctx.span.set(mcpSessionAttributes(checked.claims.jti, checked.claims.protocolVersion));
  if (kind === 'response') return deliverClientResponse(ctx, session, message);
  if (kind === 'notification') return deliverClientNotification(ctx, session, message as JsonRpcRequest);
  const rpc = message as JsonRpcRequest;
  if (route?.kind === 'refuse') return rpcErrorResponse(rpc.id, route.error, session.logger);
  const access = await ctx.access().requestAccess(request.headers, auth, rpc.method, checked.claims.vs);
  if (!('auth' in access)) {
    // An ended session is answered 404, whatever else is wrong with the request.
    const late = admitWith === undefined ? undefined : await ctx.gate.admit(checked.claims, server);
    if (late?.ok === false) return toErrorResponse(late.error, id, ctx.logger);
    return rpcErrorResponse(rpc.id, access, session.logger);
  }
  if (route?.kind !== 'forward') {
    const owner = sessionOwner(checked.claims.jti, checked.claims.caller);
    return answerLocal(ctx, rpc, access, owner, session.logger);
  }
  const call = {
    message: rpc,
    plan: route.plan,
    request,
    logger: session.logger,
    auth,
    session: {
      token: session.token,
      claims: checked.claims,
      backendSessionId: admitted?.backendSessionId,
      admitWith,
    },
  };
  return forwardGuarded(ctx, call, 'legacy', access, (error, asToolResult) =>
    asToolResult === true
      ? jsonResponse({ jsonrpc: '2.0', id: rpc.id, result: toolErrorResult(error.message) })
      : rpcErrorResponse(rpc.id, error, session.logger),
  );
}

/**
 * Serves GET (the session's notification stream) and DELETE (the end of the session) of the
 * legacy era, on a session the gate admits.
 */
export async function handleLegacyStream(
  ctx: EndpointContext,
  request: Request,
  context: RequestContext,
  streams: LegacyStreams,
  auth: Authentication,
): Promise<Response> {
  const checked = await ctx.gate.check(presentedSession(request, auth));
  if (!checked.ok) return toErrorResponse(checked.error, null, ctx.logger);
  ctx.metrics.sessionSeen(checked.claims.jti);
  const admitted = await ctx.gate.admit(checked.claims);
  if (!admitted.ok) return toErrorResponse(admitted.error, null, ctx.logger);
  if (request.method === 'GET') return openNotificationStream(ctx, request, checked.claims, streams.open);
  // The session's GET stream (here or on another replica) ends on the bus's terminated message:
  // closing it from this request directly is what workerd forbids (I/O of another request).
  return terminateSession(ctx, sessionRequest(ctx.logger, request, checked.claims, context));
}

function presentedSession(request: Request, auth: Authentication) {
  return { sessionId: request.headers.get('mcp-session-id'), auth };
}

function sessionRequest(
  logger: Logger,
  request: Request,
  claims: SessionClaims,
  context: RequestContext,
): SessionRequest {
  let sessionLogger: Logger | undefined;
  return {
    request,
    token: request.headers.get('mcp-session-id') ?? '',
    claims,
    context,
    // Created on first use: most requests never log.
    get logger() {
      return (sessionLogger ??= logger.child({ jti: claims.jti }));
    },
  };
}
