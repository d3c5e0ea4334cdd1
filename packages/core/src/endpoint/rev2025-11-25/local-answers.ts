import type { CatalogKind } from '../../catalog/catalog.ts';
import { DISCOVERY_INSTRUCTIONS } from '../../discovery/meta-tools.ts';
import { VIRTUAL_SERVER_HEADER, type RequestAccess } from '../../decision/access-control.ts';
import { GatewayError } from '../../errors.ts';
import type { Authentication } from '../../identity/authentication.ts';
import type { Logger } from '../../logger.ts';
import { jsonResponse, rpcErrorResponse } from '../../protocol/error-mapping.ts';
import type { JsonRpcRequest } from '../../protocol/json-rpc.ts';
import { LATEST_LEGACY_PROTOCOL_VERSION, isLegacyProtocolVersion } from '../../protocol/versions.ts';
import type { EndpointContext } from '../endpoint-context.ts';
import { answerMetaToolCall, toolListWithDiscovery, type SelectionOwner } from '../discovery-answers.ts';
import { listBodyFor } from '../list-body.ts';
import { wholeResponse } from '../../protocol/when-sent.ts';

/** What the gateway itself offers at initialize: everything it aggregates. */
export const GATEWAY_CAPABILITIES = {
  tools: { listChanged: true },
  prompts: { listChanged: true },
  resources: { listChanged: true, subscribe: true },
  completions: {},
  logging: {},
} as const;

/** The catalog list each list method answers from. */
export const LIST_KINDS: ReadonlyMap<string, CatalogKind> = new Map<string, CatalogKind>([
  ['tools/list', 'tools'],
  ['prompts/list', 'prompts'],
  ['resources/list', 'resources'],
  ['resources/templates/list', 'resourceTemplates'],
]);

/**
 * Answers initialize: negotiates the version (the client's if the gateway serves it, else the
 * newest legacy one), and issues a signed session id carrying the client's capabilities, the
 * caller's identity hash (when the request has a credential) and the virtual server it chose
 * (`X-Mcp-Virtualserver`: for the session's life it sees and calls only that server's items).
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/lifecycle#initialization
 */
export async function answerInitialize(
  ctx: EndpointContext,
  request: Request,
  message: JsonRpcRequest,
  auth: Authentication,
): Promise<Response> {
  const vs = request.headers.get(VIRTUAL_SERVER_HEADER)?.trim() || undefined;
  if (vs !== undefined && ctx.access().virtualServer(vs) === undefined) {
    return rpcErrorResponse(
      message.id,
      new GatewayError('INVALID_PARAMS', `Unknown virtual server: ${vs}`),
      ctx.logger,
    );
  }
  const params = (message.params ?? {}) as Record<string, unknown>;
  const requested = typeof params['protocolVersion'] === 'string' ? params['protocolVersion'] : '';
  const protocolVersion = isLegacyProtocolVersion(requested) ? requested : LATEST_LEGACY_PROTOCOL_VERSION;
  const capabilities = params['capabilities'];
  const clientCapabilities =
    typeof capabilities === 'object' && capabilities !== null && JSON.stringify(capabilities).length <= 2048
      ? (capabilities as Record<string, unknown>)
      : {};
  const caller = await ctx.callers.identify(auth);
  const { token, claims } = await ctx.tokens.issue({
    protocolVersion,
    clientCapabilities,
    ...(caller === undefined ? {} : { caller }),
    ...(vs === undefined ? {} : { vs }),
  });
  ctx.logger.info('session started', { jti: claims.jti, protocolVersion });
  ctx.metrics.session('started', claims.jti);
  const result = {
    protocolVersion,
    capabilities: GATEWAY_CAPABILITIES,
    serverInfo: ctx.serverInfo,
    ...(ctx.metaTools().length > 0 && { instructions: DISCOVERY_INSTRUCTIONS }),
  };
  return jsonResponse({ jsonrpc: '2.0', id: message.id, result }, 200, { 'mcp-session-id': token });
}

/**
 * Answers ping, logging/setLevel, the four list methods from the current catalog, and calls of
 * the gateway's own meta-tools (discovery).
 */
export async function answerLocal(
  ctx: EndpointContext,
  message: JsonRpcRequest,
  access: RequestAccess,
  owner: SelectionOwner,
  logger: Logger,
): Promise<Response> {
  if (message.method === 'ping' || message.method === 'logging/setLevel') {
    return jsonResponse({ jsonrpc: '2.0', id: message.id, result: {} });
  }
  if (message.method === 'tools/call') {
    try {
      const result = await answerMetaToolCall(ctx, message, access, owner, logger);
      return jsonResponse({ jsonrpc: '2.0', id: message.id, result });
    } catch (error) {
      return rpcErrorResponse(message.id, error, logger);
    }
  }
  const kind = LIST_KINDS.get(message.method);
  if (kind === undefined) {
    return rpcErrorResponse(
      message.id,
      new GatewayError('METHOD_NOT_FOUND', `Method not found: ${message.method}`),
      logger,
    );
  }
  const params = (message.params ?? {}) as Record<string, unknown>;
  if (params['cursor'] !== undefined) {
    // The gateway lists everything in one page, so it never hands out a cursor.
    return rpcErrorResponse(message.id, new GatewayError('INVALID_PARAMS', 'Invalid cursor'), logger);
  }
  const body =
    kind === 'tools' && ctx.metaTools().length > 0
      ? (await toolListWithDiscovery(ctx, access, owner)).body
      : listBodyFor(ctx, kind, access);
  return wholeResponse(`{"jsonrpc":"2.0","id":${JSON.stringify(message.id)},"result":${body}}`, {
    status: 200,
    headers: { 'content-type': 'application/json' },
  });
}
