import type { ServerConfig } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import { NOOP_LOGGER, type Logger } from '../logger.ts';
import type { JsonRpcId, JsonRpcRequest } from '../protocol/json-rpc.ts';
import { MCP_PARAM_HEADER_PREFIX, META, requestMeta } from '../protocol/modern-request.ts';
import { MODERN_PROTOCOL_VERSION } from '../protocol/versions.ts';
import type { SessionClaims } from '../session/session-token.ts';
import { modernRequestHeaders } from '../upstream/modern-envelope.ts';
import { ensureBackendSession, NO_BACKEND_SESSION } from './backend-session.ts';
import type { McpEndpointOptions } from './endpoint-context.ts';
import { DEFAULT_CALL_TIMEOUT_MS } from './endpoint-context.ts';
import { toJsonRpcError } from './error-mapping.ts';
import type { ForwardPlan } from './forward-call.ts';
import {
  relayMessages,
  SSE_HEADERS,
  upstreamMessages,
  type RelayedMessage,
  type RelayStep,
  type UpstreamMessages,
} from './message-relay.ts';
import type { ModernContext } from './modern-endpoint.ts';
import { DEFAULT_PARK_MS, PARKED_STATE_PREFIX, type ParkedCall } from './parked-calls.ts';
import { clientIdentityHeaders, forwardedCallHeaders } from './upstream-headers.ts';
import { authRefusal, postToBackend, resumeBackendStream, type BackendTarget } from './backend-exchange.ts';

/** How long a modern caller's backend session on a legacy upstream lives (then a new one is made). */
export const CALLER_SESSION_TTL_SECONDS = 15 * 60;

/** Server-to-client requests a legacy upstream may send during a call, which become input requests. */
const INPUT_METHODS = new Set(['elicitation/create', 'sampling/createMessage', 'roots/list']);

/** True when the upstream `server` speaks 2026-07-28 (as its last discovery found). */
export function isModernUpstream(options: McpEndpointOptions, server: ServerConfig): boolean {
  return options.pool.snapshot(server.name)?.protocolVersion === MODERN_PROTOCOL_VERSION;
}

/**
 * Forwards a modern client's call to the upstream that owns it: statelessly to a modern
 * upstream (the client's envelope passes through; closing the client's stream closes the
 * upstream's, which is the cancellation), or over a backend session keyed by the caller to a
 * legacy upstream, whose elicitation, sampling and roots requests become an InputRequiredResult.
 */
export async function forwardModernCall(
  context: ModernContext,
  request: Request,
  message: JsonRpcRequest,
  plan: ForwardPlan,
): Promise<Response> {
  const { options } = context;
  if (isModernUpstream(options, plan.server)) {
    return callModernUpstream(options, {
      server: plan.server,
      message: { ...message, params: plan.params },
      clientHeaders: request.headers,
      rewriteResult: plan.rewriteResult,
      logger: options.logger,
      // A client that goes away before the answer cancels the call (2026-07-28: closing is cancelling).
      signal: request.signal,
    });
  }
  return callLegacyUpstreamForModern(context, request, message, plan);
}

/** A stateless call to a 2026-07-28 upstream. */
export interface ModernUpstreamCall {
  readonly server: ServerConfig;
  /** The request as the upstream gets it (prefix removed, envelope in `_meta`). */
  readonly message: JsonRpcRequest;
  /** The client's request headers (identity and trace headers are forwarded). */
  readonly clientHeaders: Headers;
  readonly rewriteResult?: ((result: Record<string, unknown>) => Record<string, unknown>) | undefined;
  readonly logger: Logger;
  /** Aborts the upstream exchange (the client went away). */
  readonly signal?: AbortSignal;
  /** Headers to add (the Mcp-Param-* a legacy client cannot send). */
  readonly extraHeaders?: Readonly<Record<string, string>>;
}

/**
 * Sends one request to a 2026-07-28 upstream and relays its answer: JSON as bytes (or
 * rewritten), SSE message by message. The upstream's errors at the HTTP level keep their
 * status when they carry a JSON-RPC error; silence past the call timeout is an error answer.
 */
