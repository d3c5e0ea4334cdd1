import { GatewayError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { toJsonRpcError } from '../protocol/error-mapping.ts';
import type { JsonRpcRequest } from '../protocol/json-rpc.ts';
import { paramHeaders } from '../protocol/modern-request.ts';
import { MAX_ANSWER_EVENT_BYTES } from '../protocol/sse.ts';
import { SSE_HEADERS } from '../relay/relay-engine.ts';
import { askClientInput } from '../relay/client-input.ts';
import { jsonMessages, sseMessages, type MessageSource, type RelayedMessage } from '../relay/upstream-messages.ts';
import type { SessionClaims } from '../session/session-token.ts';
import { withModernEnvelope } from '../upstream/modern-envelope.ts';
import { modernCallKey, type CallContext, type ClientCall, type LegacySession, callHeaders } from './call-context.ts';
import { readTextWithin } from '../protocol/bytes.ts';
import { callModernUpstream } from './rev2026-07-28.ts';
import { wholeResponse } from '../protocol/when-sent.ts';

/** Rounds of input requests one call may go through before the gateway gives up. */
const MAX_INPUT_ROUNDS = 8;
/** How long the gateway waits for the client to answer one round of input requests. */
const INPUT_WAIT_MS = 5 * 60_000;

/** The client capability each input request needs. */
const NEEDED_CAPABILITY: Readonly<Record<string, string>> = {
  'elicitation/create': 'elicitation',
  'sampling/createMessage': 'sampling',
  'roots/list': 'roots',
};

const encoder = new TextEncoder();

/**
 * A legacy client's call to a 2026-07-28 upstream (a named shim between the eras). Sent
 * statelessly with an envelope made from the gateway session (its declared capabilities, the
 * gateway as client). A plain answer is relayed as it came. A multi-round-trip answer
 * (`input_required`) is translated to the client's era: each input request goes to the client
 * as a server-to-client request on the call's SSE stream (with a gateway id; the client's answer
 * may reach any replica, which hands it over the bus), and once every answer is in, the gateway
 * retries the call with `inputResponses` and the upstream's `requestState`, relaying the final
 * result.
 */
export async function forwardRev20251125ToRev20260728(ctx: CallContext, call: ClientCall): Promise<Response> {
  const { message, plan } = call;
  const session = call.session as LegacySession;
  const { server } = plan;
  const base = withModernEnvelope(plan.params, {
    clientInfo: { name: 'mcp-gateway', version: '0.1.0' },
    clientCapabilities: session.claims.clientCapabilities,
  });
  // A legacy client knows nothing of Mcp-Param-* headers: the gateway derives them from the tool's schema.
  const servedName = (message.params as Record<string, unknown> | undefined)?.['name'];
  const tool =
    message.method === 'tools/call' && typeof servedName === 'string'
      ? ctx.upstreams.catalog().toolItem(servedName)
      : undefined;
  const extraHeaders = tool === undefined ? {} : paramHeaders(tool['inputSchema'], plan.params['arguments']);
  const send = (params: Record<string, unknown>, signal?: AbortSignal) =>
    callModernUpstream(ctx, {
      server,
      message: { ...message, params },
      clientHeaders: callHeaders(call),
      target: plan.target,
      rewriteResult: plan.rewriteResult,
      logger: call.logger,
      extraHeaders,
      onOutcome: call.noteUpstream,
      onAnswer: call.noteAnswer,
      ...(signal === undefined ? {} : { signal }),
    });
  // A legacy client cancels with notifications/cancelled (client-messages.ts aborts this).
  const abort = new AbortController();
  const key = modernCallKey(session.claims.jti, message.id);
  ctx.modernCalls.set(key, abort);
  const forget = () => {
    if (ctx.modernCalls.get(key) === abort) ctx.modernCalls.delete(key);
  };
  let first: Response;
  try {
    first = await send(base, abort.signal);
  } catch (error) {
    forget();
    throw error;
  }
  const rounds = { ctx, claims: session.claims, logger: call.logger, message, base, send, abort, forget };
  const type = first.headers.get('content-type') ?? '';
  if (!first.ok || type.includes('application/json')) {
    const text = (await readTextWithin(first, MAX_ANSWER_EVENT_BYTES)) ?? '';
    if (!first.ok || !text.includes('"input_required"')) {
      forget();
      return wholeResponse(text, { status: first.status, headers: first.headers });
    }
    return translateRounds(rounds, jsonMessages(text) ?? emptySource());
  }
  if (first.body === null) {
    forget();
    return first;
  }
  return translateRounds(rounds, sseMessages(first.body));
}

/** What the rounds of one translated call share. */
interface Rounds {
  readonly ctx: CallContext;
  readonly claims: SessionClaims;
  readonly logger: Logger;
  readonly message: JsonRpcRequest;
  readonly base: Record<string, unknown>;
  readonly send: (params: Record<string, unknown>, signal?: AbortSignal) => Promise<Response>;
  readonly abort: AbortController;
  readonly forget: () => void;
}

function translateRounds(rounds: Rounds, first: MessageSource): Response {
  const { ctx, message, base, send, abort, forget, logger } = rounds;
  abort.signal.addEventListener('abort', () => first.cancel(), { once: true });
  let current = first;
  const fail = (error: unknown): RelayedMessage => ({
    jsonrpc: '2.0',
    id: message.id,
    error: toJsonRpcError(error, logger),
  });
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const emit = (payload: RelayedMessage) => {
        if (!cancelled) controller.enqueue(encoder.encode(`event: message\ndata: ${JSON.stringify(payload)}\n\n`));
      };
      try {
        for (let round = 0; ; round++) {
          const answer = await relayUntilAnswer(current, message.id, emit);
          const result = answer?.['result'] as Record<string, unknown> | undefined;
          if (answer === undefined) {
            emit(fail(new GatewayError('UPSTREAM_UNAVAILABLE', 'upstream closed the stream without answering')));
            break;
          }
          if (result?.['resultType'] !== 'input_required') {
            emit(answer);
            break;
          }
          if (round >= MAX_INPUT_ROUNDS) {
            emit(
              fail(
                new GatewayError(
                  'UPSTREAM_PROTOCOL_ERROR',
                  `upstream asked for input more than ${MAX_INPUT_ROUNDS} times in one call`,
                ),
              ),
            );
            break;
          }
          const responses = await askClient(ctx, rounds.claims, result, emit, abort.signal);
          if (responses instanceof GatewayError) {
            emit(fail(responses));
            break;
          }
          const state = result['requestState'];
          const retry = {
            ...base,
            inputResponses: responses,
            ...(typeof state === 'string' ? { requestState: state } : {}),
          };
          const next = await send(retry, abort.signal);
          const type = next.headers.get('content-type') ?? '';
          current =
            type.includes('text/event-stream') && next.body !== null
              ? sseMessages(next.body)
              : (jsonMessages((await readTextWithin(next, MAX_ANSWER_EVENT_BYTES)) ?? '') ?? emptySource());
        }
      } catch (error) {
        emit(fail(abort.signal.aborted ? new GatewayError('UPSTREAM_UNAVAILABLE', 'the call was cancelled') : error));
      } finally {
        forget();
        current.cancel();
        try {
          controller.close();
        } catch {
          // Already closed by a cancel.
        }
      }
    },
    cancel() {
      cancelled = true;
      abort.abort();
      current.cancel();
    },
  });
  return new Response(stream, { status: 200, headers: SSE_HEADERS });
}

