import { NO_AUDIT } from '../audit/audit-record.ts';
import type { ClientCall } from '../calls/call-context.ts';
import { forwardCall } from '../calls/forward-call.ts';
import type { AccessVerdict, RequestAccess } from '../decision/access-control.ts';
import { isEventStream, whenSent } from '../protocol/when-sent.ts';
import { mcpSpanName, mcpTargetAttributes } from '../telemetry/mcp-spans.ts';
import { argumentsOf, authorizeForward } from '../decision/authorize.ts';
import { admitCallQuota, type AdmittedCall } from '../decision/call-quota.ts';
import type { Era } from '../decision/routed-methods.ts';
import { GatewayError } from '../errors.ts';
import type { LogFields } from '../logger.ts';
import { answerOutcome, type AnswerOutcome } from '../telemetry/answer-outcome.ts';
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
  const quota = await admitQuota(ctx, call, subject.kind);
  if (quota instanceof GatewayError) {
    const reason = (quota.data as { reason: string }).reason;
    call.logger.warn('call refused by its quota', { ...item, reason });
    ctx.span.fail('rate_limited', quota.message);
    trail.limited(reason);
    trail.finish();
    ctx.metrics.call({ ...fact, outcome: 'limited', seconds: 0 });
    return refuse(quota);
  }
  let upstreamStatus: number | undefined;
  let failure: GatewayError | undefined;
  let answer: AnswerOutcome | undefined;
  let awaitingAnswer = false;
  let recorded = false;
  // Counted, logged and marked on the span once per call: at its answer, or when it ends without one.
  const record = (outcome: CallOutcome, errorType?: string, detail?: LogFields) => {
    if (recorded) return;
    recorded = true;
    quota?.release();
    ctx.metrics.call({ ...fact, outcome, seconds: (performance.now() - started) / 1000 });
    if (errorType !== undefined) ctx.span.fail(errorType, detail?.['reason'] as string | undefined);
    // A tool that ran and reported its own failure is the tool's business, and a client may
    // cancel: counted, not logged.
    if (outcome === 'ok' || outcome === 'tool_error' || outcome === 'cancelled') return;
    // Once per failed call, at warn: what failed and why, joined to its trace by the logger's trace_id.
    call.logger.warn('call failed', { ...item, outcome, ...detail });
  };
  const recordAnswer = (judged: AnswerOutcome) => {
    if (judged.code !== undefined) ctx.span.set({ 'rpc.response.status_code': String(judged.code) });
    record(judged.outcome, judged.errorType, judged.code === undefined ? undefined : { code: judged.code });
  };
  const noteUpstream = (outcome: number | GatewayError) => {
    if (typeof outcome === 'number') {
      upstreamStatus = outcome;
      trail.upstreamStatus(outcome);
    } else failure = outcome;
  };
  const noteAnswer = (message: Readonly<Record<string, unknown>>) => {
    answer = answerOutcome(message);
    if (awaitingAnswer) recordAnswer(answer);
  };
  const response = await forwardCall(ctx, { ...call, noteUpstream, noteAnswer }, era);
  if (failure !== undefined) {
    record('unavailable', failure.code, { error: failure.code, reason: failure.message });
  } else if (upstreamStatus !== undefined && upstreamStatus >= 400) {
    record('error', String(upstreamStatus), { status: upstreamStatus });
  } else if (answer !== undefined) {
    recordAnswer(answer);
  } else if (isEventStream(response)) {
    // A stream under way (a resumed call's too, which sends nothing new upstream): the answer is
    // recorded when it comes.
    awaitingAnswer = true;
  } else {
    record('unavailable', 'no_answer', { reason: 'no answer from the upstream' });
  }
  if (!awaitingAnswer && auditor === NO_AUDIT) return response;
  return whenSent(response, (how) => {
    trail.finish();
    if (how === 'cancelled') record('cancelled');
    else record('unavailable', 'no_answer', { reason: 'the stream ended without an answer' });
  });
}

/** The quota check of a tools/call (see admitCallQuota); undefined for other calls and servers without quotas. */
async function admitQuota(
  ctx: EndpointContext,
  call: ClientCall,
  kind: string,
): Promise<AdmittedCall | GatewayError | undefined> {
  const server = call.plan.server;
  if (server.quotas === undefined || kind !== 'tool' || call.plan.target === undefined) return undefined;
  const caller = call.session !== undefined ? call.session.claims.caller : await ctx.callers.identify(call.auth);
  return admitCallQuota(ctx.store, server, call.plan.target.name, caller, ctx.callTimeoutMs, ctx.logger);
}

/** What decided, as the audit and the metrics name it. */
function decidedBy(verdict: AccessVerdict): string {
  return verdict.allowed ? verdict.by : (verdict.by ?? verdict.because);
}
