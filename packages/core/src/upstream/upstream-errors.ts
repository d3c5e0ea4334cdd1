import { GatewayError } from '../errors.ts';

/**
 * A JSON-RPC error object returned by an upstream. Not a GatewayError: it passes through to the
 * client untouched (code, message and data as the upstream sent them).
 * @see MCP 2025-11-25 basic §JSON-RPC error responses
 */
export class UpstreamRpcError extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = 'UpstreamRpcError';
    this.code = code;
    this.data = data;
  }
}

/**
 * The upstream answered HTTP 404 to a request carrying its `Mcp-Session-Id`: the session is
 * unknown or terminated and the caller must initialize a new one.
 * @see MCP 2025-11-25 basic/transports §Session Management (404 → re-initialize)
 */
export class UpstreamSessionExpiredError extends Error {
  readonly server: string;

  constructor(server: string) {
    super(`upstream ${server} no longer knows the session (HTTP 404); initialize a new one`);
    this.name = 'UpstreamSessionExpiredError';
    this.server = server;
  }
}

/** True when `value` is an UpstreamRpcError (also across bundle copies). */
export function isUpstreamRpcError(value: unknown): value is UpstreamRpcError {
  return value instanceof UpstreamRpcError || (value instanceof Error && value.name === 'UpstreamRpcError');
}

/** True when `value` is an UpstreamSessionExpiredError (also across bundle copies). */
export function isUpstreamSessionExpiredError(value: unknown): value is UpstreamSessionExpiredError {
  return (
    value instanceof UpstreamSessionExpiredError ||
    (value instanceof Error && value.name === 'UpstreamSessionExpiredError')
  );
}

/**
 * The innermost message of an error's `cause` chain: for a refused connection undici's
 * `TypeError('fetch failed')` yields "connect ECONNREFUSED 127.0.0.1:1234". Bounded to 8 links.
 */
export function rootCauseMessage(error: unknown): string {
  let current: unknown = error;
  let message = error instanceof Error ? error.message : String(error);
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    if (current.message !== '') message = current.message;
    current = current.cause;
  }
  if (current !== undefined && !(current instanceof Error) && typeof current === 'object' && current !== null) {
    const nested = (current as { message?: unknown }).message;
    if (typeof nested === 'string' && nested !== '') message = nested;
  }
  return message;
}

/** The HTTP status an upstream answered, when that is why `error` (an upstreamUnavailable) was thrown. */
export function upstreamStatusOf(error: unknown): number | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    const status = (current as { upstreamStatus?: unknown }).upstreamStatus;
    if (typeof status === 'number') return status;
    current = current.cause;
  }
  return undefined;
}

/** An UPSTREAM_UNAVAILABLE error for a network failure or an unexpected HTTP status. */
export function upstreamUnavailable(server: string, url: string, what: string, cause: unknown): GatewayError {
  return new GatewayError(
    'UPSTREAM_UNAVAILABLE',
    `upstream ${server} at ${url} failed ${what}: ${rootCauseMessage(cause)}`,
    {
      cause,
    },
  );
}

/** An UPSTREAM_PROTOCOL_ERROR for an answer that breaks the MCP transport or JSON-RPC rules. */
export function upstreamProtocolError(message: string, cause?: unknown): GatewayError {
  return new GatewayError('UPSTREAM_PROTOCOL_ERROR', message, cause === undefined ? {} : { cause });
}
