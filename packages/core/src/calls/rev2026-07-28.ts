import { readTextWithin } from '../protocol/bytes.ts';
import { forwardedCallHeaders, routerHeaders } from '../backend/upstream-headers.ts';
import type { ServerConfig } from '../config/schema.ts';
import type { ResultRewrite } from '../decision/result-rewrite.ts';
import { GatewayError } from '../errors.ts';
import { rpcErrorResponse } from '../protocol/error-mapping.ts';
import type { Logger } from '../logger.ts';
import type { JsonRpcRequest } from '../protocol/json-rpc.ts';
import { MCP_PARAM_HEADER_PREFIX } from '../protocol/modern-request.ts';
import { createCallScope } from '../relay/call-scope.ts';
import { relayMessages, SSE_HEADERS } from '../relay/relay-engine.ts';
import { sseMessages } from '../relay/upstream-messages.ts';
import { modernRequestHeaders } from '../upstream/modern-envelope.ts';
import {
  authRefusal,
  endedEarly,
  errorMessage,
  jsonCallAnswer,
  JSON_HEADERS,
  logDrop,
  rewriteAnswer,
  staySilent,
} from './call-answer.ts';
import type { CallContext, ClientCall } from './call-context.ts';
import { callHeaders } from './call-context.ts';
import { postUpstream } from './upstream-post.ts';
import { wholeResponse } from '../protocol/when-sent.ts';

/**
 * A 2026-07-28 client's call to a 2026-07-28 upstream: stateless, the client's envelope passes
 * through, and closing the client's stream closes the upstream's, which is the cancellation.
 */
export function forwardRev20260728(ctx: CallContext, call: ClientCall): Promise<Response> {
  return callModernUpstream(ctx, {
    server: call.plan.server,
    message: { ...call.message, params: call.plan.params },
    clientHeaders: callHeaders(call),
    target: call.plan.target,
    rewriteResult: call.plan.rewriteResult,
    logger: call.logger,
    signal: call.request.signal,
    onOutcome: call.noteUpstream,
    onAnswer: call.noteAnswer,
  });
}

/** A stateless call to a 2026-07-28 upstream. */
export interface ModernUpstreamCall {
  readonly server: ServerConfig;
  /** The request as the upstream gets it (prefix removed, envelope in `_meta`). */
  readonly message: JsonRpcRequest;
  /** The client's request headers (identity, trace and Mcp-Param-* headers are forwarded). */
  readonly clientHeaders: Headers;
  readonly target?: { readonly kind: 'tool' | 'prompt' | 'resource'; readonly name: string } | undefined;
  readonly rewriteResult?: ResultRewrite | undefined;
  readonly logger: Logger;
  /** Aborts the upstream exchange (the client went away). */
  readonly signal?: AbortSignal | undefined;
  /** Headers to add (the Mcp-Param-* a legacy client cannot send). */
  readonly extraHeaders?: Readonly<Record<string, string>>;
  /** Told the upstream's HTTP status, or why none came (the audit and the log record it). */
  readonly onOutcome?: ((outcome: number | GatewayError) => void) | undefined;
  /** Told the call's answer when it comes. */
  readonly onAnswer?: ((answer: Readonly<Record<string, unknown>>) => void) | undefined;
}

/**
 * Sends one request to a 2026-07-28 upstream and relays its answer: JSON (as its bytes when it
 * needs no rewrite), SSE message by message, only what belongs to the call (see createCallScope).
 * An HTTP error carrying a JSON-RPC error keeps its status; silence past the call timeout is an
 * error answer.
 * @see MCP 2026-07-28 basic/transports
 */
export async function callModernUpstream(ctx: CallContext, call: ModernUpstreamCall): Promise<Response> {
  const { server, message, logger } = call;
  const headers: Record<string, string> = {
    ...forwardedCallHeaders(call.clientHeaders, routerHeaders(message.method, server.name, call.target), {
      backendSessionId: '',
    }),
    ...modernRequestHeaders(message.method, message.params),
    ...call.extraHeaders,
  };
  // A tool's x-mcp-header arguments travel as Mcp-Param-* headers too; the upstream checks them.
  call.clientHeaders.forEach((value, name) => {
    if (name.startsWith(MCP_PARAM_HEADER_PREFIX)) headers[name] = value;
  });
  const exchange = await postUpstream(ctx, server, {
    headers,
    message,
    span: ctx.span,
    target: call.target,
    signal: call.signal,
    onOutcome: call.onOutcome,
  });
  if (exchange instanceof GatewayError) return rpcErrorResponse(message.id, exchange, logger);
  const { response, abort } = exchange;
  const type = response.headers.get('content-type') ?? '';
  const refused = authRefusal(response);
  if (refused !== undefined) return refused;
  if (!response.ok) {
    const text = (await readTextWithin(response, 16_384).catch(() => '')) ?? '';
    if (type.includes('json') && /"error"/.test(text)) {
      // The upstream's own JSON-RPC error (an unknown tool, a bad argument): the client sees it as sent.
      return wholeResponse(text, { status: response.status, headers: JSON_HEADERS });
    }
    const detail = text.slice(0, 200);
    const error = new GatewayError(
      'UPSTREAM_UNAVAILABLE',
      `upstream ${server.name} answered HTTP ${response.status}${detail ? `: ${detail}` : ''}`,
    );
    return rpcErrorResponse(message.id, error, logger);
  }
  const scope = createCallScope({ requestId: message.id, params: message.params, onAnswer: call.onAnswer });
  if (!type.includes('text/event-stream') || response.body === null) {
    return jsonCallAnswer(response, scope, server, message.id, call.rewriteResult, logger);
  }
  const stream = relayMessages({
    upstream: sseMessages(response.body),
    silenceMs: ctx.callTimeoutMs,
    onMessage: (relayed) => {
      const verdict = scope.judge(relayed);
      if (verdict.kind === 'answer') {
        return { send: [rewriteAnswer(verdict.message, call.rewriteResult, logger)], next: 'end' };
      }
      if (verdict.kind === 'notification') return { send: [verdict.message], next: 'continue' };
      // 2026-07-28 upstreams ask for input with input_required results, never with requests on a stream.
      logDrop(logger, scope, server, verdict.kind === 'drop' ? verdict.reason : 'a request on a 2026-07-28 stream');
      return { send: [], next: 'continue' };
    },
    onUpstreamEnd: () => [errorMessage(message.id, endedEarly(server), logger)],
    onError: (error) => [errorMessage(message.id, error, logger)],
    onSilence: () => [errorMessage(message.id, staySilent(server, ctx.callTimeoutMs), logger)],
    onClientGone: () => abort.abort(),
  });
  return new Response(stream, { status: 200, headers: SSE_HEADERS });
}
