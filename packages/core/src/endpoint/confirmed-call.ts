import type { AuditTrail } from '../audit/audit-record.ts';
import type { ClientCall } from '../calls/call-context.ts';
import {
  CONFIRM_INPUT_KEY,
  CONFIRM_STATE_PREFIX,
  confirmationBinding,
  isConfirmationFor,
  rememberConfirmed,
  sealConfirmation,
  wasConfirmed,
} from '../calls/confirmation-state.ts';
import { PARKED_STATE_PREFIX } from '../calls/parked-calls.ts';
import {
  canElicitForm,
  confirmationRefusal,
  confirmationRequest,
  outcomeOfAnswer,
  type ConfirmationOutcome,
} from '../decision/call-confirmation.ts';
import type { GatewayError } from '../errors.ts';
import { toJsonRpcError } from '../protocol/error-mapping.ts';
import { META } from '../protocol/modern-request.ts';
import { askClientInput } from '../relay/client-input.ts';
import { SSE_HEADERS } from '../relay/relay-engine.ts';
import { encodeSseComment } from '../protocol/sse.ts';
import type { EndpointContext } from './endpoint-context.ts';

/**
 * The gateway's own confirmation of a call before it is forwarded (docs/configuration.md#confirmation),
 * in each client era; the decision that a call needs it is core's confirmationNeed.
 */

/** The arguments the client sent (what the user is asked about and a confirmation is bound to). */
function clientArguments(call: ClientCall): unknown {
  const params = call.message.params as Record<string, unknown> | undefined;
  return params?.['arguments'] ?? {};
}

const encoder = new TextEncoder();

/**
 * A legacy client's call that needs confirmation: answered as an SSE stream on which the
 * gateway sends `elicitation/create` (a gateway id; the answer may reach any replica and comes
 * over the bus), then, once accepted, `forward()`'s answer relayed on the same stream. Declined,
 * cancelled, unanswered within the timeout: a JSON-RPC error, nothing forwarded. A session that
 * did not declare `elicitation` is refused at once.
 */
export function confirmLegacyCall(
  ctx: EndpointContext,
  call: ClientCall,
  servedName: string,
  trail: AuditTrail,
  refuse: (error: GatewayError, outcome: ConfirmationOutcome) => Response,
  forward: () => Promise<Response>,
): Response {
  const session = call.session;
  const timeoutSeconds = ctx.confirmationTimeoutSeconds();
  if (session === undefined || !canElicitForm(session.claims.clientCapabilities)) {
    return refuse(confirmationRefusal(servedName, 'unavailable', timeoutSeconds), 'unavailable');
  }
  const abort = new AbortController();
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const emit = (message: Record<string, unknown>) => {
        if (!abort.signal.aborted)
          controller.enqueue(encoder.encode(`event: message\ndata: ${JSON.stringify(message)}\n\n`));
      };
      // Comments while the user thinks, so that no proxy takes the quiet stream for a dead one.
      const keepAlive = setInterval(() => {
        if (!abort.signal.aborted) controller.enqueue(encoder.encode(encodeSseComment('keep-alive')));
      }, ctx.keepAliveMs);
      try {
        const asked = await askClientInput(
          ctx,
          {
            jti: session.claims.jti,
            key: CONFIRM_INPUT_KEY,
            method: 'elicitation/create',
            params: confirmationRequest(servedName, clientArguments(call)),
            timeoutMs: timeoutSeconds * 1000,
            signal: abort.signal,
          },
          emit,
        );
        clearInterval(keepAlive);
        const outcome: ConfirmationOutcome =
          asked.kind === 'answer' ? outcomeOfAnswer(asked.message) : asked.kind === 'timeout' ? 'timeout' : 'cancelled';
        if (outcome !== 'accepted') {
          const error = confirmationRefusal(servedName, outcome, timeoutSeconds);
          call.logger.warn('call not confirmed', {
            server: call.plan.server.name,
            item: servedName,
            confirmation: outcome,
          });
          // The refusal's own record (audit, metrics) is made by `refuse`; its JSON body goes on the stream.
          const refused = refuse(error, outcome);
          emit(JSON.parse(await refused.text()) as Record<string, unknown>);
          return;
        }
        trail.confirmation('accepted');
        const answer = await forward();
        if ((answer.headers.get('content-type') ?? '').includes('text/event-stream') && answer.body !== null) {
          reader = answer.body.getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            if (!abort.signal.aborted) controller.enqueue(value);
          }
          return;
        }
        const text = await answer.text();
        try {
          emit(JSON.parse(text) as Record<string, unknown>);
        } catch {
          emit({
            jsonrpc: '2.0',
            id: call.message.id,
            error: { code: -32603, message: `upstream answered ${answer.status}` },
          });
        }
      } catch (error) {
        emit({ jsonrpc: '2.0', id: call.message.id, error: toJsonRpcError(error, call.logger) });
      } finally {
        clearInterval(keepAlive);
        try {
          controller.close();
        } catch {
          // Already closed by a cancel.
        }
      }
    },
    cancel() {
      abort.abort();
      void reader?.cancel();
    },
  });
  return new Response(stream, { status: 200, headers: SSE_HEADERS });
}

