import {
  checkModernHeaders,
  decideRoute,
  encodeHeaderValue,
  isModernRequest,
  isModernVersion,
  parseJsonRpcMessage,
  ROUTER_HEADERS,
  routerHeaders,
  type GatewaySpan,
  withTraceMeta,
  NO_SPAN,
  type Authentication,
  type ForwardPlan,
  type JsonRpcRequest,
  type SessionAdmission,
  META,
  requestMeta,
  upstreamStatusOf,
} from '@mcp-gateway/core/router';
import { GatewayError } from '@mcp-gateway/core';
import {
  immediateResponse,
  refusalResponse,
  routedCallMetadata,
  routingMetadata,
  setHeader,
  type HeaderValueOption,
  type HttpBody,
  type ProcessingResponse,
} from './ext-proc-messages.ts';
import { isBackendInit, routeBackendInit } from './route-backend-init.ts';
import { ACCESS_HEADERS, BROKER_SERVER_NAME } from './translate-request-headers.ts';
import { recordUnroutedCall } from './routed-call-record.ts';
import type { RequestBodyDeps } from './request-body-deps.ts';
import { mayRoute, type Routed } from './routed-call-decision.ts';
import { NO_STREAM_TRACE, type StreamTrace } from './stream-trace.ts';
import type { UpstreamRoute } from './upstream-route.ts';

/** The request-body phase's answer and, for an upstream-routed call, what the response phase needs. */
export interface RequestBodyResult {
  readonly response: ProcessingResponse;
  readonly route?: UpstreamRoute;
}

const encoder = new TextEncoder();

/**
 * The request-body phase (BUFFERED): the broker's own decisions mapped onto Envoy. The routing
 * decision (core's decideRoute, for the client's era) says forward: a call whose upstream speaks
 * the client's era goes straight to it (`:authority` and `:path` of that server, the router
 * headers, the body with the prefix removed; for a legacy client, the backend session, after the
 * session gate admitted the session exactly as the broker would). Everything else (calls that
 * cross eras, local methods, unknown names, whose -32602 the broker answers in a form SDK
 * clients can read) goes to the broker. A hairpin initialize goes to its upstream when its token
 * is valid (see routeBackendInit). Malformed JSON gets 400, an oversized body 413, a refused
 * session the broker's status and JSON-RPC error.
 * @see https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/http/ext_proc/v3/processing_mode.proto
 */
export async function translateRequestBody(
  body: HttpBody,
  headers: ReadonlyMap<string, string>,
  deps: RequestBodyDeps,
  auth: Authentication,
  trace: StreamTrace = NO_STREAM_TRACE,
): Promise<RequestBodyResult> {
  const bytes = body.body ?? new Uint8Array();
  if (bytes.byteLength > deps.maxBodyBytes) {
    return { response: immediateResponse(413, `Request body too large (limit ${deps.maxBodyBytes} bytes)`) };
  }
  const backendInit = isBackendInit(headers);
  if (bytes.byteLength === 0 && !backendInit) return { response: toBroker(undefined) };
  const parsed = parseJsonRpcMessage(bytes);
  if (!parsed.ok) return { response: immediateResponse(400, parsed.message) };
  const message = parsed.message;
  if (backendInit) return { response: await routeBackendInit(message, headers, deps) };
  if (parsed.kind !== 'request') return { response: toBroker(undefined) };
  const request = message as JsonRpcRequest;
  const version = headers.get('mcp-protocol-version') ?? null;
  const modern = isModernRequest(version, request);
  if (modern) {
    const mismatch = checkModernHeaders((name) => headers.get(name) ?? null, request);
    if (mismatch !== undefined) return { response: refusalResponse(mismatch, request.id) };
    // A version the gateway does not serve: the broker answers UnsupportedProtocolVersion.
    if (!isModernVersion(version)) return { response: toBroker(request.method) };
  }
  const era = modern ? 'modern' : 'legacy';
  const decision = decideRoute(request, era, deps.routeContext());
  if (decision.kind !== 'forward' || decision.plan.upstreamEra !== era) {
    return { response: toBroker(request.method) };
  }
  return modern
    ? routeModernCall(request, decision.plan, headers, deps, auth, trace)
    : routeLegacyCall(request, decision.plan, headers, deps, auth, trace);
}

