import type { ServerConfig } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { rpcErrorResponse, toJsonRpcError } from '../protocol/error-mapping.ts';
import type { JsonRpcId } from '../protocol/json-rpc.ts';
import type { CallScope } from '../relay/call-scope.ts';
import { readTextWithin } from '../protocol/bytes.ts';
import { MAX_ANSWER_EVENT_BYTES } from '../protocol/sse.ts';
import { parseMessages, type RelayedMessage } from '../relay/upstream-messages.ts';
import { wholeResponse } from '../protocol/when-sent.ts';

/** The JSON response headers of an answer. */
export const JSON_HEADERS = { 'content-type': 'application/json' } as const;

/** A JSON-RPC error message for `id`. */
export function errorMessage(id: JsonRpcId, error: unknown, logger: Logger): RelayedMessage {
  return { jsonrpc: '2.0', id, error: toJsonRpcError(error, logger) };
}

/** One message as a JSON answer (HTTP 200). */
export function jsonAnswer(message: RelayedMessage): Response {
  return wholeResponse(JSON.stringify(message), { status: 200, headers: JSON_HEADERS });
}

/**
 * An upstream's 401 or 403, passed to the client with its body and `WWW-Authenticate`: the
 * caller's credentials were refused by the upstream's policy, and the client must see it.
 * Undefined for any other status.
 */
export function authRefusal(response: Response): Response | undefined {
  if (response.status !== 401 && response.status !== 403) return undefined;
  const headers = new Headers({ 'content-type': response.headers.get('content-type') ?? 'text/plain' });
  const challenge = response.headers.get('www-authenticate');
  if (challenge !== null) headers.set('www-authenticate', challenge);
  return new Response(response.body, { status: response.status, headers });
}

/** The error of an upstream that answered with an HTTP error status, quoting the start of its body. */
export async function httpFailure(server: ServerConfig, response: Response): Promise<GatewayError> {
  const detail = ((await readTextWithin(response, 16_384).catch(() => '')) ?? '').slice(0, 200);
  return new GatewayError(
    'UPSTREAM_UNAVAILABLE',
    `upstream ${server.name} answered HTTP ${response.status}${detail ? `: ${detail}` : ''}`,
  );
}

/** The error of an upstream stream that ended before the call's answer. */
export function endedEarly(server: ServerConfig): GatewayError {
  return new GatewayError('UPSTREAM_UNAVAILABLE', `upstream ${server.name} closed the stream without answering`);
}

/** The error of an upstream that sent nothing for the call timeout. */
export function staySilent(server: ServerConfig, timeoutMs: number): GatewayError {
  return new GatewayError(
    'UPSTREAM_TIMEOUT',
    `upstream ${server.name} sent nothing for ${timeoutMs} ms; call abandoned`,
  );
}

/** The error of an upstream whose JSON answer is larger than the gateway reads (MAX_ANSWER_EVENT_BYTES). */
export function tooLarge(server: ServerConfig): GatewayError {
  return new GatewayError(
    'UPSTREAM_PROTOCOL_ERROR',
    `upstream ${server.name} answered with a body larger than ${MAX_ANSWER_EVENT_BYTES} bytes`,
  );
}

/** The error of an upstream whose answer holds no response to the call. */
export function noAnswer(serverName: string): GatewayError {
  return new GatewayError(
    'UPSTREAM_PROTOCOL_ERROR',
    `upstream ${serverName} answered without a response to the call (messages that do not belong to it are dropped)`,
  );
}

/** Logs a message dropped from a call's stream (the first few per call at warn), never its content. */
export function logDrop(logger: Logger, scope: CallScope, server: ServerConfig, reason: string): void {
  const fields = { server: server.name, reason };
  if (scope.countDrop()) logger.warn('dropped an upstream message that does not belong to the call', fields);
  else logger.debug('dropped an upstream message that does not belong to the call', fields);
}

/**
 * The answer to the call in an upstream's JSON body (one message, or a batch): the response
 * carrying the forwarded id. Everything else in it is dropped and logged. A GatewayError when
 * the body is not JSON or holds no such response.
 */
export function pickJsonAnswer(
  text: string,
  scope: CallScope,
  server: ServerConfig,
  logger: Logger,
): RelayedMessage | GatewayError {
  const messages = parseMessages(text);
  if (messages === undefined) {
    return new GatewayError('UPSTREAM_PROTOCOL_ERROR', `upstream ${server.name} answered with invalid JSON`);
  }
  let answer: RelayedMessage | undefined;
  for (const message of messages) {
    const verdict = scope.judge(message);
    if (verdict.kind === 'answer' && answer === undefined) answer = verdict.message;
    else
      logDrop(logger, scope, server, verdict.kind === 'drop' ? verdict.reason : `a ${verdict.kind} in a JSON answer`);
  }
  return answer ?? noAnswer(server.name);
}

/**
 * The client's answer to a call whose upstream answered with JSON: only the response carrying
 * the forwarded id (see pickJsonAnswer), its bytes as they came when it is the whole body and
 * needs no rewrite; an error answer (HTTP 200) when there is none, or the body is larger than
 * MAX_ANSWER_EVENT_BYTES (the same bound as one SSE event of an answer).
 */
export async function jsonCallAnswer(
  response: Response,
  scope: CallScope,
  server: ServerConfig,
  requestId: JsonRpcId,
  rewrite: ((result: Record<string, unknown>) => Record<string, unknown>) | undefined,
  logger: Logger,
): Promise<Response> {
  const text = await readTextWithin(response, MAX_ANSWER_EVENT_BYTES);
  if (text === undefined) return rpcErrorResponse(requestId, tooLarge(server), logger);
  const answer = pickJsonAnswer(text, scope, server, logger);
  if (answer instanceof GatewayError) return rpcErrorResponse(requestId, answer, logger);
  const rewritten = rewriteAnswer(answer, rewrite, logger);
  // One message that is the answer and that the rewrite left alone: its bytes go through as they came.
  if (rewritten === answer && text.trimStart().startsWith('{')) {
    return wholeResponse(text, { status: 200, headers: JSON_HEADERS });
  }
  return jsonAnswer(rewritten);
}

/** Applies a result rewrite to an answer message; a rewrite that refuses becomes the call's error. */
export function rewriteAnswer(
  message: RelayedMessage,
  rewrite: ((result: Record<string, unknown>) => Record<string, unknown>) | undefined,
  logger: Logger,
): RelayedMessage {
  const result = message['result'];
  if (rewrite === undefined || typeof result !== 'object' || result === null || Array.isArray(result)) return message;
  try {
    const rewritten = rewrite(result as Record<string, unknown>);
    return rewritten === result ? message : { ...message, result: rewritten };
  } catch (error) {
    return { jsonrpc: '2.0', id: message['id'], error: toJsonRpcError(error, logger) };
  }
}
