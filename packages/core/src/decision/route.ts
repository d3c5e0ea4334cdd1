import type { Catalog, CatalogTarget } from '../catalog/catalog.ts';
import type { ServerConfig } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import type { JsonRpcRequest } from '../protocol/json-rpc.ts';
import { MODERN_PROTOCOL_VERSION } from '../protocol/versions.ts';
import { resultRewriteFor, type ResultRewrite } from './result-rewrite.ts';
import { isForwardedMethod, isLocalMethod, type Era } from './routed-methods.ts';

/** What a forwarded call names on its upstream: the routing headers (x-mcp-toolname …) and Mcp-Name carry it. */
export interface CallTarget {
  readonly kind: 'tool' | 'prompt' | 'resource';
  /** The upstream's own name or URI (prefix removed). */
  readonly name: string;
}

/** A call to forward: the upstream, the era the gateway talks to it in, and the rewrites both ways. */
export interface ForwardPlan {
  readonly server: ServerConfig;
  readonly method: string;
  /** The request's params with the served name or URI replaced by the upstream's own; the rest untouched. */
  readonly params: Record<string, unknown>;
  readonly target?: CallTarget;
  /** The era the gateway speaks with this upstream for this call. */
  readonly upstreamEra: Era;
  /** Maps the upstream's result back into the gateway's namespace (resource URIs and links). */
  readonly rewriteResult?: ResultRewrite;
}

/**
 * The routing decision for one request: the gateway answers it, forwards it to one upstream
 * (with its rewrite), or refuses it with the error to answer. Made by the broker, the Envoy
 * router and the worker alike; hosts only map it onto their transport.
 */
export type RouteDecision =
  | { readonly kind: 'local' }
  | { readonly kind: 'forward'; readonly plan: ForwardPlan }
  | { readonly kind: 'refuse'; readonly error: GatewayError };

/** What the routing decision reads: the current catalog and servers. */
export interface RouteContext {
  readonly catalog: Catalog;
  /** The gateway's own tools offered now (discovery's meta-tools): their calls are answered locally. */
  readonly metaToolNames: ReadonlySet<string>;
  serverOf(name: string): ServerConfig | undefined;
  /** The era the gateway speaks with `server` on behalf of a client of `clientEra`. */
  upstreamEra(server: ServerConfig, clientEra: Era): Era;
}

const LOCAL: RouteDecision = Object.freeze({ kind: 'local' });

/**
 * Decides where a request of a client of `era` goes. Methods the gateway answers itself are
 * local; tools/call, prompts/get, resources/read, completion/complete (and, for legacy clients,
 * resources/subscribe and unsubscribe) go to the upstream that owns the named item, with the
 * prefix removed; unknown methods and names are refused (-32601, -32602 naming the item).
 * Names are looked up as own properties only: a method such as `toString` is unknown.
 */
export function decideRoute(message: JsonRpcRequest, era: Era, context: RouteContext): RouteDecision {
  const { method } = message;
  if (isLocalMethod(era, method)) return LOCAL;
  if (method === 'tools/call' && context.metaToolNames.size > 0) {
    const name = isObject(message.params) ? message.params['name'] : undefined;
    // The gateway's own tools win over an upstream tool served under the same name.
    if (typeof name === 'string' && context.metaToolNames.has(name)) return LOCAL;
  }
  if (!isForwardedMethod(era, method)) {
    const code = era === 'modern' ? 'MODERN_METHOD_NOT_FOUND' : 'METHOD_NOT_FOUND';
    return refuse(new GatewayError(code, `Method not found: ${method}`));
  }
  const found = findTarget(method, isObject(message.params) ? message.params : {}, context);
  if (found instanceof GatewayError) return refuse(found);
  const { server, params, target } = found;
  const upstreamEra = context.upstreamEra(server, era);
  if (upstreamEra === 'modern' && (method === 'resources/subscribe' || method === 'resources/unsubscribe')) {
    return refuse(
      new GatewayError(
        'METHOD_NOT_FOUND',
        `upstream ${server.name} speaks MCP ${MODERN_PROTOCOL_VERSION} only, which has no ${method} (only subscriptions/listen)`,
      ),
    );
  }
  const rewriteResult = resultRewriteFor(method, server.prefix);
  const plan: ForwardPlan = {
    server,
    method,
    params,
    upstreamEra,
    ...(target === undefined ? {} : { target }),
    ...(rewriteResult === undefined ? {} : { rewriteResult }),
  };
  return { kind: 'forward', plan };
}

interface FoundTarget {
  readonly server: ServerConfig;
  readonly params: Record<string, unknown>;
  readonly target?: CallTarget;
}