/** A legacy call on the client's backend session, once the session gate admitted the session. */
async function routeLegacyCall(
  message: JsonRpcRequest,
  plan: ForwardPlan,
  headers: ReadonlyMap<string, string>,
  deps: RequestBodyDeps,
  auth: Authentication,
  trace: StreamTrace,
): Promise<RequestBodyResult> {
  const token = headers.get('mcp-session-id');
  const checked = await deps.gate.check({ sessionId: token, auth });
  if (!checked.ok) return { response: refusalResponse(checked.error, message.id) };
  deps.metrics.sessionSeen(checked.claims.jti);
  const { server } = plan;
  const { claims } = checked;
  // A call under a quota has its session read with its admission, in one store round trip, once
  // the access decision let it through. A call sent to the broker before that has its session
  // read there, where the same gate answers an ended one with 404.
  const quota = deps.quotaCheck(plan, claims.caller);
  let session: SessionAdmission | undefined =
    quota === undefined ? await deps.gate.admit(claims, server.name) : undefined;
  if (session?.ok === false) return { response: refusalResponse(session.error, message.id) };
  const admitQuota = async () => {
    if (quota === undefined) return undefined;
    const gated = await deps.gate.admitCall(claims, server.name, quota);
    session = gated;
    // An ended session: refused below, never routed.
    return gated.ok ? gated.quota : gated.error;
  };
  const routed = await mayRoute(
    message,
    plan,
    headers,
    deps,
    auth,
    claims.jti,
    claims.vs,
    trace,
    admitQuota,
    claims.clientCapabilities,
  );
  // The access decision let the call through without a quota check (nothing to check it against): read alone.
  if (routed !== undefined && session === undefined) session = await deps.gate.admit(claims, server.name);
  if (session?.ok === false) {
    routed?.trail.finish();
    return { response: refusalResponse(session.error, message.id) };
  }
  if (routed === undefined || session === undefined) return { response: toBroker(message.method) };
  let backendSessionId: string;
  try {
    const identity = routed.authorization === undefined ? headers : withAuthorization(headers, routed.authorization);
    backendSessionId = await deps.ensureBackendSession(claims, server, identity, session.backendSessionId, routed.span);
  } catch (error) {
    routed.trail.finish();
    routed.release?.();
    // The user's credential was refused (401) at the backend session's initialize: dropped, as the broker does.
    if (routed.rejectCredential !== undefined && upstreamStatusOf(error) === 401) await routed.rejectCredential();
    const failure =
      error instanceof GatewayError
        ? error
        : new GatewayError('UPSTREAM_UNAVAILABLE', `could not open a session on upstream ${server.name}`, {
            cause: error,
          });
    recordUnroutedCall(server.name, routed.call, routed.span, failure, deps);
    return { response: refusalResponse(error, message.id) };
  }
  const mutations = forwardMutations(message, plan, { backendSessionId }, routed.span, routed.authorization);
  return {
    response: {
      ...mutations,
      dynamic_metadata: routedCallMetadata(plan, checked.claims.jti),
    },
    route: upstreamRoute(message, plan, routed, {
      gatewaySessionId: token ?? '',
      jti: checked.claims.jti,
      backendSessionId,
    }),
  };
}

/** A 2026-07-28 call to a 2026-07-28 upstream: sessionless, `Mcp-Name` without the prefix. */
async function routeModernCall(
  message: JsonRpcRequest,
  plan: ForwardPlan,
  headers: ReadonlyMap<string, string>,
  deps: RequestBodyDeps,
  auth: Authentication,
  trace: StreamTrace,
): Promise<RequestBodyResult> {
  const routed = await mayRoute(
    message,
    plan,
    headers,
    deps,
    auth,
    undefined,
    undefined,
    trace,
    async () => deps.admitQuota(plan, await deps.identifyCaller(auth)),
    requestMeta(message)?.[META.clientCapabilities] as Record<string, unknown> | undefined,
  );
  if (routed === undefined) return { response: toBroker(message.method) };
  return {
    response: {
      ...forwardMutations(message, plan, { backendSessionId: '' }, routed.span, routed.authorization),
      dynamic_metadata: routedCallMetadata(plan),
    },
    route: upstreamRoute(message, plan, routed, { gatewaySessionId: '', jti: '', backendSessionId: '' }),
  };
}