/** Relays notifications until the answer to `id` arrives; resolves with it (undefined when the stream ends). */
async function relayUntilAnswer(
  source: MessageSource,
  id: unknown,
  emit: (message: RelayedMessage) => void,
): Promise<RelayedMessage | undefined> {
  for (;;) {
    const next = await source.next();
    if (next === undefined) return undefined;
    if (next['id'] === id && !('method' in next)) return next;
    if (typeof next['method'] === 'string' && !('id' in next)) emit(next);
  }
}

/**
 * Sends each input request to the client as a server-to-client request and waits for all
 * answers (delivered by deliverClientResponse, on this or another replica, over the bus).
 */
async function askClient(
  ctx: CallContext,
  claims: SessionClaims,
  result: Record<string, unknown>,
  emit: (message: RelayedMessage) => void,
  signal: AbortSignal,
): Promise<Record<string, unknown> | GatewayError> {
  const requests = result['inputRequests'];
  const entries =
    typeof requests === 'object' && requests !== null ? Object.entries(requests as Record<string, unknown>) : [];
  const asked: { key: string; method: string; params: unknown }[] = [];
  for (const [key, raw] of entries) {
    const request = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const method = typeof request['method'] === 'string' ? request['method'] : '';
    const capability = Object.hasOwn(NEEDED_CAPABILITY, method) ? NEEDED_CAPABILITY[method] : undefined;
    if (capability === undefined) {
      return new GatewayError('UPSTREAM_PROTOCOL_ERROR', `upstream asked for input of unknown kind "${method}"`);
    }
    if (!Object.hasOwn(claims.clientCapabilities, capability)) {
      return new GatewayError(
        'MISSING_CLIENT_CAPABILITY',
        `the tool needs the client capability "${capability}" (for ${method}), which this session did not declare`,
        {
          data: { requiredCapabilities: { [capability]: {} } },
        },
      );
    }
    asked.push({ key, method, params: request['params'] });
  }
  const outcomes = await Promise.all(
    asked.map((request) =>
      askClientInput(ctx, { ...request, jti: claims.jti, timeoutMs: INPUT_WAIT_MS, signal }, emit).then(
        (outcome) => [request, outcome] as const,
      ),
    ),
  );
  const answers: Record<string, unknown> = {};
  for (const [request, outcome] of outcomes) {
    if (outcome.kind === 'timeout') {
      return new GatewayError(
        'UPSTREAM_TIMEOUT',
        `the client did not answer ${request.method} within ${INPUT_WAIT_MS / 1000} s`,
      );
    }
    if (outcome.kind === 'aborted') return new GatewayError('INTERNAL', 'the client went away');
    if (outcome.message['result'] !== undefined) answers[request.key] = outcome.message['result'];
  }
  return answers;
}

/** A source with nothing in it (an answer that was not JSON). */
function emptySource(): MessageSource {
  return { next: () => Promise.resolve(undefined), cancel: () => {} };
}
