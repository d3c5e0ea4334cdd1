import { MODERN_PROTOCOL_VERSION } from '../protocol/versions.ts';
import { isGatewayError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { JsonObject, ListCacheHint } from './types.ts';
import type { UpstreamClient } from './upstream-client.ts';
import type { UpstreamSession } from './types.ts';
import { isUpstreamRpcError, isUpstreamSessionExpiredError, rootCauseMessage } from './upstream-errors.ts';
import type { UpstreamListKind } from './upstream-list.ts';

/** JSON-RPC "Method not found". */
const METHOD_NOT_FOUND = -32601;

/**
 * Pings the upstream. Any JSON-RPC answer, even an error (a server without `ping`), proves it
 * alive; transport failures and timeouts reject.
 * @see MCP 2025-11-25 basic/utilities/ping
 */
export async function pingUpstream(
  client: UpstreamClient,
  session: UpstreamSession,
  signal: AbortSignal,
): Promise<void> {
  try {
    // 2026-07-28 removed ping; server/discover is the cheap request every modern server answers.
    const method = session.protocolVersion === MODERN_PROTOCOL_VERSION ? 'server/discover' : 'ping';
    await client.request(session, method, undefined, { signal });
  } catch (error) {
    if (!isUpstreamRpcError(error)) throw error;
  }
}

/**
 * Lists one kind; an upstream answering -32601 (it offers no such list despite, or without,
 * declaring the capability) contributes an empty list instead of failing the server.
 */
export async function listKind(
  client: UpstreamClient,
  session: UpstreamSession,
  kind: UpstreamListKind,
  signal: AbortSignal,
  logger: Logger,
  onCacheHint?: (hint: ListCacheHint) => void,
): Promise<JsonObject[]> {
  try {
    return await client.listAll(session, kind, { signal, ...(onCacheHint === undefined ? {} : { onCacheHint }) });
  } catch (error) {
    if (!isUpstreamRpcError(error) || error.code !== METHOD_NOT_FOUND) throw error;
    logger.debug('upstream does not implement this list', { kind });
    return [];
  }
}

/**
 * The snapshot message of a failed check, e.g. "upstream unreachable: connect ECONNREFUSED
 * 127.0.0.1:1234". Carries no credentials: client errors name only the server, path and cause.
 */
export function describeFailure(error: unknown): string {
  if (isGatewayError(error)) {
    if (error.code === 'UPSTREAM_UNAVAILABLE') return `upstream unreachable: ${rootCauseMessage(error)}`;
    return error.message;
  }
  if (isUpstreamRpcError(error)) return `upstream answered with error ${error.code}: ${error.message}`;
  if (isUpstreamSessionExpiredError(error)) return error.message;
  return `unexpected failure: ${error instanceof Error ? error.message : String(error)}`;
}