export async function callModernUpstream(options: McpEndpointOptions, call: ModernUpstreamCall): Promise<Response> {
  const { server, message } = call;
  const timeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const headers: Record<string, string> = {
    ...forwardedCallHeaders(
      call.clientHeaders,
      { method: message.method, server: server.name },
      { backendSessionId: '' },
    ),
    ...modernRequestHeaders(message.method, message.params),
    ...call.extraHeaders,
  };
  // A tool's x-mcp-header arguments travel as Mcp-Param-* headers too; the upstream checks them.
  call.clientHeaders.forEach((value, name) => {
    if (name.startsWith(MCP_PARAM_HEADER_PREFIX)) headers[name] = value;
  });
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  call.signal?.addEventListener('abort', () => abort.abort(), { once: true });
  let response: Response;
  try {
    response = await options.fetchFor(server)(server.url, {
      method: 'POST',
      headers,
      body: JSON.stringify(message),
      signal: abort.signal,
    });
  } catch (error) {
    const failure = abort.signal.aborted
      ? new GatewayError(
          'UPSTREAM_TIMEOUT',
          `upstream ${server.name} did not answer ${message.method} within ${timeoutMs} ms`,
        )
      : new GatewayError('UPSTREAM_UNAVAILABLE', `upstream ${server.name} is unreachable`, { cause: error });
    return errorAnswer(message.id, failure, call.logger);
  } finally {
    clearTimeout(timer);
  }
  const type = response.headers.get('content-type') ?? '';
  const refused = authRefusal(response);
  if (refused !== undefined) return refused;
  if (!response.ok) {
    const text = (await response.text().catch(() => '')).slice(0, 16_384);
    if (type.includes('json') && /"error"/.test(text)) {
      // The upstream's own JSON-RPC error (an unknown tool, a bad argument): the client sees it as sent.
      return new Response(text, { status: response.status, headers: { 'content-type': 'application/json' } });
    }
    const detail = text.slice(0, 200);
    const error = new GatewayError(
      'UPSTREAM_UNAVAILABLE',
      `upstream ${server.name} answered HTTP ${response.status}${detail ? `: ${detail}` : ''}`,
    );
    return errorAnswer(message.id, error, call.logger);
  }
  if (type.includes('text/event-stream') && response.body !== null) {
    const rewrite = call.rewriteResult;
    const stream = relayMessages({
      upstream: upstreamMessages(response.body),
      silenceMs: timeoutMs,
      onMessage: (relayed) => {
        if (isAnswerTo(relayed, message.id)) return { send: [rewriteAnswer(relayed, rewrite)], next: 'end' };
        return { send: [relayed], next: 'continue' };
      },
      onUpstreamEnd: () => [errorMessage(message.id, endedEarly(server), call.logger)],
      onSilence: () => [errorMessage(message.id, staySilent(server, timeoutMs), call.logger)],
    });
    return new Response(stream, { status: 200, headers: SSE_HEADERS });
  }
  if (call.rewriteResult === undefined) {
    return new Response(await response.arrayBuffer(), { status: 200, headers: { 'content-type': 'application/json' } });
  }
  try {
    const parsed = JSON.parse(await response.text()) as RelayedMessage;
    return jsonAnswer(rewriteAnswer(parsed, call.rewriteResult));
  } catch {
    const error = new GatewayError('UPSTREAM_PROTOCOL_ERROR', `upstream ${server.name} answered with invalid JSON`);
    return errorAnswer(message.id, error, call.logger);
  }
}

/**
 * A modern client's call to a legacy upstream: over a backend session held per caller (the
 * bearer identity; anonymous callers get one per call, closed after it), with the modern
 * envelope removed and `resultType` added. A server-to-client request on the call's stream
 * parks the upstream exchange and answers the client with an InputRequiredResult; the
 * client's retry (same call, `inputResponses` and the gateway's `requestState`) answers the
 * waiting upstream and continues the relay.
 */
