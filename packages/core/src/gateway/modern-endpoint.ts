import type { CatalogKind } from '../catalog/catalog.ts';
import { GatewayError } from '../errors.ts';
import type { JsonRpcId, JsonRpcMessage, JsonRpcRequest } from '../protocol/json-rpc.ts';
import {
  META,
  SUPPORTED_PROTOCOL_VERSIONS,
  checkEnvelope,
  checkModernHeaders,
  claimedVersion,
} from '../protocol/modern-request.ts';
import { MODERN_PROTOCOL_VERSION } from '../protocol/versions.ts';
import { BROADCAST_TOPIC } from '../store/notification-bus.ts';
import type { McpEndpointOptions } from './endpoint-context.ts';
import { toErrorResponse, toJsonRpcError } from './error-mapping.ts';
import { DEFAULT_SERVER_INFO } from './local-methods.ts';
import { SSE_HEADERS } from './message-relay.ts';
import { forwardModernCall } from './modern-forward.ts';
import type { ParkedCalls } from './parked-calls.ts';
import { planCall } from './route-call.ts';

/** What the gateway offers a 2026-07-28 client: everything it aggregates, minus what that era removed. */
export const MODERN_CAPABILITIES = {
  tools: { listChanged: true },
  prompts: { listChanged: true },
  resources: { listChanged: true },
  completions: {},
} as const;

const LIST_METHODS: Readonly<Record<string, CatalogKind>> = {
  'tools/list': 'tools',
  'prompts/list': 'prompts',
  'resources/list': 'resources',
  'resources/templates/list': 'resourceTemplates',
};

/** Calls the gateway forwards for modern clients (resources/subscribe is gone: subscriptions/listen). */
const MODERN_FORWARDED = new Set(['tools/call', 'prompts/get', 'resources/read', 'completion/complete']);

/** The notification types a subscriptions/listen filter may ask for, by list_changed method. */
const LIST_CHANGED_FILTERS: Readonly<Record<string, string>> = {
  'notifications/tools/list_changed': 'toolsListChanged',
  'notifications/prompts/list_changed': 'promptsListChanged',
  'notifications/resources/list_changed': 'resourcesListChanged',
};

/** What the modern dispatcher needs beyond the endpoint's options. */
export interface ModernContext {
  readonly options: McpEndpointOptions;
  /** The caller's identity hash from an Authorization value (cached). */
  identify(authorization: string | null): Promise<string | undefined>;
  readonly parked: ParkedCalls;
}

/**
 * Serves one 2026-07-28 POST: sessionless, every request carrying its version and the
 * client's capabilities in `_meta`, checked against the standard headers. Lists and
 * server/discover are answered from the catalog; calls go to the owning upstream in that
 * upstream's era; subscriptions/listen streams list changes.
 * @see MCP 2026-07-28 basic/transports, basic/versioning, server/discover
 */
export async function handleModernPost(
  context: ModernContext,
  request: Request,
  message: JsonRpcMessage,
  kind: 'request' | 'notification' | 'response',
): Promise<Response> {
  const { options } = context;
  const { logger } = options;
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
    return unsupportedVersion(version ?? '', id, options);
  }
  const envelope = kind === 'request' ? checkEnvelope(rpc) : undefined;
  if (envelope !== undefined) return toErrorResponse(envelope, id, logger);
  const mismatch = checkModernHeaders((name) => request.headers.get(name), rpc);
  if (mismatch !== undefined) return toErrorResponse(mismatch, id, logger);
  // 2026-07-28 defines no client-to-server notifications over HTTP (cancelling is closing the stream).
  if (kind === 'notification') return new Response(null, { status: 202 });

  const refreshing = options.pool.refreshIfStale();
  if (refreshing !== undefined) await refreshing;
  const { method } = rpc;
  if (method === 'server/discover') return answerDiscover(options, rpc.id);
  const list = LIST_METHODS[method];
  if (list !== undefined) return answerList(options, request, rpc, list);
  if (method === 'subscriptions/listen') return openListenStream(options, rpc);
  if (MODERN_FORWARDED.has(method)) {
    const plan = planCall(rpc, options.pool.catalog(), options.pool.server);
    if (plan instanceof GatewayError) return modernResponse(rpc.id, undefined, plan, options);
    return forwardModernCall(context, request, rpc, plan);
  }
  return toErrorResponse(new GatewayError('MODERN_METHOD_NOT_FOUND', `Method not found: ${method}`), rpc.id, logger);
}

/** 400 with UnsupportedProtocolVersionError (-32022) and the versions the gateway serves. */
export function unsupportedVersion(requested: string, id: JsonRpcId | null, options: McpEndpointOptions): Response {
  const error = new GatewayError('UNSUPPORTED_PROTOCOL_VERSION', `Unsupported protocol version: ${requested}`, {
    data: { supported: SUPPORTED_PROTOCOL_VERSIONS, requested },
  });
  return toErrorResponse(error, id, options.logger);
}

/** The `_meta` every gateway-made modern result carries. */
function resultMeta(options: McpEndpointOptions): Record<string, unknown> {
  return { [META.serverInfo]: options.serverInfo ?? DEFAULT_SERVER_INFO };
}