/**
 * The request-body answer that sends Envoy's request to the plan's upstream: its host and path,
 * the router headers (the broker's own encoding), the backend session (or none), `Mcp-Name`
 * for 2026-07-28, the call's trace context (`traceparent` and `params._meta`), and the body with
 * the prefix removed.
 */
function forwardMutations(
  message: JsonRpcRequest,
  plan: ForwardPlan,
  session: { backendSessionId: string },
  span: GatewaySpan = NO_SPAN,
  authorization?: string,
): ProcessingResponse {
  const { server } = plan;
  const carrier = span.carrier;
  const params = carrier['traceparent'] === undefined ? plan.params : withTraceMeta(plan.params, carrier);
  const newBody = encoder.encode(JSON.stringify({ ...message, params }));
  const set: HeaderValueOption[] = [
    setHeader(':authority', server.hostname),
    setHeader(':path', new URL(server.url).pathname),
    setHeader('content-length', String(newBody.byteLength)),
  ];
  for (const [name, value] of Object.entries(routerHeaders(message.method, server.name, plan.target))) {
    set.push(setHeader(name, value));
  }
  if (plan.upstreamEra === 'modern' && plan.target !== undefined) {
    set.push(setHeader('mcp-name', encodeHeaderValue(plan.target.name)));
  }
  if (session.backendSessionId !== '') set.push(setHeader('mcp-session-id', session.backendSessionId));
  // The user's own credential for this upstream, in place of the client's Authorization.
  if (authorization !== undefined) set.push(setHeader('authorization', authorization));
  for (const [name, value] of Object.entries(carrier)) set.push(setHeader(name, value));
  const remove: string[] = [...ACCESS_HEADERS];
  if (session.backendSessionId === '') remove.push('mcp-session-id');
  // The client's tracestate belongs to its traceparent, which the call's span replaced.
  if (carrier['traceparent'] !== undefined && carrier['tracestate'] === undefined) remove.push('tracestate');
  return {
    request_body: {
      response: {
        header_mutation: { set_headers: set, remove_headers: remove },
        body_mutation: { body: newBody },
        clear_route_cache: true,
      },
    },
  };
}

function upstreamRoute(
  message: JsonRpcRequest,
  plan: ForwardPlan,
  routed: Routed,
  session: { gatewaySessionId: string; jti: string; backendSessionId: string },
): UpstreamRoute {
  return {
    ...session,
    trail: routed.trail,
    ...(routed.call === undefined ? {} : { call: routed.call }),
    ...(routed.span === undefined || routed.span === NO_SPAN ? {} : { span: routed.span }),
    ...(routed.release !== undefined && { release: routed.release }),
    server: plan.server.name,
    requestId: message.id,
    params: plan.params,
    ...(plan.rewriteResult !== undefined && { rewriteResult: plan.rewriteResult }),
    ...(routed.rejectCredential !== undefined && { rejectCredential: routed.rejectCredential }),
  };
}

/** The client's headers with `authorization` in place of its own (the backend session opens as the user). */
function withAuthorization(headers: ReadonlyMap<string, string>, authorization: string): ReadonlyMap<string, string> {
  const copy = new Map(headers);
  copy.set('authorization', authorization);
  return copy;
}

/** Routes to the broker: the `:authority` set in the headers phase already selects it. */
function toBroker(method: string | undefined): ProcessingResponse {
  const set = [setHeader(ROUTER_HEADERS.server, BROKER_SERVER_NAME)];
  if (method !== undefined) set.unshift(setHeader(ROUTER_HEADERS.method, method));
  return {
    request_body: { response: { header_mutation: { set_headers: set }, clear_route_cache: true } },
    dynamic_metadata: routingMetadata({ method, server: BROKER_SERVER_NAME }),
  };
}

export type { RequestBodyDeps } from './request-body-deps.ts';