async function callLegacyUpstreamForModern(
  context: ModernContext,
  request: Request,
  message: JsonRpcRequest,
  plan: ForwardPlan,
): Promise<Response> {
  const { options } = context;
  const { server } = plan;
  const logger = options.logger;
  const params = plan.params;
  const caller = await context.identify(request.headers.get('authorization'));
  const requestState = params['requestState'];
  if (typeof requestState === 'string' && requestState.startsWith(PARKED_STATE_PREFIX)) {
    return resumeParked(context, request, message, requestState, params['inputResponses'], caller, plan);
  }
  const client = options.pool.client(server.name);
  if (client === undefined) {
    return errorAnswer(
      message.id,
      new GatewayError('UPSTREAM_UNAVAILABLE', `upstream ${server.name} is not configured`),
      logger,
    );
  }
  const meta = requestMeta(message) ?? {};
  const capabilities = meta[META.clientCapabilities];
  const claims: SessionClaims = {
    // Callers share a backend session only with themselves; anonymous calls share none.
    jti: caller === undefined ? `anonymous:${crypto.randomUUID()}` : `caller:${caller}`,
    exp: Math.floor(Date.now() / 1000) + CALLER_SESSION_TTL_SECONDS,
    protocolVersion: options.pool.snapshot(server.name)?.protocolVersion ?? '',
    clientCapabilities:
      typeof capabilities === 'object' && capabilities !== null ? (capabilities as Record<string, unknown>) : {},
    ...(caller === undefined ? {} : { caller }),
  };
  const identityHeaders = clientIdentityHeaders(request.headers);
  const release = () => {
    if (caller !== undefined) return;
    void options.store.terminate(claims.jti, 60).then((held) => {
      for (const id of Object.values(held)) {
        if (id !== NO_BACKEND_SESSION)
          void client.close(
            { sessionId: id, protocolVersion: claims.protocolVersion, capabilities: {}, useCredential: false },
            { headers: identityHeaders },
          );
      }
    });
  };
  const upstreamParams = withoutModernFields(params);
  let known: string | undefined;
  for (let attempt = 0; ; attempt++) {
    let backendSessionId: string;
    try {
      backendSessionId = await ensureBackendSession(
        { store: options.store, bus: options.bus, logger },
        claims,
        request.headers,
        server,
        client,
        known,
      );
    } catch (error) {
      release();
      return errorAnswer(message.id, error, logger);
    }
    const protocolVersion = options.pool.snapshot(server.name)?.protocolVersion;
    const exchange = await postLegacy(options, server, {
      body: { jsonrpc: '2.0', id: message.id, method: message.method, params: upstreamParams },
      headers: forwardedCallHeaders(
        request.headers,
        { method: message.method, server: server.name, ...(plan.nameHeader ? { name: plan.nameHeader } : {}) },
        { backendSessionId, ...(protocolVersion === undefined ? {} : { protocolVersion }) },
      ),
    });
    if (exchange instanceof GatewayError) {
      release();
      return errorAnswer(message.id, exchange, logger);
    }
    const { response, abort, timeoutMs } = exchange;
    if (response.status === 404 && backendSessionId !== NO_BACKEND_SESSION && attempt === 0) {
      await response.body?.cancel().catch(() => {});
      await options.store.dropBackendSession(claims.jti, server.name, backendSessionId);
      known = undefined;
      continue;
    }
    const parkBase = {
      server,
      backendSessionId,
      identityHeaders,
      ...(protocolVersion === undefined ? {} : { protocolVersion }),
      caller,
      upstreamCallId: message.id,
      release,
    };
    return relayLegacyForModern(context, response, abort, timeoutMs, message.id, message.id, plan, parkBase);
  }
}

/** The parts of a parked call known before the upstream asks for input. */
type ParkBase = Omit<ParkedCall, 'waiting' | 'upstream'>;

