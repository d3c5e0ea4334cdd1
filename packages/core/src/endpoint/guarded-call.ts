import { NO_AUDIT, type Auditor, type AuditTrail } from '../audit/audit-record.ts';
import type { ClientCall } from '../calls/call-context.ts';
import { forwardCall } from '../calls/forward-call.ts';
import type { AccessVerdict, RequestAccess } from '../decision/access-control.ts';
import { toErrorResponse } from '../protocol/error-mapping.ts';
import { isEventStream, whenSent } from '../protocol/when-sent.ts';
import { mcpCallAttributes, mcpSpanName } from '../telemetry/mcp-spans.ts';
import { argumentsOf, authorizeForward } from '../decision/authorize.ts';
import { admitCallQuota, type AdmittedCall } from '../decision/call-quota.ts';
import { confirmationNeed, type ConfirmationOutcome } from '../decision/call-confirmation.ts';
import type { Era } from '../decision/routed-methods.ts';
import { GatewayError } from '../errors.ts';
import type { LogFields } from '../logger.ts';
import { answerOutcome, type AnswerOutcome } from '../telemetry/answer-outcome.ts';
import type { CallFact, CallOutcome } from '../telemetry/gateway-metrics.ts';
import { confirmLegacyCall, confirmModernCall } from './confirmed-call.ts';
import { credentialedCall } from './credentialed-call.ts';
import { upstreamStatusOf } from '../upstream/upstream-errors.ts';
import type { EndpointContext } from './endpoint-context.ts';

/**
 * Forwards a routed call once the access decision allows it (core's authorizeForward, the one
 * the Envoy router makes too), recording the decision in the audit trail: a refused call is
 * answered with `refuse(error)`; an allowed one is recorded when its answer has been relayed. A
 * call that needs the user's confirmation (core's confirmationNeed) is forwarded only once
 * confirmed (see confirmed-call.ts), and only then counted against its quota. A legacy call whose
 * session the gate has not read yet (`admitWith`) has it read first, before anything is counted
 * or audited: with its quota's admission, in one store round trip, when it goes on at once.
 */
export async function forwardGuarded(
  ctx: EndpointContext,
  received: ClientCall,
  era: Era,
  access: RequestAccess,
  refuse: (error: GatewayError, asToolResult?: boolean) => Response,
): Promise<Response> {
  const started = performance.now();
  const authorization = authorizeForward(ctx.access(), access, received.plan);
  const { subject, verdict } = authorization;
  const confirmation =
    subject === undefined || authorization.error !== undefined
      ? undefined
      : confirmationNeed(access, received.plan.server, subject, ctx.upstreams.catalog(), argumentsOf(received.plan));
  // Before anything is counted or audited: a call on an ended session is answered 404 alone.
  const gated = await gateSession(ctx, received, confirmation?.needed === false);
  if (gated instanceof Response) return gated;
  const { quota } = gated;
  let { call } = gated;
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
    ctx.span.set(mcpCallAttributes(target, subject.server));
  }
  const item = { server: subject.server, item: subject.servedName };
  if (authorization.error !== undefined) {
    call.logger.warn('call refused by access rules', { ...item, by: decidedBy(verdict), rule: verdict.rule });
    ctx.span.fail('access_denied', authorization.error.message);
    trail.finish();
    ctx.metrics.call({ ...fact, outcome: 'denied', seconds: 0 });
    return refuse(authorization.error);
  }
  // A call over its quota is refused as such (admitAndForward), not asked for a credential first.
  if (!(quota instanceof GatewayError)) {
    const credentialed = await credentialedCall(ctx, call, era).catch((error: unknown) => {
      quota?.release();
      throw error;
    });
    if (!('plan' in credentialed)) {
      quota?.release();
      const { error } = credentialed;
      call.logger.info("call not forwarded: the user's own credential is needed", { ...item, error: error.code });
      ctx.span.fail(error.code, error.message);
      trail.noCredential(error.code);
      trail.finish();
      const outcome = error.code === 'TOKEN_EXCHANGE_FAILED' ? 'unavailable' : 'no_credential';
      ctx.metrics.call({ ...fact, outcome, seconds: 0 });
      return refuse(error, credentialed.asToolError === true && call.plan.method === 'tools/call');
    }
    call = credentialed;
  }
  const guarded = { trail, fact, item, started, auditor };
  if (confirmation?.needed !== true) return admitAndForward(ctx, call, era, guarded, refuse, quota);
  const unconfirmed = (error: GatewayError, outcome: ConfirmationOutcome) => {
    trail.confirmation(outcome);
    trail.finish();
    ctx.span.fail('unconfirmed', error.message);
    ctx.metrics.call({ ...fact, outcome: 'unconfirmed', seconds: 0 });
    return refuse(error);
  };
  if (era === 'legacy') {
    return confirmLegacyCall(ctx, call, subject.servedName, trail, unconfirmed, () =>
      admitAndForward(ctx, call, era, guarded, refuse),
    );
  }
  const checked = await confirmModernCall(ctx, call, subject.servedName);
  if (checked.kind === 'refuse') {
    call.logger.warn('call not confirmed', { ...item, confirmation: checked.outcome });
    return unconfirmed(checked.error, checked.outcome);
  }
  if (checked.kind === 'ask') {
    trail.confirmation('requested');
    trail.finish();
    return checked.response;
  }
  if (checked.call !== call) trail.confirmation('accepted');
  return admitAndForward(ctx, checked.call, era, guarded, refuse);
}