/** A JSON answer: the result (with resultType) or a JSON-RPC error, HTTP 200. */
function modernResponse(
  id: JsonRpcId,
  result: Record<string, unknown> | undefined,
  error: unknown,
  options: McpEndpointOptions,
): Response {
  const body =
    result === undefined
      ? { jsonrpc: '2.0', id, error: toJsonRpcError(error, options.logger) }
      : { jsonrpc: '2.0', id, result: { resultType: 'complete', ...result } };
  return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
}

/**
 * server/discover: every version the gateway serves (modern first), its capabilities, and
 * how long the answer may be cached (the gateway's own answer changes only with its build).
 */
function answerDiscover(options: McpEndpointOptions, id: JsonRpcId): Response {
  return modernResponse(
    id,
    {
      supportedVersions: SUPPORTED_PROTOCOL_VERSIONS,
      capabilities: MODERN_CAPABILITIES,
      ttlMs: 3_600_000,
      cacheScope: 'public',
      _meta: resultMeta(options),
    },
    undefined,
    options,
  );
}

/**
 * The four lists, from the catalog, with the cache hints 2026-07-28 requires: the smallest
 * non-zero ttlMs any contributing upstream gave, private when any contributor is private.
 */
function answerList(
  options: McpEndpointOptions,
  request: Request,
  message: JsonRpcRequest,
  kind: CatalogKind,
): Response {
  const params = (message.params ?? {}) as Record<string, unknown>;
  if (params['cursor'] !== undefined) {
    return modernResponse(message.id, undefined, new GatewayError('INVALID_PARAMS', 'Invalid cursor'), options);
  }
  const catalog = options.pool.catalog();
  const virtualServer = request.headers.get('x-mcp-virtualserver') ?? undefined;
  const body = catalog.listResultJson(kind, virtualServer);
  if (body === undefined) {
    const error = new GatewayError('INVALID_PARAMS', `Unknown virtual server: ${virtualServer ?? ''}`);
    return modernResponse(message.id, undefined, error, options);
  }
  const hints = catalog.cacheHints(kind);
  const extra = JSON.stringify({
    resultType: 'complete',
    ttlMs: hints.ttlMs,
    cacheScope: hints.cacheScope,
    _meta: resultMeta(options),
  });
  // The catalog's list body is pre-serialized: splice the modern fields in rather than re-encode it.
  const merged = `${extra.slice(0, -1)},${body.slice(1)}`;
  return new Response(`{"jsonrpc":"2.0","id":${JSON.stringify(message.id)},"result":${merged}}`, {
    status: 200,
    headers: { 'content-type': 'application/json' },
  });
}

/** Interval of keep-alive comments on listen streams. */
const LISTEN_KEEPALIVE_MS = 15_000;

/**
 * subscriptions/listen: acknowledges the notification types the gateway honours (list
 * changes; per-resource subscriptions are not relayed, and the acknowledgement says so by
 * leaving them out), then streams each list_changed tagged with the subscription id until the
 * client closes the stream.
 * @see MCP 2026-07-28 basic/utilities/subscriptions (SEP-2567)
 */
function openListenStream(options: McpEndpointOptions, message: JsonRpcRequest): Response {
  const params = (message.params ?? {}) as Record<string, unknown>;
  const asked = params['notifications'];
  if (typeof asked !== 'object' || asked === null || Array.isArray(asked)) {
    const error = new GatewayError(
      'INVALID_PARAMS',
      'subscriptions/listen needs params.notifications (a filter object)',
    );
    return modernResponse(message.id, undefined, error, options);
  }
  const filter = asked as Record<string, unknown>;
  const honoured: Record<string, boolean> = {};
  for (const key of Object.values(LIST_CHANGED_FILTERS)) if (filter[key] === true) honoured[key] = true;
  const subscriptionMeta = { [META.subscriptionId]: message.id };
  const encoder = new TextEncoder();
  const frame = (payload: unknown) => encoder.encode(`event: message\ndata: ${JSON.stringify(payload)}\n\n`);
  let stop: (() => void) | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(
        frame({
          jsonrpc: '2.0',
          method: 'notifications/subscriptions/acknowledged',
          params: { notifications: honoured, _meta: subscriptionMeta },
        }),
      );
      const unsubscribe = options.bus.subscribe(BROADCAST_TOPIC, (busMessage) => {
        const method = busMessage['method'];
        const key = typeof method === 'string' ? LIST_CHANGED_FILTERS[method] : undefined;
        if (key === undefined || honoured[key] !== true) return;
        try {
          controller.enqueue(frame({ jsonrpc: '2.0', method, params: { _meta: subscriptionMeta } }));
        } catch {
          stop?.();
        }
      });
      const keepAlive = setInterval(() => {
        try {
          controller.enqueue(encoder.encode(': keep-alive\n\n'));
        } catch {
          stop?.();
        }
      }, options.keepAliveMs ?? LISTEN_KEEPALIVE_MS);
      stop = () => {
        unsubscribe();
        clearInterval(keepAlive);
      };
    },
    cancel() {
      stop?.();
    },
  });
  return new Response(stream, { status: 200, headers: SSE_HEADERS });
}