/** Relays a legacy upstream's answer to a modern client (see callLegacyUpstreamForModern). */
async function relayLegacyForModern(
  context: ModernContext,
  response: Response,
  abort: AbortController,
  timeoutMs: number,
  upstreamCallId: JsonRpcId,
  clientId: JsonRpcId,
  plan: ForwardPlan,
  park: ParkBase,
): Promise<Response> {
  const { options } = context;
  const { server } = plan;
  const logger = options.logger;
  if (!response.ok) {
    park.release();
    const detail = (await response.text().catch(() => '')).slice(0, 200);
    const error = new GatewayError(
      'UPSTREAM_UNAVAILABLE',
      `upstream ${server.name} answered HTTP ${response.status}${detail ? `: ${detail}` : ''}`,
    );
    return errorAnswer(clientId, error, logger);
  }
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('text/event-stream') || response.body === null) {
    park.release();
    const text = await response.text();
    if (plan.rewriteResult === undefined && upstreamCallId === clientId) {
      const marked = markComplete(text);
      if (marked !== undefined)
        return new Response(marked, { status: 200, headers: { 'content-type': 'application/json' } });
    }
    try {
      const parsed = JSON.parse(text) as RelayedMessage;
      return jsonAnswer(completeAnswer({ ...parsed, id: clientId }, plan.rewriteResult));
    } catch {
      return errorAnswer(
        clientId,
        new GatewayError('UPSTREAM_PROTOCOL_ERROR', `upstream ${server.name} answered with invalid JSON`),
        logger,
      );
    }
  }
  return streamLegacyForModern(
    context,
    upstreamMessages(response.body),
    abort,
    timeoutMs,
    upstreamCallId,
    clientId,
    plan,
    park,
  );
}

function streamLegacyForModern(
  context: ModernContext,
  upstream: ReturnType<typeof upstreamMessages>,
  abort: AbortController,
  timeoutMs: number,
  upstreamCallId: JsonRpcId,
  clientId: JsonRpcId,
  plan: ForwardPlan,
  park: ParkBase,
): Response {
  const { options } = context;
  const logger = options.logger;
  const { server } = plan;
  let parked = false;
  const stream = relayMessages({
    upstream,
    silenceMs: timeoutMs,
    onMessage: async (relayed): Promise<RelayStep> => {
      if (isAnswerTo(relayed, upstreamCallId)) {
        park.release();
        return { send: [completeAnswer({ ...relayed, id: clientId }, plan.rewriteResult)], next: 'end' };
      }
      const method = relayed['method'];
      if (typeof method === 'string' && 'id' in relayed) {
        const upstreamId = relayed['id'] as JsonRpcId;
        if (!INPUT_METHODS.has(method)) {
          // ping and anything else: answered here, as the gateway's own connection would.
          const answer =
            method === 'ping'
              ? { jsonrpc: '2.0', id: upstreamId, result: {} }
              : { jsonrpc: '2.0', id: upstreamId, error: { code: -32601, message: 'Method not found' } };
          await postLegacyAnswer(options, park, answer);
          return { send: [], next: 'continue' };
        }
        const key = `input-${String(upstreamId)}`;
        parked = true;
        const local = context.parked.park({ ...park, waiting: new Map([[key, upstreamId]]), upstream });
        // Everything a retry needs, sealed: any replica can answer the upstream and resume its stream.
        const sealed = await options.tokens.seal(
          {
            p: local,
            s: server.name,
            b: park.backendSessionId,
            c: upstreamCallId,
            w: [[key, upstreamId]],
            ...(upstream.lastEventId?.() === undefined ? {} : { e: upstream.lastEventId() }),
            ...(park.protocolVersion === undefined ? {} : { v: park.protocolVersion }),
            ...(park.caller === undefined ? {} : { u: park.caller }),
          },
          Math.ceil(DEFAULT_PARK_MS / 1000),
        );
        const result = {
          resultType: 'input_required',
          inputRequests: { [key]: { method, params: relayed['params'] ?? {} } },
          requestState: `${PARKED_STATE_PREFIX}${sealed}`,
        };
        return { send: [{ jsonrpc: '2.0', id: clientId, result }], next: 'park' };
      }
      // Progress and log notifications stay on the call's stream.
      return { send: [relayed], next: 'continue' };
    },
    onUpstreamEnd: () => {
      park.release();
      return [errorMessage(clientId, endedEarly(server), logger)];
    },
    onSilence: () => {
      park.release();
      return [errorMessage(clientId, staySilent(server, timeoutMs), logger)];
    },
    onClientGone: () => {
      if (parked) return;
      abort.abort();
      // Closing a modern stream is the cancellation: tell the legacy upstream in its own terms.
      void postLegacyAnswer(options, park, {
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: upstreamCallId, reason: 'client closed the request stream' },
      });
      park.release();
    },
  });
  return new Response(stream, { status: 200, headers: SSE_HEADERS });
}

