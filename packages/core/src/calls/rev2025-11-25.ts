import { cancelUpstreamCall, resumeBackendStream, type BackendTarget } from '../backend/backend-exchange.ts';
import { forwardedCallHeaders, routerHeaders } from '../backend/upstream-headers.ts';
import type { ServerConfig } from '../config/schema.ts';
import type { ResultRewrite } from '../decision/result-rewrite.ts';
import { GatewayError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { rpcErrorResponse } from '../protocol/error-mapping.ts';
import type { JsonRpcId } from '../protocol/json-rpc.ts';
import { createCallScope } from '../relay/call-scope.ts';
import { relayMessages, SSE_HEADERS, type RelayStep } from '../relay/relay-engine.ts';
import { rememberServerRequest } from '../relay/server-requests.ts';
import { resumableSource, sseMessages } from '../relay/upstream-messages.ts';
import type { SessionStore } from '../store/session-store.ts';
import {
  authRefusal,
  endedEarly,
  errorMessage,
  httpFailure,
  jsonCallAnswer,
  logDrop,
  rewriteAnswer,
  staySilent,
} from './call-answer.ts';
import type { CallContext, ClientCall, LegacySession } from './call-context.ts';
import { callHeaders } from './call-context.ts';
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
  const protocolVersion = ctx.upstreams.sessionVersion(server.name);
  const upstreamMessage = { ...message, params: plan.params };
  const routing = routerHeaders(message.method, server.name, plan.target);
  const sent = await sendOnBackendSession({
    deps: ctx,
    claims: session.claims,
    clientHeaders: callHeaders(call),
    server,
    client,
    known: session.backendSessionId,
    span: ctx.span,
    onOutcome: call.noteUpstream,
    send: (backendSessionId) =>
      postUpstream(ctx, server, {
        headers: forwardedCallHeaders(callHeaders(call), routing, { backendSessionId, protocolVersion }),
        message: upstreamMessage,
        span: ctx.span,
        target: plan.target,
        onOutcome: call.noteUpstream,
      }),
  });
  if (sent instanceof GatewayError) return rpcErrorResponse(message.id, sent, logger);
  const target: BackendTarget = {
    server,
    backendSessionId: sent.backendSessionId,
    protocolVersion,
    clientHeaders: callHeaders(call),
  };
  if (sent.outcome instanceof GatewayError) {
    if (sent.outcome.code === 'UPSTREAM_TIMEOUT')
      void cancelUpstreamCall(ctx, target, message.id, sent.outcome.message, logger);
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
  const scope = createCallScope({ requestId: message.id, params: plan.params, onAnswer: call.noteAnswer });
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('text/event-stream') || response.body === null) {
    return jsonCallAnswer(response, scope, server, message.id, plan.rewriteResult, logger);
  }
  const jti = (call.session as LegacySession).claims.jti;
  const stream = relayLegacyStream({
    body: response.body,
    requestId: message.id,
    params: plan.params,
    onAnswer: call.noteAnswer,
    server,
    backendSessionId: target.backendSessionId,
    jti,
    store: ctx.store,
    abort,
    timeoutMs: ctx.callTimeoutMs,
    logger,
    rewriteResult: plan.rewriteResult,
    signal: call.request.signal,
    resume: (lastEventId) => resumeBackendStream(ctx, target, lastEventId, abort.signal),
    onAbandon: (reason) => void cancelUpstreamCall(ctx, target, message.id, reason, logger),
  });
  return new Response(stream, { status: 200, headers: SSE_HEADERS });
}

/** Options of {@link relayLegacyStream}. */
export interface LegacyRelayOptions {
  /** The upstream's SSE body. */
  readonly body: ReadableStream<Uint8Array>;
  /** The id of the forwarded call: only its answer ends the relay. */
  readonly requestId: JsonRpcId;
  /** The params sent upstream (`_meta.progressToken` names the call's progress). */
  readonly params?: unknown;
  /** Told the call's answer when it comes. */
  readonly onAnswer?: ((answer: Readonly<Record<string, unknown>>) => void) | undefined;
  readonly server: ServerConfig;
  readonly backendSessionId: string;
  /** The gateway session the call belongs to (server requests are remembered under it). */
  readonly jti: string;
  readonly store: SessionStore;
  /** Aborts the upstream exchange. */
  readonly abort: AbortController;
  /** Longest silence allowed from the upstream. */
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly rewriteResult?: ResultRewrite | undefined;
  /** The client's request signal: the client going away stops the upstream exchange (not the call). */
  readonly signal?: AbortSignal;
  /** Reopens the upstream stream after `lastEventId`; undefined when the upstream cannot. */
  readonly resume?: (lastEventId: string) => Promise<ReadableStream<Uint8Array> | undefined>;
  /** Called once when the relay gives up on a silent upstream, so it can be told to cancel. */
  readonly onAbandon?: (reason: string) => void;
}

/**
 * Relays a legacy upstream's SSE answer to a legacy client as one SSE stream: what belongs to
 * the call (see createCallScope) as it arrives, server-to-client requests under gateway ids
 * remembered in the store (the client's answer may reach any replica), the call's answer
 * rewritten and last. An upstream that closes its stream before the answer is resumed with
 * Last-Event-ID; one that closes for good, fails or stays silent past the timeout yields an
 * error answer naming it (and a silent one is told to cancel).
 */
export function relayLegacyStream(options: LegacyRelayOptions): ReadableStream<Uint8Array> {
  const { server, abort, logger, requestId } = options;
  const scope = createCallScope({ requestId, params: options.params, onAnswer: options.onAnswer });
  options.signal?.addEventListener('abort', () => abort.abort(), { once: true });
  const { resume } = options;
  const source = resumableSource(sseMessages(options.body), {
    resume:
      resume === undefined
        ? undefined
        : async (lastEventId) => {
            const resumed = await resume(lastEventId);
            return resumed === undefined ? undefined : sseMessages(resumed);
          },
    signal: abort.signal,
  });
  return relayMessages({
    upstream: source,
    silenceMs: options.timeoutMs,
    onMessage: async (relayed): Promise<RelayStep> => {
      const verdict = scope.judge(relayed);
      switch (verdict.kind) {
        case 'answer':
          return { send: [rewriteAnswer(verdict.message, options.rewriteResult, logger)], next: 'end' };
        case 'notification':
          return { send: [verdict.message], next: 'continue' };
        case 'server-request': {
          const { store, jti, backendSessionId } = options;
          const mapped = await rememberServerRequest(store, jti, server.name, backendSessionId, verdict.message);
          scope.noteServerRequest(verdict.message, mapped['id'] as string);
          return { send: [mapped], next: 'continue' };
        }
        default:
          logDrop(logger, scope, server, verdict.reason);
          return { send: [], next: 'continue' };
      }
    },
    onUpstreamEnd: () => [errorMessage(requestId, endedEarly(server), logger)],
    onError: (error) => [errorMessage(requestId, error, logger)],
    onSilence: () => {
      const error = staySilent(server, options.timeoutMs);
      abort.abort();
      options.onAbandon?.(error.message);
      return [errorMessage(requestId, error, logger)];
    },
    onClientGone: () => abort.abort(),
  });
}