function findTarget(
  method: string,
  params: Record<string, unknown>,
  context: RouteContext,
): FoundTarget | GatewayError {
  const { catalog } = context;
  // `missing` is a thunk: an Error captures a stack trace, too costly to build on every found call.
  const resolve = (found: CatalogTarget | undefined, missing: () => GatewayError) => {
    const server = found === undefined ? undefined : context.serverOf(found.server);
    return found === undefined || server === undefined ? missing() : { found, server };
  };
  switch (method) {
    case 'tools/call':
    case 'prompts/get': {
      const kind = method === 'tools/call' ? 'tool' : 'prompt';
      const name = stringParam(params, 'name', kind);
      if (name instanceof GatewayError) return name;
      const hit = resolve(kind === 'tool' ? catalog.findTool(name) : catalog.findPrompt(name), () =>
        kind === 'tool'
          ? withheldToolError(catalog, name)
          : new GatewayError('PROMPT_NOT_FOUND', `Unknown prompt: ${name}`),
      );
      if (hit instanceof GatewayError) return hit;
      const fixed = hit.found.fixedArguments;
      return {
        server: hit.server,
        // A tool's fixed arguments (its override) replace whatever the client sent for them.
        params:
          fixed === undefined
            ? { ...params, name: hit.found.name }
            : { ...params, name: hit.found.name, arguments: { ...argumentsOf(params), ...fixed } },
        target: { kind, name: hit.found.name },
      };
    }
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe': {
      const uri = stringParam(params, 'uri', 'resource');
      if (uri instanceof GatewayError) return uri;
      const hit = resolve(
        catalog.resolveResourceUri(uri),
        () => new GatewayError('RESOURCE_NOT_FOUND', `Resource not found: ${uri}`, { data: { uri } }),
      );
      if (hit instanceof GatewayError) return hit;
      const own = hit.found.name;
      return { server: hit.server, params: { ...params, uri: own }, target: { kind: 'resource', name: own } };
    }
    default:
      return findCompletionTarget(params, catalog, resolve);
  }
}

function argumentsOf(params: Record<string, unknown>): Record<string, unknown> {
  return isObject(params['arguments']) ? params['arguments'] : {};
}

function findCompletionTarget(
  params: Record<string, unknown>,
  catalog: Catalog,
  resolve: (
    found: CatalogTarget | undefined,
    missing: () => GatewayError,
  ) => GatewayError | { found: CatalogTarget; server: ServerConfig },
): FoundTarget | GatewayError {
  const ref = isObject(params['ref']) ? params['ref'] : undefined;
  if (ref?.['type'] === 'ref/prompt' && typeof ref['name'] === 'string') {
    const name = ref['name'];
    const hit = resolve(
      catalog.findPrompt(name),
      () => new GatewayError('PROMPT_NOT_FOUND', `Unknown prompt: ${name}`),
    );
    if (hit instanceof GatewayError) return hit;
    return { server: hit.server, params: { ...params, ref: { ...ref, name: hit.found.name } } };
  }
  if (ref?.['type'] === 'ref/resource' && typeof ref['uri'] === 'string') {
    const uri = ref['uri'];
    const hit = resolve(
      catalog.resolveResourceUri(uri),
      () => new GatewayError('RESOURCE_NOT_FOUND', `Resource not found: ${uri}`),
    );
    if (hit instanceof GatewayError) return hit;
    return { server: hit.server, params: { ...params, ref: { ...ref, uri: hit.found.name } } };
  }
  return new GatewayError(
    'INVALID_PARAMS',
    'completion/complete needs ref of type ref/prompt (name) or ref/resource (uri)',
  );
}

function refuse(error: GatewayError): RouteDecision {
  return { kind: 'refuse', error };
}

function stringParam(params: Record<string, unknown>, key: string, what: string): string | GatewayError {
  const value = params[key];
  return typeof value === 'string' && value !== ''
    ? value
    : new GatewayError('INVALID_PARAMS', `params.${key} must name a ${what}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The error of a tool that is not served: why, when its server's pins withhold it (the pin store
 * is unavailable, or its changed definition awaits approval); otherwise that it is unknown.
 */
function withheldToolError(catalog: Catalog, name: string): GatewayError {
  const withheld = catalog.withheldTool(name);
  if (withheld?.reason === 'pinStoreUnavailable') {
    return new GatewayError(
      'PIN_STORE_UNAVAILABLE',
      `Tool ${name} is not served: the pin store of server ${withheld.server} is unavailable, so its tool definitions cannot be checked`,
    );
  }
  if (withheld?.reason === 'quarantined') {
    return new GatewayError(
      'TOOL_QUARANTINED',
      `Tool ${name} is not served: its definition on server ${withheld.server} changed and awaits the operator's approval`,
    );
  }
  return new GatewayError('TOOL_NOT_FOUND', `Unknown tool: ${name}`);
}
