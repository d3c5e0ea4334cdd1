import type { CatalogKind } from '../../catalog/catalog.ts';
import type { RequestAccess } from '../../decision/access-control.ts';
import { decideRoute } from '../../decision/route.ts';
import { GatewayError } from '../../errors.ts';
import type { Authentication } from '../../identity/authentication.ts';
import { toErrorResponse, toJsonRpcError } from '../../protocol/error-mapping.ts';
import { toolErrorResult, type JsonRpcId, type JsonRpcMessage, type JsonRpcRequest } from '../../protocol/json-rpc.ts';
import {
  META,
  SUPPORTED_PROTOCOL_VERSIONS,
  checkEnvelope,
  checkModernHeaders,
  claimedVersion,
} from '../../protocol/modern-request.ts';
import { MODERN_PROTOCOL_VERSION } from '../../protocol/versions.ts';
import type { EndpointContext } from '../endpoint-context.ts';
import { forwardGuarded } from '../guarded-call.ts';
import { answerMetaToolCall, callerOwner, toolListWithDiscovery } from '../discovery-answers.ts';
import { isPersonalList, listBodyFor } from '../list-body.ts';
import { openListenStream } from './listen-stream.ts';
import { wholeResponse } from '../../protocol/when-sent.ts';
import { mcpProtocolAttributes } from '../../telemetry/mcp-spans.ts';

/** What the gateway offers a 2026-07-28 client: everything it aggregates, minus what that era removed. */
export const MODERN_CAPABILITIES = {
  tools: { listChanged: true },
  prompts: { listChanged: true },
  resources: { listChanged: true },
  completions: {},
} as const;

const LIST_KINDS: ReadonlyMap<string, CatalogKind> = new Map<string, CatalogKind>([
  ['tools/list', 'tools'],
  ['prompts/list', 'prompts'],
  ['resources/list', 'resources'],
  ['resources/templates/list', 'resourceTemplates'],
]);

/**
 * Serves one 2026-07-28 POST: sessionless, every request carrying its version and the
 * client's capabilities in `_meta`, checked against the standard headers. Lists and
 * server/discover are answered from the catalog; calls go to the owning upstream in that
 * upstream's era; subscriptions/listen streams list changes.
 * @see MCP 2026-07-28 basic/transports, basic/versioning, server/discover
 */
export async function handleModernPost(
  ctx: EndpointContext,
  request: Request,
  message: JsonRpcMessage,
  kind: 'request' | 'notification' | 'response',
  auth: Authentication,
): Promise<Response> {
  const { logger } = ctx;
  if (kind === 'response') {
    const error = new GatewayError(
      'INVALID_REQUEST',
      'Clients do not send responses in protocol 2026-07-28: answer input requests by retrying the call',
    );
    return toErrorResponse(error, null, logger);
  }
  const rpc = message as JsonRpcRequest;
  const id = kind === 'request' ? rpc.id : null;
  const version = request.headers.get('mcp-protocol-version') ?? claimedVersion(rpc);
  if (version !== MODERN_PROTOCOL_VERSION) {
    return unsupportedVersion(version ?? '', id, ctx);
  }
  const envelope = kind === 'request' ? checkEnvelope(rpc) : undefined;
  if (envelope !== undefined) return toErrorResponse(envelope, id, logger);
  const mismatch = checkModernHeaders((name) => request.headers.get(name), rpc);
  if (mismatch !== undefined) return toErrorResponse(mismatch, id, logger);
  // 2026-07-28 defines no client-to-server notifications over HTTP (cancelling is closing the stream).
  if (kind === 'notification') return wholeResponse(null, { status: 202 });

  if (ctx.span.recording) ctx.span.set(mcpProtocolAttributes(version));
  const refreshing = ctx.refreshIfStale();
  if (refreshing !== undefined) await refreshing;
  const route = decideRoute(rpc, 'modern', ctx.routeContext());
  if (route.kind === 'refuse') return toErrorResponse(route.error, rpc.id, logger);
  if (rpc.method === 'server/discover') return answerDiscover(ctx, rpc.id);
  if (rpc.method === 'subscriptions/listen') return openListenStream(ctx, rpc);
  const access = await ctx.access().requestAccess(request.headers, auth, rpc.method);
  if (!('auth' in access)) return modernResponse(rpc.id, undefined, access, ctx);
  if (route.kind === 'forward') {
    const call = { message: rpc, plan: route.plan, request, logger, auth };
    return forwardGuarded(ctx, call, 'modern', access, (error, asToolResult) =>
      asToolResult === true
        ? modernResponse(rpc.id, { ...toolErrorResult(error.message), _meta: resultMeta(ctx) }, undefined, ctx)
        : modernResponse(rpc.id, undefined, error, ctx),
    );
  }
  if (rpc.method === 'tools/call') {
    const owner = callerOwner(await ctx.callers.identify(auth));
    try {
      const result = await answerMetaToolCall(ctx, rpc, access, owner, logger);
      return modernResponse(rpc.id, { ...result, _meta: resultMeta(ctx) }, undefined, ctx);
    } catch (error) {
      return modernResponse(rpc.id, undefined, error, ctx);
    }
  }
  const listed = LIST_KINDS.get(rpc.method) as CatalogKind;
  if (listed === 'tools' && ctx.metaTools().length > 0) {
    const owner = callerOwner(await ctx.callers.identify(auth));
    return answerList(ctx, rpc, access, listed, await toolListWithDiscovery(ctx, access, owner));
  }
  return answerList(ctx, rpc, access, listed);
}

