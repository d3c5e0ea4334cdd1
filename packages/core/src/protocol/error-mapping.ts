import { isGatewayError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { JsonRpcId } from './json-rpc.ts';
import { wholeResponse } from './when-sent.ts';

/** A JSON-RPC error object as sent to clients. */
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/**
 * The one place that turns any error into a JSON-RPC error object. Exposable GatewayErrors keep
 * their message; anything else becomes "Internal error" with a reference id, details in the log.
 */
export function toJsonRpcError(error: unknown, logger: Logger): JsonRpcErrorObject {
  if (isGatewayError(error) && error.expose) {
    return error.data === undefined
      ? { code: error.rpcCode, message: error.message }
      : { code: error.rpcCode, message: error.message, data: error.data };
  }
  const reference = crypto.randomUUID();
  logger.error('unexpected error', { reference, error: describe(error) });
  return { code: -32603, message: `Internal error (reference ${reference})` };
}

/**
 * The one place that turns an error into an HTTP response: the error's status with a JSON-RPC
 * error body (clients of Streamable HTTP parse JSON-RPC even on 4xx).
 */
export function toErrorResponse(error: unknown, id: JsonRpcId | null, logger: Logger, headers?: HeadersInit): Response {
  const status = isGatewayError(error) && error.expose ? error.status : 500;
  const body = { jsonrpc: '2.0', id, error: toJsonRpcError(error, logger) };
  const response = wholeResponse(JSON.stringify(body), headers === undefined ? { status } : { status, headers });
  response.headers.set('content-type', 'application/json');
  return response;
}

/** A JSON-RPC error response (HTTP 200) for a request that failed at the JSON-RPC level. */
export function rpcErrorResponse(id: JsonRpcId | null, error: unknown, logger: Logger): Response {
  return jsonResponse({ jsonrpc: '2.0', id, error: toJsonRpcError(error, logger) });
}

/** A JSON response with the given status (default 200). */
export function jsonResponse(body: unknown, status = 200, headers?: Record<string, string>): Response {
  return wholeResponse(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** A short, log-safe description of an unknown error. */
export function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.name}: ${error.message}${cause}`;
  }
  return String(error);
}
