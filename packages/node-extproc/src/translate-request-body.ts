import {
  checkModernHeaders,
  decideRoute,
  encodeHeaderValue,
  isModernRequest,
  isModernVersion,
  parseJsonRpcMessage,
  ROUTER_HEADERS,
  routerHeaders,
  argumentsOf,
  authorizeForward,
  confirmationNeed,
  NO_TRAIL,
  type AccessControl,
  type AuditTrail,
  type Auditor,
  type GatewayMetrics,
  type GatewaySpan,
  type GatewayTracer,
  mcpRequestAttributes,
  mcpSpanName,
  mcpTargetAttributes,
  serverAttributes,
  withTraceMeta,
  NO_SPAN,
  type AdmittedCall,
  type Authentication,
  type QuotaCheck,
  type ForwardPlan,
  type JsonRpcRequest,
  type RouteContext,
  type SessionClaims,
  type SessionAdmission,
  type SessionGate,
  type UserCredentials,
  META,
  requestMeta,
} from '@mcp-gateway/core/router';
import { GatewayError, type Logger, type ServerConfig } from '@mcp-gateway/core';
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
import { isBackendInit, routeBackendInit, type BackendInitDeps } from './route-backend-init.ts';
import { ACCESS_HEADERS, BROKER_SERVER_NAME } from './translate-request-headers.ts';
import { recordUnroutedCall } from './routed-call-record.ts';
import { NO_STREAM_TRACE, type StreamTrace } from './stream-trace.ts';
import type { UpstreamRoute } from './upstream-route.ts';

/** What the request-body phase needs; effects are injected so the translation stays testable. */
export interface RequestBodyDeps extends BackendInitDeps {
  /** Largest body accepted, in bytes; larger bodies get 413. */
  readonly maxBodyBytes: number;
  /** The session decision the broker makes (the same gate). */
  readonly gate: SessionGate;
  /** What the routing decision reads now (the same decision the broker makes). */
  routeContext(): RouteContext;
  /** The access decisions the broker makes (virtual servers, trusted headers, policy). */
  access(): AccessControl;
  /** Where routed calls are recorded (the config's audit trail, as `router`). */
  auditor(): Auditor;
  /** Where the router's decisions and calls are counted. */
  readonly metrics: GatewayMetrics;
  /** Where the router's spans go: one per routed call. */
  readonly tracer: GatewayTracer;
  /** Where a failed call is logged (once, at warn). */
  readonly logger: Logger;
  /**
   * Counts a routed tools/call against the caller's quota (core's admitCallQuota, the broker's
   * decision): undefined without one, the refusal when over it, else the slot held until the
   * exchange ends.
   */
  admitQuota(plan: ForwardPlan, caller: string | undefined): Promise<AdmittedCall | GatewayError | undefined>;
  /**
   * The quota a routed call counts against, for `caller` (core's quotaCheckOf): a legacy call
   * under one has its session read with its admission (SessionGate.admitCall), in one store round
   * trip. Undefined without one.
   */
  quotaCheck(plan: ForwardPlan, caller: string | undefined): QuotaCheck | undefined;
  /** The caller's identity hash of a sessionless (2026-07-28) request, as sessions bind it. */
  identifyCaller(auth: Authentication): Promise<string | undefined>;
  /** The user credential decision the broker makes (core's UserCredentials). */
  readonly credentials: UserCredentials;
  /**
   * The backend session for (session, server): `known` when the store named one, else one opened
   * once (single flight) by an initialize carrying the client's identity headers, a client span
   * of the routed call's `span`. "" for an upstream without sessions.
   */
  ensureBackendSession(
    claims: SessionClaims,
    server: ServerConfig,
    clientHeaders: ReadonlyMap<string, string>,
    known: string | undefined,
    span?: GatewaySpan,
  ): Promise<string>;
}

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

