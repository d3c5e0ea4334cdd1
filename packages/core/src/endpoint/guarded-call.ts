import { NO_AUDIT, type AuditTrail } from '../audit/audit-record.ts';
import type { ClientCall } from '../calls/call-context.ts';
import { forwardCall } from '../calls/forward-call.ts';
import type { AccessVerdict, RequestAccess } from '../decision/access-control.ts';
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
  if (authorization.error !== undefined) {
    call.logger.info('call refused by access rules', { server: subject.server, item: subject.servedName });
    trail.finish();
    ctx.metrics.call({ ...fact, outcome: 'denied', seconds: 0 });
    return refuse(authorization.error);
  }
  let upstreamStatus: number | undefined;
  const noteUpstreamStatus = (status: number) => {
    upstreamStatus = status;
    trail.upstreamStatus(status);
  };
  const response = await forwardCall(ctx, { ...call, noteUpstreamStatus }, era);
  // Until the answer starts: a JSON answer has been read whole; an SSE answer is under way.
  ctx.metrics.call({ ...fact, outcome: callOutcome(upstreamStatus), seconds: (performance.now() - started) / 1000 });
  return auditor === NO_AUDIT ? response : finishedWith(response, trail);
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

/** The response, with the trail finished once its body has been sent (or at once without a body). */
function finishedWith(response: Response, trail: AuditTrail): Response {
  if (response.body === null) {
    trail.finish();
    return response;
  }
  const reader = response.body.getReader();
  const watched = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (!done) return controller.enqueue(value);
        trail.finish();
        controller.close();
      } catch (error) {
        trail.finish();
        controller.error(error);
      }
    },
    cancel(reason) {
      // The client went away: the decision is recorded all the same.
      trail.finish();
      return reader.cancel(reason);
    },
  });
  return new Response(watched, { status: response.status, headers: response.headers });
}
