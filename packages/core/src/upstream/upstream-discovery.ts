import type { Logger } from '../logger.ts';
import { META } from '../protocol/modern-request.ts';
import { MODERN_PROTOCOL_VERSION } from '../protocol/versions.ts';
import type { ServerConfig } from '../config/schema.ts';
import { discoverVersions, modernRequestHeaders, withModernEnvelope } from './modern-envelope.ts';
import type { UpstreamCallOptions, UpstreamSession } from './types.ts';
import { isJsonObject, readRpcResult, type ExchangeContext, type RpcId } from './upstream-exchange.ts';
import type { UpstreamHttp } from './upstream-http.ts';

/** What discovery needs of the upstream's client. */
export interface DiscoveryDeps {
  readonly http: UpstreamHttp;
  readonly server: ServerConfig;
  readonly clientInfo: { readonly name: string; readonly version: string };
  readonly logger: Logger;
  issueId(): RpcId;
}

/**
 * Asks server/discover and resolves the sessionless 2026-07-28 session of an upstream that lists
 * that revision; undefined for any other answer. Any HTTP error status or JSON-RPC error means
 * "not a modern server" (legacy servers answer 400/404/405 to a request without a session);
 * network failures and timeouts reject, since they say nothing about the era.
 * @see MCP 2026-07-28 server/discover
 */
export async function discoverModern(
  deps: DiscoveryDeps,
  call: UpstreamCallOptions,
): Promise<UpstreamSession | undefined> {
  const { http, server, clientInfo, logger } = deps;
  const session = { protocolVersion: MODERN_PROTOCOL_VERSION };
  const id = deps.issueId();
  const params = withModernEnvelope(undefined, { clientInfo });
  const body = { jsonrpc: '2.0', id, method: 'server/discover', params };
  const headers = { ...modernRequestHeaders('server/discover', params), ...call.headers };
  const result = await http.deadline('server/discover', call.signal, async (signal) => {
    const response = await http.send({ method: 'POST', session, body, headers, signal, what: 'server/discover' });
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      return undefined;
    }
    const context: ExchangeContext = {
      server: server.name,
      method: 'server/discover',
      signal,
      onServerRequest: async () => {},
      resume: () => Promise.reject(new Error('no resumption for server/discover')),
    };
    try {
      return await readRpcResult(response, id, context);
    } catch (error) {
      if (signal.aborted) throw error;
      return undefined;
    }
  });
  const versions = result === undefined ? undefined : discoverVersions(result);
  if (result === undefined || versions === undefined || !versions.includes(MODERN_PROTOCOL_VERSION)) return undefined;
  const meta = isJsonObject(result['_meta']) ? result['_meta'] : {};
  const serverInfo = meta[META.serverInfo];
  const { capabilities, instructions } = result;
  logger.debug('upstream speaks the modern protocol', { versions: versions.join(',') });
  return {
    protocolVersion: MODERN_PROTOCOL_VERSION,
    supportedVersions: versions,
    capabilities: isJsonObject(capabilities) ? capabilities : {},
    ...(isJsonObject(serverInfo) ? { serverInfo } : {}),
    ...(typeof instructions === 'string' ? { instructions } : {}),
  };
}
