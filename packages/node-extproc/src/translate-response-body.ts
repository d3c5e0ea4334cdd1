import { NOOP_LOGGER, type Logger } from '@mcp-gateway/core';
import {
  createCallScope,
  noAnswer,
  rewriteAnswer,
  toJsonRpcError,
  type CallScope,
  type CallVerdict,
} from '@mcp-gateway/core/router';
import { setHeader, type HttpBody, type ProcessingResponse } from './ext-proc-messages.ts';
import {
  createJsonBodyRewriter,
  createSseBodyRewriter,
  type BodyEndings,
  type BodyMessage,
  type BodyRewriter,
  type MessageRewrite,
} from './rewrite-response-body.ts';
import type { ResponseBodyKind, UpstreamRoute } from './upstream-route.ts';

/** Injected effects of the response-body phase. */
export interface ResponseBodyDeps {
  /**
   * Gives a server-to-client request (elicitation/create, sampling/createMessage, roots/list,
   * ping) a gateway id remembered in the session store with the upstream's own id, and returns
   * the message as the client must see it (the broker's rememberServerRequest).
   */
  relayServerRequest(route: UpstreamRoute, message: BodyMessage): Promise<BodyMessage>;
  readonly logger?: Logger;
}

/** Answers the response-body messages of one routed call (after a mode override). */
export interface ResponseBodyTranslator {
  translate(body: HttpBody): Promise<ProcessingResponse>;
}

/**
 * The response-body phase of a routed call (STREAMED): the broker's relay rules applied to the
 * bytes Envoy streams through. Only what belongs to the call reaches the client (core's call
 * scope: the answer to the forwarded id, with its result rewritten into the gateway's namespace;
 * progress with the call's token; log messages); server-to-client requests get gateway ids;
 * everything else is dropped and logged. An SSE answer is rewritten event by event as it comes;
 * a JSON answer as a whole at its end. A body that ends without the call's answer ends with a
 * JSON-RPC error for the call, as the broker answers.
 * @see https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/http/ext_proc/v3/processing_mode.proto
 */
export function createResponseBodyTranslator(
  route: UpstreamRoute,
  kind: ResponseBodyKind,
  deps: ResponseBodyDeps,
  onAnswer?: (answer: Readonly<Record<string, unknown>>) => void,
): ResponseBodyTranslator {
  const logger = deps.logger ?? NOOP_LOGGER;
  const scope = createCallScope({ requestId: route.requestId, params: route.params, onAnswer });
  let answered = false;
  const rewrite: MessageRewrite = async (messages) => {
    const out: BodyMessage[] = [];
    let changed = false;
    for (const message of messages) {
      // The call is answered: nothing more of this exchange reaches the client (the broker ends its stream there).
      if (answered) {
        changed = true;
        continue;
      }
      const verdict = scope.judge(message);
      const sent = await sendable(verdict, route, scope, deps, logger);
      if (verdict.kind === 'answer') answered = true;
      if (sent !== message) changed = true;
      if (sent !== undefined) out.push(sent);
    }
    return changed ? out : undefined;
  };
  const endings: BodyEndings = {
    tooLarge: () => errorText(kind, route, 'answered with a message too large to check'),
    atEnd: () => (answered ? '' : errorText(kind, route, undefined)),
  };
  const rewriter: BodyRewriter =
    kind === 'sse' ? createSseBodyRewriter(rewrite, endings) : createJsonBodyRewriter(rewrite, endings);
  // A body that goes on as it came needs no body_mutation: Envoy keeps the bytes it has.
  if (kind === 'json-buffered') {
    return {
      async translate(body) {
        // BUFFERED: the one message holds the whole body, whatever its end_of_stream says.
        const chunk = body.body ?? new Uint8Array();
        const out = await rewriter.push(chunk, true);
        const set_headers = [setHeader('content-length', String(out.byteLength))];
        const mutation = out === chunk ? {} : { body_mutation: { body: out } };
        return { response_body: { response: { header_mutation: { set_headers }, ...mutation } } };
      },
    };
  }
  return {
    async translate(body) {
      const chunk = body.body ?? new Uint8Array();
      const out = await rewriter.push(chunk, body.end_of_stream === true);
      return { response_body: out === chunk ? {} : { response: { body_mutation: { body: out } } } };
    },
  };
}

/** The message the client gets for one verdict; undefined when it must not reach the client. */
async function sendable(
  verdict: CallVerdict,
  route: UpstreamRoute,
  scope: CallScope,
  deps: ResponseBodyDeps,
  logger: Logger,
): Promise<BodyMessage | undefined> {
  switch (verdict.kind) {
    case 'answer':
      // The very same message when the rewrite changes nothing, so its bytes go through as they came.
      return rewriteAnswer(verdict.message, route.rewriteResult, logger);
    case 'notification':
      return verdict.message;
    case 'server-request': {
      // A 2026-07-28 call has no session to answer on: its upstream asks with input_required instead.
      if (route.jti === '') return drop(scope, route, logger, 'a request on a 2026-07-28 stream');
      const mapped = await deps.relayServerRequest(route, verdict.message);
      scope.noteServerRequest(verdict.message, mapped['id'] as string);
      return mapped;
    }
    default:
      return drop(scope, route, logger, verdict.reason);
  }
}

function drop(scope: CallScope, route: UpstreamRoute, logger: Logger, reason: string): undefined {
  const fields = { server: route.server, reason, ...(route.jti === '' ? {} : { jti: route.jti }) };
  if (scope.countDrop()) logger.warn('dropped an upstream message that does not belong to the call', fields);
  else logger.debug('dropped an upstream message that does not belong to the call', fields);
  return undefined;
}

/** The JSON-RPC error for the call, as an SSE event or a JSON body. */
function errorText(kind: ResponseBodyKind, route: UpstreamRoute, problem: string | undefined): string {
  const error = noAnswer(route.server);
  const message = problem === undefined ? error.message : `upstream ${route.server} ${problem}`;
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: route.requestId,
    error: { ...toJsonRpcError(error, NOOP_LOGGER), message },
  });
  return kind === 'sse' ? `event: message\ndata: ${body}\n\n` : body;
}