/** What a 2026-07-28 call needing confirmation comes to: ask, refuse, or forward (the gateway's input taken out). */
export type ModernConfirmation =
  | { readonly kind: 'ask'; readonly response: Response }
  | { readonly kind: 'refuse'; readonly error: GatewayError; readonly outcome: ConfirmationOutcome }
  | { readonly kind: 'forward'; readonly call: ClientCall };

/**
 * A 2026-07-28 call that needs confirmation. Without the gateway's `requestState`: an
 * `input_required` result asking `elicitation/create` under `inputResponses.confirm`, with a
 * sealed requestState binding the tool, the arguments' digest and the caller, valid for the
 * timeout (refused at once when the request declared no elicitation capability). A retry with
 * it: checked (forged, expired, other tool, arguments or caller: refused), then forwarded
 * without the gateway's inputResponses and requestState when accepted, and remembered for the
 * timeout (in the store) so that the upstream's own input_required rounds of the same call (same
 * tool, arguments and caller, answering the upstream's inputRequests) are not asked again. A retry resuming
 * a parked call was confirmed before it was forwarded the first time.
 */
export async function confirmModernCall(
  ctx: EndpointContext,
  call: ClientCall,
  servedName: string,
): Promise<ModernConfirmation> {
  const params = (call.message.params ?? {}) as Record<string, unknown>;
  const state = params['requestState'];
  if (typeof state === 'string' && state.startsWith(PARKED_STATE_PREFIX)) return { kind: 'forward', call };
  const timeoutSeconds = ctx.confirmationTimeoutSeconds();
  const refuse = (outcome: Exclude<ConfirmationOutcome, 'accepted'>): ModernConfirmation => ({
    kind: 'refuse',
    error: confirmationRefusal(servedName, outcome, timeoutSeconds),
    outcome,
  });
  const binding = await confirmationBinding(servedName, clientArguments(call), await ctx.callers.identify(call.auth));
  if (typeof state === 'string' && state.startsWith(CONFIRM_STATE_PREFIX)) {
    if (!(await isConfirmationFor(ctx.tokens, state, binding))) return refuse('invalid');
    const responses = params['inputResponses'];
    const answer =
      typeof responses === 'object' && responses !== null
        ? (responses as Record<string, unknown>)[CONFIRM_INPUT_KEY]
        : undefined;
    if (typeof answer !== 'object' || answer === null) return refuse('invalid');
    const outcome = outcomeOfAnswer(answer as Record<string, unknown>);
    if (outcome !== 'accepted') return refuse(outcome);
    await rememberConfirmed(ctx.store, binding, timeoutSeconds);
    return { kind: 'forward', call: withoutGatewayInput(call) };
  }
  // A retry answering the upstream's own input requests (its inputResponses, with or without its
  // requestState) continues a call the user confirmed.
  const continuing = state !== undefined || params['inputResponses'] !== undefined;
  if (continuing && (await wasConfirmed(ctx.store, binding, timeoutSeconds))) {
    return { kind: 'forward', call: { ...call } };
  }
  const meta = params['_meta'] as Record<string, unknown> | undefined;
  const capabilities = meta?.[META.clientCapabilities];
  if (!canElicitForm(capabilities)) return refuse('unavailable');
  const requestState = await sealConfirmation(ctx.tokens, binding, timeoutSeconds);
  const result = {
    resultType: 'input_required',
    inputRequests: {
      [CONFIRM_INPUT_KEY]: {
        method: 'elicitation/create',
        params: confirmationRequest(servedName, clientArguments(call)),
      },
    },
    requestState,
  };
  const body = JSON.stringify({ jsonrpc: '2.0', id: call.message.id, result });
  return {
    kind: 'ask',
    response: new Response(body, { status: 200, headers: { 'content-type': 'application/json' } }),
  };
}

/** The call with the gateway's own inputResponses and requestState taken out, in the message and the plan. */
function withoutGatewayInput(call: ClientCall): ClientCall {
  const strip = (params: Record<string, unknown>) => {
    const { inputResponses: _responses, requestState: _state, ...rest } = params;
    return rest;
  };
  const params = (call.message.params ?? {}) as Record<string, unknown>;
  return {
    ...call,
    message: { ...call.message, params: strip(params) },
    plan: { ...call.plan, params: strip(call.plan.params) },
  };
}