/**
 * The retry of a parked call: answers the waiting upstream on the backend session the sealed
 * state names, then relays the rest of the call. The upstream's stream is read on from where it
 * was parked when this process holds it; otherwise (another replica, or a runtime that binds
 * streams to the request that opened them, as workerd does) it is resumed with GET and
 * Last-Event-ID, which upstreams that keep their events (an event store) support.
 */
async function resumeParked(
  context: ModernContext,
  request: Request,
  message: JsonRpcRequest,
  requestState: string,
  inputResponses: unknown,
  caller: string | undefined,
  plan: ForwardPlan,
): Promise<Response> {
  const { options } = context;
  const logger = options.logger;
  const state = await options.tokens.open(requestState.slice(PARKED_STATE_PREFIX.length));
  const valid = state !== undefined && state['s'] === plan.server.name && (state['u'] as string | undefined) === caller;
  if (!valid) {
    const error = new GatewayError(
      'INVALID_PARAMS',
      'requestState names no waiting call of this caller (it expired, is forged, or belongs to another tool or caller): call again without requestState',
    );
    return errorAnswer(message.id, error, logger);
  }
  const local = context.parked.take(String(state['p']));
  const protocolVersion = typeof state['v'] === 'string' ? state['v'] : undefined;
  const call = {
    server: plan.server,
    backendSessionId: String(state['b']),
    identityHeaders: clientIdentityHeaders(request.headers),
    ...(protocolVersion === undefined ? {} : { protocolVersion }),
    caller,
    upstreamCallId: state['c'] as JsonRpcId,
    release: local?.release ?? (() => {}),
  };
  const responses =
    typeof inputResponses === 'object' && inputResponses !== null ? (inputResponses as Record<string, unknown>) : {};
  const waiting = Array.isArray(state['w']) ? (state['w'] as [string, JsonRpcId][]) : [];
  for (const [key, upstreamId] of waiting) {
    const answer = responses[key];
    const body =
      typeof answer === 'object' && answer !== null
        ? { jsonrpc: '2.0', id: upstreamId, result: answer }
        : {
            jsonrpc: '2.0',
            id: upstreamId,
            error: { code: -32603, message: 'The client gave no answer to this request' },
          };
    await postLegacyAnswer(options, call, body);
  }
  const lastEventId = typeof state['e'] === 'string' ? state['e'] : undefined;
  const abort = new AbortController();
  const source = resumable(local?.upstream, lastEventId, async (from) => {
    const body = await resumeBackendStream(options, backendTarget(call), from, abort.signal);
    return body === undefined ? undefined : upstreamMessages(body);
  });
  return streamLegacyForModern(
    context,
    source,
    abort,
    options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
    call.upstreamCallId,
    message.id,
    plan,
    call,
  );
}

/**
 * Reads `first` (when there is one) and, when it ends or fails, resumes the stream from the last
 * event id seen with `resume` (at most 3 times; never without an event id).
 */
function resumable(
  first: UpstreamMessages | undefined,
  lastEventId: string | undefined,
  resume: (lastEventId: string) => Promise<UpstreamMessages | undefined>,
): UpstreamMessages {
  let current = first;
  let last = lastEventId;
  let resumes = 0;
  return {
    async next() {
      for (;;) {
        if (current !== undefined) {
          let message: RelayedMessage | undefined;
          try {
            message = await current.next();
          } catch {
            message = undefined;
          }
          last = current.lastEventId?.() ?? last;
          if (message !== undefined) return message;
          current.cancel();
          current = undefined;
        }
        if (last === undefined || resumes >= 3) return undefined;
        resumes += 1;
        current = await resume(last);
        if (current === undefined) return undefined;
      }
    },
    cancel() {
      current?.cancel();
    },
    lastEventId: () => last,
  };
}

