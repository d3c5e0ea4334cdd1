import {
  argumentsOf,
  authorizeForward,
  confirmationNeed,
  mcpRoutedAttributes,
  mcpSessionAttributes,
  mcpSpanName,
  NO_SPAN,
  NO_TRAIL,
  type AdmittedCall,
  type AuditTrail,
  type Authentication,
  type ForwardPlan,
  type GatewaySpan,
  type JsonRpcRequest,
} from '@mcp-gateway/core/router';
import { GatewayError } from '@mcp-gateway/core';
import type { StreamTrace } from './stream-trace.ts';
import type { RequestBodyDeps } from './request-body-deps.ts';
import type { UpstreamRoute } from './upstream-route.ts';

/**
 * The router's decision on a call it could send straight to its upstream: the broker's own
 * decisions (access, confirmation, the user's credential, the quota), made by the same core
 * functions; anything the broker answers itself goes to the broker.
 */

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
  const span = deps.tracer.server(
    mcpSpanName(request.method, served),
    trace.parent,
    mcpRoutedAttributes(request.method, served, plan.server.name, plan.server.url),
    trace.startTime === 0 ? undefined : trace.startTime,
  );
  if (span.recording) {
    span.requestId(request.id);
    if (jti !== undefined) span.set(mcpSessionAttributes(jti, undefined));
  }
  return span;
}

/**
 * Whether the access decision lets the call go straight to its upstream. A refused call (or an
 * unknown virtual server) goes to the broker instead, which refuses it with the same decision
 * (core's authorizeForward) and records it: one refusal, answered and audited in one place. So
 * does a call that needs the user's confirmation (core's confirmationNeed): the broker asks.
 */
export async function mayRoute(
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
export interface Routed {
  readonly trail: AuditTrail;
  readonly call?: UpstreamRoute['call'];
  readonly span?: GatewaySpan;
  /** Gives back the call's quota slot. */
  readonly release?: () => void;
  /** The user's own credential for the upstream: the routed request's Authorization (and its backend session's). */
  readonly authorization?: string;
  readonly rejectCredential?: () => Promise<void>;
}