/** The span of a routed call (kind server, named and attributed as the broker names its own). */
function routedCallSpan(
  deps: RequestBodyDeps,
  trace: StreamTrace,
  request: JsonRpcRequest,
  plan: ForwardPlan,
  served: { kind: 'tool' | 'prompt' | 'resource'; name: string },
  jti: string | undefined,
): GatewaySpan {
  if (!deps.tracer.enabled) {
    // Off: a caller's context is passed on as it came; nothing else is built.
    return trace.parent === undefined ? NO_SPAN : deps.tracer.server(request.method, trace.parent, {});
  }
  return deps.tracer.server(
    mcpSpanName(request.method, served),
    trace.parent,
    {
      ...mcpRequestAttributes(request.method, request.id),
      ...mcpTargetAttributes(served),
      'mcp.session.id': jti,
      'mcp.server': plan.server.name,
      'mcp.route': 'router',
      ...serverAttributes(plan.server.url),
      'network.protocol.name': 'http',
    },
    trace.startTime === 0 ? undefined : trace.startTime,
  );
}

/**
 * Whether the access decision lets the call go straight to its upstream. A refused call (or an
 * unknown virtual server) goes to the broker instead, which refuses it with the same decision
 * (core's authorizeForward) and records it: one refusal, answered and audited in one place. So
 * does a call that needs the user's confirmation (core's confirmationNeed): the broker asks.
 */
async function mayRoute(
  request: JsonRpcRequest,
  plan: ForwardPlan,
  headers: ReadonlyMap<string, string>,
  deps: RequestBodyDeps,
  auth: Authentication,
  jti: string | undefined,
  sessionVirtualServer: string | undefined,
  trace: StreamTrace,
  admitQuota: () => Promise<AdmittedCall | GatewayError | undefined>,
  clientCapabilities: Readonly<Record<string, unknown>> | undefined,
): Promise<Routed | undefined> {
  const control = deps.access();
  const access = await control.requestAccess(headers, auth, request.method, sessionVirtualServer);
  if (!('auth' in access)) return undefined;
  const authorization = authorizeForward(control, access, plan);
  if (authorization.error !== undefined) return undefined;
  const { subject, verdict } = authorization;
  if (subject === undefined) return { trail: NO_TRAIL };
  // A call that needs the user's confirmation: the broker asks (on the call's stream, or with an
  // input_required round), records the answer and forwards it once confirmed.
  const catalog = deps.routeContext().catalog;
  if (confirmationNeed(access, plan.server, subject, catalog, argumentsOf(plan)).needed) return undefined;
  // A call that needs the user's own credential and has none (or whose exchange fails): the broker
  // answers it (a URL elicitation, the failure), as it decides it. Asked before the quota counts it.
  let userAuthorization: string | undefined;
  if (deps.credentials.applies(plan.server)) {
    const decided = await deps.credentials.forCall({
      server: plan.server,
      auth,
      authorization: headers.get('authorization'),
      clientCapabilities,
      origin: '',
      ask: false,
    });
    if (decided.kind === 'refuse') return undefined;
    if (decided.kind === 'user') userAuthorization = decided.authorization;
  }
  // Over its quota (or a store that cannot count it): the broker refuses it, counts and audits it.
  const quota = await admitQuota();
  if (quota instanceof GatewayError) return undefined;
  // Refusals are counted by the broker, which answers them.
  if (verdict.allowed && verdict.by !== 'open') deps.metrics.accessDecision('router', verdict.by, verdict.rule, true);
  const trail = deps.auditor().begin({ method: request.method, subject, verdict, auth, jti, args: argumentsOf(plan) });
  const served = { kind: subject.kind, name: subject.servedName };
  return {
    trail,
    call: { method: request.method, kind: subject.kind, name: subject.servedName, startedAt: performance.now() },
    span: routedCallSpan(deps, trace, request, plan, served, jti),
    ...(quota !== undefined && { release: () => quota.release() }),
    ...(userAuthorization !== undefined && {
      authorization: userAuthorization,
      rejectCredential: () => deps.credentials.rejected(plan.server, auth),
    }),
  };
}

/** A call the access decision let through: its audit trail, what the metrics count of it, its span. */
interface Routed {
  readonly trail: AuditTrail;
  readonly call?: UpstreamRoute['call'];
  readonly span?: GatewaySpan;
  /** Gives back the call's quota slot. */
  readonly release?: () => void;
  /** The user's own credential for the upstream: the routed request's Authorization (and its backend session's). */
  readonly authorization?: string;
  readonly rejectCredential?: () => Promise<void>;
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
