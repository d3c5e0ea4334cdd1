import { GatewayError, isGatewayError } from '../errors.ts';

/** Which Redis-backed part failed, as it appears in error messages. */
export type RedisSubject = 'session store' | 'notification bus';

/**
 * Turns whatever a Redis call threw (connection refused, "Stream isn't writeable", command
 * timeout, a reply error) into the GatewayError callers map to HTTP 503 / a JSON-RPC error
 * naming the store. GatewayErrors pass through unchanged.
 */
export function toStoreUnavailable(subject: RedisSubject, cause: unknown): GatewayError {
  if (isGatewayError(cause)) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new GatewayError('STORE_UNAVAILABLE', `${subject} (Redis) unavailable: ${reason}`, { cause });
}

/** Awaits a Redis call, rejecting with `toStoreUnavailable` instead of the client's error. */
export async function orUnavailable<T>(subject: RedisSubject, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw toStoreUnavailable(subject, error);
  }
}
