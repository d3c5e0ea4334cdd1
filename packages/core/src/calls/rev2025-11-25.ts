import { cancelUpstreamCall, resumeBackendStream, type BackendTarget } from '../backend/backend-exchange.ts';
import { forwardedCallHeaders, routerHeaders } from '../backend/upstream-headers.ts';
import { GatewayError } from '../errors.ts';
import { rpcErrorResponse } from '../protocol/error-mapping.ts';
import { createCallScope, type CallScope } from '../relay/call-scope.ts';
import { relayMessages, SSE_HEADERS, type RelayStep } from '../relay/relay-engine.ts';
import { rememberServerRequest } from '../relay/server-requests.ts';
import { resumableSource, sseMessages } from '../relay/upstream-messages.ts';
import {
  authRefusal,
  endedEarly,
  errorMessage,
  httpFailure,
  JSON_HEADERS,
  jsonAnswer,
  logDrop,
  pickJsonAnswer,
  rewriteAnswer,
  staySilent,
} from './call-answer.ts';
import type { CallContext, ClientCall, LegacySession } from './call-context.ts';
import { postUpstream, sendOnBackendSession, type UpstreamExchange } from './upstream-post.ts';

/**
 * A legacy client's call to a legacy upstream (protocol 2025-11-25 and earlier on both sides),
 * over the client's backend session on that upstream (opened on first use, renewed once on an
 * upstream 404). The answer is relayed as it comes: JSON as is, SSE message by message
 * (progress and logs reach the client as they happen; the upstream's requests get gateway ids
 * so the client's answer finds its way back); only what belongs to the call is relayed (see
 * createCallScope). An upstream silent past the call timeout yields a JSON-RPC error and is
 * told to cancel.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#sending-messages-to-the-server
 */
export async function forwardRev20251125(ctx: CallContext, call: ClientCall): Promise<Response> {
  const { message, plan, logger } = call;
  const session = call.session as LegacySession;
  const { server } = plan;
  const client = ctx.upstreams.client(server.name);
  if (client === undefined) {
    const error = new GatewayError('UPSTREAM_UNAVAILABLE', `upstream ${server.name} is not configured`);
    return rpcErrorResponse(message.id, error, logger);
  }
  const protocolVersion = ctx.upstreams.protocolVersion(server.name);
  const body = JSON.stringify({ ...message, params: plan.params });
  const routing = routerHeaders(message.method, server.name, plan.target);
  const sent = await sendOnBackendSession({
    deps: ctx,
    claims: session.claims,
    clientHeaders: call.request.headers,
    server,
    client,
    known: session.backendSessionId,
    send: (backendSessionId) =>
      postUpstream(ctx, server, {
        headers: forwardedCallHeaders(call.request.headers, routing, { backendSessionId, protocolVersion }),
        body,
        method: message.method,
      }),
  });
  if (sent instanceof GatewayError) return rpcErrorResponse(message.id, sent, logger);
  const target: BackendTarget = {
    server,
    backendSessionId: sent.backendSessionId,
    protocolVersion,
    clientHeaders: call.request.headers,
  };
  if (sent.outcome instanceof GatewayError) {
    if (sent.outcome.code === 'UPSTREAM_TIMEOUT') void cancelUpstreamCall(ctx, target, message.id, sent.outcome.message, logger);
    return rpcErrorResponse(message.id, sent.outcome, logger);
  }
  return relayAnswer(ctx, call, target, sent.outcome);
}

async function relayAnswer(
  ctx: CallContext,
  call: ClientCall,
  target: BackendTarget,
  exchange: UpstreamExchange,
): Promise<Response> {
  const { message, plan, logger } = call;
  const { server } = plan;
  const { response, abort } = exchange;
  const refused = authRefusal(response);
  if (refused !== undefined) return refused;
  if (!response.ok) return rpcErrorResponse(message.id, await httpFailure(server, response), logger);
  const scope = createCallScope({ requestId: message.id, params: plan.params });
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('text/event-stream') || response.body === null) {
    const text = await response.text();
    const answer = pickJsonAnswer(text, scope, server, logger);
    if (answer instanceof GatewayError) return rpcErrorResponse(message.id, answer, logger);
    // One message that is the answer and needs no rewrite: its bytes go through as they came.
    if (plan.rewriteResult === undefined && text.trimStart().startsWith('{')) {
      return new Response(text, { status: 200, headers: JSON_HEADERS });
    }
    return jsonAnswer(rewriteAnswer(answer, plan.rewriteResult, logger));
  }
  // The client closing its request stops the upstream exchange (not the call: that takes notifications/cancelled).
  call.request.signal.addEventListener('abort', () => abort.abort(), { once: true });
  const jti = (call.session as LegacySession).claims.jti;
  const source = resumableSource(sseMessages(response.body), {
    resume: async (lastEventId) => {
      const resumed = await resumeBackendStream(ctx, target, lastEventId, abort.signal);
      return resumed === undefined ? undefined : sseMessages(resumed);
    },
    signal: abort.signal,
  });
  const stream = relayMessages({
    upstream: source,
    silenceMs: ctx.callTimeoutMs,
    onMessage: (relayed) => legacyStep(ctx, call, scope, target, jti, relayed),
    onUpstreamEnd: () => [errorMessage(message.id, endedEarly(server), logger)],
    onError: (error) => [errorMessage(message.id, error, logger)],
    onSilence: () => {
      const error = staySilent(server, ctx.callTimeoutMs);
      abort.abort();
      void cancelUpstreamCall(ctx, target, message.id, error.message, logger);
      return [errorMessage(message.id, error, logger)];
    },
    onClientGone: () => abort.abort(),
  });
  return new Response(stream, { status: 200, headers: SSE_HEADERS });
}

/** What the client of a legacy call gets for one upstream message. */
async function legacyStep(
  ctx: CallContext,
  call: ClientCall,
  scope: CallScope,
  target: BackendTarget,
  jti: string,
  relayed: Record<string, unknown>,
): Promise<RelayStep> {
  const verdict = scope.judge(relayed);
  switch (verdict.kind) {
    case 'answer':
      return { send: [rewriteAnswer(verdict.message, call.plan.rewriteResult, call.logger)], next: 'end' };
    case 'notification':
      return { send: [verdict.message], next: 'continue' };
    case 'server-request': {
      const mapped = await rememberServerRequest(ctx.store, jti, target.server.name, target.backendSessionId, verdict.message);
      scope.noteServerRequest(verdict.message, mapped['id'] as string);
      return { send: [mapped], next: 'continue' };
    }
    default:
      logDrop(call.logger, scope, target.server, verdict.reason);
      return { send: [], next: 'continue' };
  }
}