/**
 * The session read a legacy call's gate left for its quota admission (LegacySession.admitWith):
 * with the admission, in one store round trip, when the call goes on now (`withQuota`); alone
 * when it is refused or waits for a confirmation first (its quota is counted once confirmed).
 * The call with its session admitted and the quota's answer, or the 404 of an ended session.
 */
async function gateSession(
  ctx: EndpointContext,
  call: ClientCall,
  withQuota: boolean,
): Promise<Response | { call: ClientCall; quota?: AdmittedCall | GatewayError }> {
  const session = call.session;
  const check = session?.admitWith;
  if (session === undefined || check === undefined) return { call };
  const server = call.plan.server.name;
  const admitted = (backendSessionId: string | undefined): ClientCall => ({
    ...call,
    session: { token: session.token, claims: session.claims, backendSessionId },
  });
  if (withQuota) {
    const gated = await ctx.gate.admitCall(session.claims, server, check);
    if (!gated.ok) return toErrorResponse(gated.error, call.message.id, ctx.logger);
    return { call: admitted(gated.backendSessionId), quota: gated.quota };
  }
  const gated = await ctx.gate.admit(session.claims, server);
  if (!gated.ok) return toErrorResponse(gated.error, call.message.id, ctx.logger);
  return { call: admitted(gated.backendSessionId) };
}

/** What forwardGuarded made of a call the access decision allowed, for the rest of its way. */
interface GuardedCall {
  readonly trail: AuditTrail;
  readonly fact: Omit<CallFact, 'outcome' | 'seconds'>;
  readonly item: LogFields;
  readonly started: number;
  readonly auditor: Auditor;
}

/**
 * An allowed (and, where needed, confirmed) call: counted against its quota (unless `admitted`
 * says how it was already, with its session), forwarded, and recorded once its answer has been
 * relayed.
 */
async function admitAndForward(
  ctx: EndpointContext,
  call: ClientCall,
  era: Era,
  guarded: GuardedCall,
  refuse: (error: GatewayError) => Response,
  admitted?: AdmittedCall | GatewayError,
): Promise<Response> {
  const { trail, fact, item, started, auditor } = guarded;
  const quota = admitted ?? (await admitQuota(ctx, call));
  if (quota instanceof GatewayError && quota.code !== 'RATE_LIMITED') {
    // The quota could not be counted (the store is unavailable): refused, as a failure, not a limit.
    call.logger.warn('call refused: its quota could not be counted', { ...item, error: quota.code });
    ctx.span.fail(quota.code, quota.message);
    trail.finish();
    ctx.metrics.call({ ...fact, outcome: 'unavailable', seconds: 0 });
    return refuse(quota);
  }
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
  let dropping: Promise<void> | undefined;
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
      // The upstream refused the user's own credential: dropped, so the next call asks again.
      if (outcome === 401 && call.userCredential === true)
        dropping = ctx.credentials.rejected(call.plan.server, call.auth);
    } else {
      failure = outcome;
      // Its backend session's initialize was refused 401: the user's credential is dropped too.
      if (call.userCredential === true && upstreamStatusOf(outcome) === 401)
        dropping = ctx.credentials.rejected(call.plan.server, call.auth);
    }
  };
  const noteAnswer = (message: Readonly<Record<string, unknown>>) => {
    answer = answerOutcome(message);
    if (awaitingAnswer) recordAnswer(answer);
  };
  const response = await forwardCall(ctx, { ...call, noteUpstream, noteAnswer }, era);
  // Dropped before the answer goes out, while the request's store is still open (workerd).
  if (dropping !== undefined) await dropping;
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
async function admitQuota(ctx: EndpointContext, call: ClientCall): Promise<AdmittedCall | GatewayError | undefined> {
  const { server, method, target } = call.plan;
  if (server.quotas === undefined || method !== 'tools/call' || target === undefined) return undefined;
  const caller = call.session !== undefined ? call.session.claims.caller : await ctx.callers.identify(call.auth);
  return admitCallQuota(ctx.store, server, target.name, caller, ctx.callTimeoutMs, ctx.logger);
}

/** What decided, as the audit and the metrics name it. */
function decidedBy(verdict: AccessVerdict): string {
  return verdict.allowed ? verdict.by : (verdict.by ?? verdict.because);
}
