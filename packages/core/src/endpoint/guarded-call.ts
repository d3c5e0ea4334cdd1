import { NO_AUDIT } from '../audit/audit-record.ts';
import type { ClientCall } from '../calls/call-context.ts';
import { forwardCall } from '../calls/forward-call.ts';
import type { AccessVerdict, RequestAccess } from '../decision/access-control.ts';
import { whenSent } from '../protocol/when-sent.ts';
import { mcpSpanName, mcpTargetAttributes } from '../telemetry/mcp-spans.ts';
import { argumentsOf, authorizeForward } from '../decision/authorize.ts';
import type { Era } from '../decision/routed-methods.ts';
import type { GatewayError } from '../errors.ts';
import type { CallOutcome } from '../telemetry/gateway-metrics.ts';
import type { EndpointContext } from './endpoint-context.ts';

/**
 * Forwards a routed call once the access decision allows it (core's authorizeForward, the one
 * the Envoy router makes too), recording the decision in the audit trail: a refused call is
 * answered with `refuse(error)`; an allowed one is recorded when its answer has been relayed.
 */
export async function forwardGuarded(
  ctx: EndpointContext,
  call: ClientCall,
  era: Era,
  access: RequestAccess,
  refuse: (error: GatewayError) => Response,
): Promise<Response> {
  const started = performance.now();
  const authorization = authorizeForward(ctx.access(), access, call.plan);
  const { subject, verdict } = authorization;
  if (subject === undefined) return forwardCall(ctx, call, era);
  if (verdict.by !== 'open')
    ctx.metrics.accessDecision(ctx.hostName, decidedBy(verdict), verdict.rule, verdict.allowed);
  const auditor = ctx.auditor();
  const trail = auditor.begin({
    method: call.plan.method,
    subject,
    verdict,
    auth: call.auth,
    jti: call.session?.claims.jti,
    args: argumentsOf(call.plan),
  });
  const fact = {
    host: ctx.hostName,
    method: call.plan.method,
    server: subject.server,
    kind: subject.kind,
    name: subject.servedName,
  };
  if (ctx.span.recording) {
    const target = { kind: subject.kind, name: subject.servedName };
    ctx.span.rename(mcpSpanName(call.plan.method, target));
    ctx.span.set({ ...mcpTargetAttributes(target), 'mcp.server': subject.server });
  }
  const item = { server: subject.server, item: subject.servedName };
  if (authorization.error !== undefined) {
    call.logger.warn('call refused by access rules', { ...item, by: decidedBy(verdict), rule: verdict.rule });
    ctx.span.fail('access_denied', authorization.error.message);
    trail.finish();
    ctx.metrics.call({ ...fact, outcome: 'denied', seconds: 0 });
    return refuse(authorization.error);
  }
  let upstreamStatus: number | undefined;
  let failure: GatewayError | undefined;
  const noteUpstream = (outcome: number | GatewayError) => {
    if (typeof outcome === 'number') {
      upstreamStatus = outcome;
      trail.upstreamStatus(outcome);
    } else failure = outcome;
  };
  const response = await forwardCall(ctx, { ...call, noteUpstream }, era);
  // Until the answer starts: a JSON answer has been read whole; an SSE answer is under way.
  const outcome = callOutcome(upstreamStatus);
  ctx.metrics.call({ ...fact, outcome, seconds: (performance.now() - started) / 1000 });
  if (outcome !== 'ok') {
    // Once per failed call, at warn: what failed and why, joined to its trace by the logger's trace_id.
    const reason =
      failure === undefined ? { status: upstreamStatus } : { error: failure.code, reason: failure.message };
    call.logger.warn('call failed', { ...item, ...reason });
    if (failure !== undefined) ctx.span.fail(failure.code, failure.message);
  }
  return auditor === NO_AUDIT ? response : whenSent(response, () => trail.finish());
}

/** What decided, as the audit and the metrics name it. */
function decidedBy(verdict: AccessVerdict): string {
  return verdict.allowed ? verdict.by : (verdict.by ?? verdict.because);
}

/** A call's outcome by its upstream's status: none (unreachable, timed out), an HTTP error, or an answer. */
function callOutcome(status: number | undefined): CallOutcome {
  if (status === undefined) return 'unavailable';
  return status >= 400 ? 'error' : 'ok';
}
