import { NO_AUDIT, type AuditTrail } from '../audit/audit-record.ts';
import type { ClientCall } from '../calls/call-context.ts';
import { forwardCall } from '../calls/forward-call.ts';
import type { RequestAccess } from '../decision/access-control.ts';
import { argumentsOf, authorizeForward } from '../decision/authorize.ts';
import type { Era } from '../decision/routed-methods.ts';
import type { GatewayError } from '../errors.ts';
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
  const authorization = authorizeForward(ctx.access(), access, call.plan);
  if (authorization.subject === undefined) return forwardCall(ctx, call, era);
  const auditor = ctx.auditor();
  const trail = auditor.begin({
    method: call.plan.method,
    subject: authorization.subject,
    verdict: authorization.verdict,
    auth: call.auth,
    jti: call.session?.claims.jti,
    args: argumentsOf(call.plan),
  });
  if (authorization.error !== undefined) {
    call.logger.info('call refused by access rules', {
      server: authorization.subject.server,
      item: authorization.subject.servedName,
    });
    trail.finish();
    return refuse(authorization.error);
  }
  if (auditor === NO_AUDIT) return forwardCall(ctx, call, era);
  const response = await forwardCall(
    ctx,
    { ...call, noteUpstreamStatus: (status) => trail.upstreamStatus(status) },
    era,
  );
  return finishedWith(response, trail);
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