/** POSTs to a legacy upstream with the call timeout on the response headers. */
async function postLegacy(
  options: McpEndpointOptions,
  server: ServerConfig,
  init: { body: unknown; headers: Record<string, string> },
): Promise<{ response: Response; abort: AbortController; timeoutMs: number } | GatewayError> {
  const timeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const response = await options.fetchFor(server)(server.url, {
      method: 'POST',
      headers: init.headers,
      body: JSON.stringify(init.body),
      signal: abort.signal,
    });
    return { response, abort, timeoutMs };
  } catch (error) {
    return abort.signal.aborted
      ? new GatewayError('UPSTREAM_TIMEOUT', `upstream ${server.name} did not answer within ${timeoutMs} ms`)
      : new GatewayError('UPSTREAM_UNAVAILABLE', `upstream ${server.name} is unreachable`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** Sends an answer or notification to a legacy upstream on the parked call's backend session. Never throws. */
function postLegacyAnswer(
  options: McpEndpointOptions,
  call: Pick<ParkedCall, 'server' | 'backendSessionId' | 'identityHeaders' | 'protocolVersion'>,
  body: object,
): Promise<void> {
  return postToBackend(options, backendTarget(call), body, options.logger);
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

/** The error of an upstream stream that ended before the call's answer. */
function endedEarly(server: ServerConfig): GatewayError {
  return new GatewayError('UPSTREAM_UNAVAILABLE', `upstream ${server.name} closed the stream without answering`);
}

/** The error of an upstream that sent nothing for the call timeout. */
function staySilent(server: ServerConfig, timeoutMs: number): GatewayError {
  return new GatewayError('UPSTREAM_TIMEOUT', `upstream ${server.name} stayed silent for ${timeoutMs} ms`);
}

function isAnswerTo(message: RelayedMessage, id: JsonRpcId): boolean {
  return message['id'] === id && !('method' in message) && ('result' in message || 'error' in message);
}

/** Applies the result rewrite (resource URIs) to an answer message. */
function rewriteAnswer(message: RelayedMessage, rewrite: ModernUpstreamCall['rewriteResult']): RelayedMessage {
  const result = message['result'];
  if (rewrite === undefined || typeof result !== 'object' || result === null) return message;
  try {
    return { ...message, result: rewrite(result as Record<string, unknown>) };
  } catch (error) {
    // A rewrite refuses what cannot be translated (see forward-call's modern branch).
    return { jsonrpc: '2.0', id: message['id'], error: toJsonRpcError(error, NOOP_LOGGER) };
  }
}

const RESULT_KEY = '"result":{';

/**
 * Adds `"resultType":"complete"` to a legacy JSON answer's result without decoding it: the
 * first `"result":{` of a response object is its top-level key (only `jsonrpc` and `id`, which
 * hold no objects, can precede it; an error response's `"error":` comes first). Undefined when
 * the text is not that simple shape (then the caller parses it).
 */
function markComplete(text: string): string | undefined {
  const at = text.indexOf(RESULT_KEY);
  if (at < 0 || text.charCodeAt(0) !== 0x7b) return undefined;
  const error = text.indexOf('"error":');
  if ((error >= 0 && error < at) || text.includes('"resultType"')) return undefined;
  const open = at + RESULT_KEY.length;
  const empty = text.charCodeAt(open) === 0x7d;
  return `${text.slice(0, open)}"resultType":"complete"${empty ? '' : ','}${text.slice(open)}`;
}

/** A legacy answer made modern: `resultType: 'complete'` on results. */
function completeAnswer(message: RelayedMessage, rewrite: ModernUpstreamCall['rewriteResult']): RelayedMessage {
  const rewritten = rewriteAnswer(message, rewrite);
  const result = rewritten['result'];
  if (typeof result !== 'object' || result === null) return rewritten;
  return { ...rewritten, result: { resultType: 'complete', ...(result as Record<string, unknown>) } };
}

function errorMessage(id: JsonRpcId, error: unknown, logger: Logger): RelayedMessage {
  return { jsonrpc: '2.0', id, error: toJsonRpcError(error, logger) };
}

function errorAnswer(id: JsonRpcId, error: unknown, logger: Logger): Response {
  return jsonAnswer(errorMessage(id, error, logger));
}

function jsonAnswer(message: RelayedMessage): Response {
  return new Response(JSON.stringify(message), { status: 200, headers: { 'content-type': 'application/json' } });
}
