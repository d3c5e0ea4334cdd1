import { readTextWithin } from '../protocol/bytes.ts';
import { NO_BACKEND_SESSION } from '../backend/backend-session.ts';
import { postToBackend, resumeBackendStream, type BackendTarget } from '../backend/backend-exchange.ts';
import { clientIdentityHeaders, forwardedCallHeaders, routerHeaders } from '../backend/upstream-headers.ts';
import { GatewayError } from '../errors.ts';
import { rpcErrorResponse } from '../protocol/error-mapping.ts';
import type { JsonRpcId } from '../protocol/json-rpc.ts';
import { META, requestMeta } from '../protocol/modern-request.ts';
import { MAX_ANSWER_EVENT_BYTES } from '../protocol/sse.ts';
import { createCallScope } from '../relay/call-scope.ts';
import { relayMessages, SSE_HEADERS, type RelayStep } from '../relay/relay-engine.ts';
import { resumableSource, sseMessages, type MessageSource, type RelayedMessage } from '../relay/upstream-messages.ts';
import type { SessionClaims } from '../session/session-token.ts';
import {
  authRefusal,
  endedEarly,
  errorMessage,
  httpFailure,
  JSON_HEADERS,
  jsonAnswer,
  logDrop,
  pickJsonAnswer,
  tooLarge,
  rewriteAnswer,
  staySilent,
} from './call-answer.ts';
import type { CallContext, ClientCall } from './call-context.ts';
import { callHeaders } from './call-context.ts';
import { openParkedState, PARKED_STATE_PREFIX, sealParkedState, type ParkedCall } from './parked-calls.ts';
import { postUpstream, sendOnBackendSession } from './upstream-post.ts';
import { wholeResponse } from '../protocol/when-sent.ts';

/** How long a modern caller's backend session on a legacy upstream lives (then a new one is made). */
export const CALLER_SESSION_TTL_SECONDS = 15 * 60;

/** Server-to-client requests a legacy upstream may send during a call, which become input requests. */
const INPUT_METHODS = new Set(['elicitation/create', 'sampling/createMessage', 'roots/list']);

/**
 * A 2026-07-28 client's call to a legacy upstream (a named shim between the eras): over a
 * backend session held per caller (its verified issuer and subject, else the hash of its whole
 * credential; anonymous callers
 * get one per call, closed after it), with the modern envelope removed and `resultType` added.
 * A server-to-client request on the call's stream parks the upstream exchange and answers the
 * client with an InputRequiredResult; the client's retry (same call, `inputResponses` and the
 * gateway's `requestState`) answers the waiting upstream and continues the relay.
 */