/** 400 with UnsupportedProtocolVersionError (-32022) and the versions the gateway serves. */
export function unsupportedVersion(requested: string, id: JsonRpcId | null, ctx: EndpointContext): Response {
  const error = new GatewayError('UNSUPPORTED_PROTOCOL_VERSION', `Unsupported protocol version: ${requested}`, {
    data: { supported: SUPPORTED_PROTOCOL_VERSIONS, requested },
  });
  return toErrorResponse(error, id, ctx.logger);
}

/** The `_meta` every gateway-made modern result carries. */
function resultMeta(ctx: EndpointContext): Record<string, unknown> {
  return { [META.serverInfo]: ctx.serverInfo };
}

/** A JSON answer: the result (with resultType) or a JSON-RPC error, HTTP 200. */
function modernResponse(
  id: JsonRpcId,
  result: Record<string, unknown> | undefined,
  error: unknown,
  ctx: EndpointContext,
): Response {
  const body =
    result === undefined
      ? { jsonrpc: '2.0', id, error: toJsonRpcError(error, ctx.logger) }
      : { jsonrpc: '2.0', id, result: { resultType: 'complete', ...result } };
  return wholeResponse(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
}

/**
 * server/discover: every version the gateway serves (modern first), its capabilities, and
 * how long the answer may be cached (the gateway's own answer changes only with its build).
 */
function answerDiscover(ctx: EndpointContext, id: JsonRpcId): Response {
  return modernResponse(
    id,
    {
      supportedVersions: SUPPORTED_PROTOCOL_VERSIONS,
      capabilities: MODERN_CAPABILITIES,
      ttlMs: 3_600_000,
      cacheScope: 'public',
      _meta: resultMeta(ctx),
    },
    undefined,
    ctx,
  );
}

/**
 * The four lists, from the catalog, with the cache hints 2026-07-28 requires: the smallest
 * non-zero ttlMs any contributing upstream gave, private when any contributor is private.
 */
function answerList(
  ctx: EndpointContext,
  message: JsonRpcRequest,
  access: RequestAccess,
  kind: CatalogKind,
  shaped?: { readonly body: string; readonly personal: boolean },
): Response {
  const params = (message.params ?? {}) as Record<string, unknown>;
  if (params['cursor'] !== undefined) {
    return modernResponse(message.id, undefined, new GatewayError('INVALID_PARAMS', 'Invalid cursor'), ctx);
  }
  const body = shaped?.body ?? listBodyFor(ctx, kind, access);
  const hints = ctx.upstreams.catalog().cacheHints(kind);
  const extra = JSON.stringify({
    resultType: 'complete',
    // A list shaped by a tool selection changes with select_tools: not to be cached.
    ttlMs: shaped?.personal === true ? 0 : hints.ttlMs,
    // A list filtered for this caller must not be shared from a cache with others.
    cacheScope: (shaped?.personal ?? isPersonalList(ctx, access)) ? 'private' : hints.cacheScope,
    _meta: resultMeta(ctx),
  });
  // The catalog's list body is pre-serialized: splice the modern fields in rather than re-encode it.
  const merged = `${extra.slice(0, -1)},${body.slice(1)}`;
  return wholeResponse(`{"jsonrpc":"2.0","id":${JSON.stringify(message.id)},"result":${merged}}`, {
    status: 200,
    headers: { 'content-type': 'application/json' },
  });
}