export async function forwardRev20260728ToRev20251125(ctx: CallContext, call: ClientCall): Promise<Response> {
  const { message, plan, logger } = call;
  const { server, params } = plan;
  const caller = await ctx.callers.identify(call.auth);
  const requestState = params['requestState'];
  if (typeof requestState === 'string' && requestState.startsWith(PARKED_STATE_PREFIX)) {
    return resumeParked(ctx, call, requestState, caller);
  }
  const client = ctx.upstreams.client(server.name);
  if (client === undefined) {
    return rpcErrorResponse(
      message.id,
      new GatewayError('UPSTREAM_UNAVAILABLE', `upstream ${server.name} is not configured`),
      logger,
    );
  }
  const capabilities = (requestMeta(message) ?? {})[META.clientCapabilities];
  const protocolVersion = ctx.upstreams.sessionVersion(server.name);
  const claims: SessionClaims = {
    // Callers share a backend session only with themselves; anonymous calls share none.
    jti: caller === undefined ? `anonymous:${crypto.randomUUID()}` : `caller:${caller}`,
    exp: Math.floor(Date.now() / 1000) + CALLER_SESSION_TTL_SECONDS,
    protocolVersion: protocolVersion ?? '',
    clientCapabilities:
      typeof capabilities === 'object' && capabilities !== null ? (capabilities as Record<string, unknown>) : {},
    ...(caller === undefined ? {} : { caller }),
  };
  const identityHeaders = clientIdentityHeaders(callHeaders(call));
  const release = () => {
    if (caller !== undefined) return;
    void ctx.store.terminate(claims.jti, 60).then((held) => {
      for (const id of Object.values(held)) {
        if (id !== NO_BACKEND_SESSION)
          void client.close(
            { sessionId: id, protocolVersion: claims.protocolVersion, capabilities: {}, useCredential: false },
            { headers: identityHeaders },
          );
      }
    });
  };
  const upstreamMessage = {
    jsonrpc: '2.0',
    id: message.id,
    method: message.method,
    params: withoutModernFields(params),
  } as const;
  const routing = routerHeaders(message.method, server.name, plan.target);
  const sent = await sendOnBackendSession({
    deps: ctx,
    claims,
    clientHeaders: callHeaders(call),
    server,
    client,
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
  if (sent instanceof GatewayError || sent.outcome instanceof GatewayError) {
    release();
    return rpcErrorResponse(message.id, sent instanceof GatewayError ? sent : sent.outcome, logger);
  }
  const parked: ParkBase = {
    server,
    backendSessionId: sent.backendSessionId,
    identityHeaders,
    ...(protocolVersion === undefined ? {} : { protocolVersion }),
    caller,
    upstreamCallId: message.id,
    release,
  };
  const { response, abort } = sent.outcome;
  const refused = authRefusal(response);
  if (refused !== undefined) {
    release();
    return refused;
  }
  if (!response.ok) {
    release();
    return rpcErrorResponse(message.id, await httpFailure(server, response), logger);
  }
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('text/event-stream') || response.body === null) {
    release();
    const text = await readTextWithin(response, MAX_ANSWER_EVENT_BYTES);
    if (text === undefined) return rpcErrorResponse(message.id, tooLarge(server), logger);
    return jsonForModern(text, call, parked);
  }
  return streamForModern(ctx, call, sseMessages(response.body), abort, parked);
}

/** The parts of a parked call known before the upstream asks for input. */
type ParkBase = Omit<ParkedCall, 'waiting' | 'upstream'>;

/** A legacy upstream's JSON answer made modern (`resultType: 'complete'`), under the client's id. */
function jsonForModern(text: string, call: ClientCall, parked: ParkBase): Response {
  const { message, plan, logger } = call;
  const scope = createCallScope({ requestId: parked.upstreamCallId, params: plan.params, onAnswer: call.noteAnswer });
  const answer = pickJsonAnswer(text, scope, plan.server, logger);
  if (answer instanceof GatewayError) return rpcErrorResponse(message.id, answer, logger);
  if (plan.rewriteResult === undefined && parked.upstreamCallId === message.id && text.trimStart().startsWith('{')) {
    const marked = markComplete(text, plan.method);
    if (marked !== undefined) return wholeResponse(marked, { status: 200, headers: JSON_HEADERS });
  }
  return jsonAnswer(completeAnswer({ ...answer, id: message.id }, call));
}

/** Relays a legacy upstream's SSE answer to a modern client, parking the call when the upstream asks for input. */
function streamForModern(
  ctx: CallContext,
  call: ClientCall,
  upstream: MessageSource,
  abort: AbortController,
  park: ParkBase,
): Response {
  const { message, plan, logger } = call;
  const { server } = plan;
  const scope = createCallScope({ requestId: park.upstreamCallId, params: plan.params, onAnswer: call.noteAnswer });
  let parked = false;
  const stream = relayMessages({
    upstream,
    silenceMs: ctx.callTimeoutMs,
    onMessage: async (relayed): Promise<RelayStep> => {
      const verdict = scope.judge(relayed);
      switch (verdict.kind) {
        case 'answer':
          park.release();
          return { send: [completeAnswer({ ...verdict.message, id: message.id }, call)], next: 'end' };
        case 'notification':
          // Progress and log notifications stay on the call's stream.
          return { send: [verdict.message], next: 'continue' };
        case 'server-request': {
          const step = await askForInput(ctx, call, upstream, park, verdict.message);
          if (step.next === 'park') {
            parked = true;
            // This request's answer is the InputRequiredResult: the call goes on in the client's retry.
            const [asked] = step.send;
            if (asked !== undefined) call.noteAnswer?.(asked);
          }
          return step;
        }
        default:
          logDrop(logger, scope, server, verdict.reason);
          return { send: [], next: 'continue' };
      }
    },
    onUpstreamEnd: () => {
      park.release();
      return [errorMessage(message.id, endedEarly(server), logger)];
    },
    onError: (error) => {
      park.release();
      return [errorMessage(message.id, error, logger)];
    },
    onSilence: () => {
      park.release();
      return [errorMessage(message.id, staySilent(server, ctx.callTimeoutMs), logger)];
    },
    onClientGone: () => {
      if (parked) return;
      abort.abort();
      // Closing a modern stream is the cancellation: tell the legacy upstream in its own terms.
      void postToBackend(ctx, backendTarget(park), cancellation(park.upstreamCallId), logger);
      park.release();
    },
  });
  return new Response(stream, { status: 200, headers: SSE_HEADERS });
}

/**
 * An upstream's request during a modern client's call: elicitation, sampling and roots park the
 * call and answer the client with an InputRequiredResult whose sealed `requestState` holds what
 * any replica needs to answer the upstream and resume its stream; ping and anything else is
 * answered here, as the gateway's own connection would.
 */
async function askForInput(
  ctx: CallContext,
  call: ClientCall,
  upstream: MessageSource,
  park: ParkBase,
  request: RelayedMessage,
): Promise<RelayStep> {
  const method = request['method'] as string;
  const upstreamId = request['id'] as JsonRpcId;
  if (!INPUT_METHODS.has(method)) {
    const answer =
      method === 'ping'
        ? { jsonrpc: '2.0', id: upstreamId, result: {} }
        : { jsonrpc: '2.0', id: upstreamId, error: { code: -32601, message: 'Method not found' } };
    await postToBackend(ctx, backendTarget(park), answer, call.logger);
    return { send: [], next: 'continue' };
  }
  const key = `input-${String(upstreamId)}`;
  const local = ctx.parked.park({ ...park, waiting: new Map([[key, upstreamId]]), upstream });
  const lastEventId = upstream.lastEventId?.();
  const requestState = await sealParkedState(ctx.tokens, {
    local,
    server: park.server.name,
    backendSessionId: park.backendSessionId,
    upstreamCallId: park.upstreamCallId,
    waiting: [[key, upstreamId]],
    ...(lastEventId === undefined ? {} : { lastEventId }),
    ...(park.protocolVersion === undefined ? {} : { protocolVersion: park.protocolVersion }),
    ...(park.caller === undefined ? {} : { caller: park.caller }),
  });
  const result = {
    resultType: 'input_required',
    inputRequests: { [key]: { method, params: request['params'] ?? {} } },
    requestState,
  };
  return { send: [{ jsonrpc: '2.0', id: call.message.id, result }], next: 'park' };
}

/**
 * The retry of a parked call: answers the waiting upstream on the backend session the sealed
 * state names, then relays the rest of the call. The upstream's stream is read on from where it
 * was parked when this process holds it; otherwise (another replica, or a runtime that binds
 * streams to the request that opened them, as workerd does) it is resumed with GET and
 * Last-Event-ID, which upstreams that keep their events (an event store) support.
 */
async function resumeParked(
  ctx: CallContext,
  call: ClientCall,
  requestState: string,
  caller: string | undefined,
): Promise<Response> {
  const { message, plan, logger } = call;
  const state = await openParkedState(ctx.tokens, requestState);
  if (state === undefined || state.server !== plan.server.name || state.caller !== caller) {
    const error = new GatewayError(
      'INVALID_PARAMS',
      'requestState names no waiting call of this caller (it expired, is forged, or belongs to another tool or caller): call again without requestState',
    );
    return rpcErrorResponse(message.id, error, logger);
  }
  const local = ctx.parked.take(state.local);
  const park: ParkBase = {
    server: plan.server,
    backendSessionId: state.backendSessionId,
    identityHeaders: clientIdentityHeaders(callHeaders(call)),
    ...(state.protocolVersion === undefined ? {} : { protocolVersion: state.protocolVersion }),
    caller,
    upstreamCallId: state.upstreamCallId,
    release: local?.release ?? (() => {}),
  };
  const inputResponses = plan.params['inputResponses'];
  const responses =
    typeof inputResponses === 'object' && inputResponses !== null ? (inputResponses as Record<string, unknown>) : {};
  for (const [key, upstreamId] of state.waiting) {
    const answer = Object.hasOwn(responses, key) ? responses[key] : undefined;
    const body =
      typeof answer === 'object' && answer !== null
        ? { jsonrpc: '2.0', id: upstreamId, result: answer }
        : {
            jsonrpc: '2.0',
            id: upstreamId,
            error: { code: -32603, message: 'The client gave no answer to this request' },
          };
    await postToBackend(ctx, backendTarget(park), body, logger);
  }
  const abort = new AbortController();
  const source = resumableSource(local?.upstream, {
    lastEventId: state.lastEventId,
    resume: async (from) => {
      const body = await resumeBackendStream(ctx, backendTarget(park), from, abort.signal);
      return body === undefined ? undefined : sseMessages(body);
    },
    signal: abort.signal,
  });
  return streamForModern(ctx, call, source, abort, park);
}

/** A parked call's backend session as a BackendTarget. */
function backendTarget(
  call: Pick<ParkedCall, 'server' | 'backendSessionId' | 'identityHeaders' | 'protocolVersion'>,
): BackendTarget {
  return {
    server: call.server,
    backendSessionId: call.backendSessionId,
    protocolVersion: call.protocolVersion,
    clientHeaders: new Headers(call.identityHeaders),
  };
}

function cancellation(requestId: JsonRpcId): object {
  return {
    jsonrpc: '2.0',
    method: 'notifications/cancelled',
    params: { requestId, reason: 'client closed the request stream' },
  };
}

/** Params without the 2026-07-28 envelope keys and retry fields a legacy upstream does not know. */
function withoutModernFields(params: Record<string, unknown>): Record<string, unknown> {
  const { inputResponses: _responses, requestState: _state, ...rest } = params;
  const meta = rest['_meta'];
  if (typeof meta !== 'object' || meta === null) return rest;
  const kept = Object.fromEntries(
    Object.entries(meta as Record<string, unknown>).filter(([key]) => !key.startsWith('io.modelcontextprotocol/')),
  );
  if (Object.keys(kept).length === 0) {
    const { _meta: _dropped, ...withoutMeta } = rest;
    return withoutMeta;
  }
  return { ...rest, _meta: kept };
}

const RESULT_KEY = '"result":{';

/**
 * What a 2026-07-28 result of `method` must carry that a legacy one lacks: `resultType`, and for
 * reads their cache hints (a legacy upstream gives none: not cached, per user).
 * @see MCP 2026-07-28 server/resources (ttlMs, cacheScope)
 */
function modernResultFields(method: string): Record<string, unknown> {
  return method === 'resources/read'
    ? { resultType: 'complete', ttlMs: 0, cacheScope: 'private' }
    : { resultType: 'complete' };
}

/**
 * Adds the modern result fields to a legacy JSON answer's result without decoding it: the
 * first `"result":{` of a response object is its top-level key (only `jsonrpc` and `id`, which
 * hold no objects, can precede it; an error response's `"error":` comes first). Undefined when
 * the text is not that simple shape, or already has one of the fields (then the caller parses it).
 */
function markComplete(text: string, method: string): string | undefined {
  const at = text.indexOf(RESULT_KEY);
  if (at < 0 || text.charCodeAt(0) !== 0x7b) return undefined;
  const error = text.indexOf('"error":');
  const fields = modernResultFields(method);
  if ((error >= 0 && error < at) || Object.keys(fields).some((key) => text.includes(`"${key}"`))) return undefined;
  const open = at + RESULT_KEY.length;
  const empty = text.charCodeAt(open) === 0x7d;
  return `${text.slice(0, open)}${JSON.stringify(fields).slice(1, -1)}${empty ? '' : ','}${text.slice(open)}`;
}

/** A legacy answer made modern: the result rewritten, with the modern result fields it lacks. */
function completeAnswer(message: RelayedMessage, call: ClientCall): RelayedMessage {
  const rewritten = rewriteAnswer(message, call.plan.rewriteResult, call.logger);
  const result = rewritten['result'];
  if (typeof result !== 'object' || result === null) return rewritten;
  return { ...rewritten, result: { ...modernResultFields(call.plan.method), ...(result as Record<string, unknown>) } };
}
