import { prefixUri } from '../catalog/tool-prefix.ts';
import type { Catalog, CatalogTarget } from '../catalog/catalog.ts';
import type { ServerConfig } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import type { JsonRpcRequest } from '../protocol/json-rpc.ts';
import type { ForwardPlan } from './forward-call.ts';
import { ROUTER_HEADERS } from './upstream-headers.ts';

/** Methods the gateway forwards to the upstream that owns the named item. */
export const FORWARDED_METHODS = new Set([
  'tools/call',
  'prompts/get',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'completion/complete',
]);

/** How tools/call and prompts/get find their item, and what they answer when it is unknown. */
const NAMED_ITEMS = {
  'tools/call': {
    what: 'tool',
    header: ROUTER_HEADERS.tool,
    find: (catalog: Catalog, name: string) => catalog.findTool(name),
    missing: (name: string) => new GatewayError('TOOL_NOT_FOUND', `Unknown tool: ${name}`),
  },
  'prompts/get': {
    what: 'prompt',
    header: ROUTER_HEADERS.prompt,
    find: (catalog: Catalog, name: string) => catalog.findPrompt(name),
    missing: (name: string) => new GatewayError('PROMPT_NOT_FOUND', `Unknown prompt: ${name}`),
  },
} as const;

/**
 * Decides where a forwarded request goes and how its params are rewritten (prefix removed,
 * everything else untouched). Unknown names are JSON-RPC -32602 errors naming the item.
 */
export function planCall(
  message: JsonRpcRequest,
  catalog: Catalog,
  serverOf: (name: string) => ServerConfig | undefined,
): ForwardPlan | GatewayError {
  const params = (isObject(message.params) ? message.params : {}) as Record<string, unknown>;
  // `missing` is a thunk: an Error captures a stack trace, too costly to build on every found call.
  const resolve = (target: CatalogTarget | undefined, missing: () => GatewayError) => {
    const server = target === undefined ? undefined : serverOf(target.server);
    return target === undefined || server === undefined ? missing() : { target, server };
  };
  switch (message.method) {
    case 'tools/call':
    case 'prompts/get': {
      const kind = NAMED_ITEMS[message.method];
      const name = stringParam(params, 'name', kind.what);
      if (name instanceof GatewayError) return name;
      const found = resolve(kind.find(catalog, name), () => kind.missing(name));
      if (found instanceof GatewayError) return found;
      return {
        server: found.server,
        params: { ...params, name: found.target.name },
        nameHeader: { header: kind.header, value: found.target.name },
      };
    }
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe': {
      const uri = stringParam(params, 'uri', 'resource');
      if (uri instanceof GatewayError) return uri;
      const found = resolve(
        catalog.resolveResourceUri(uri),
        () => new GatewayError('RESOURCE_NOT_FOUND', `Resource not found: ${uri}`, { data: { uri } }),
      );
      if (found instanceof GatewayError) return found;
      const { server } = found;
      const plan: ForwardPlan = {
        server,
        params: { ...params, uri: found.target.name },
        nameHeader: { header: ROUTER_HEADERS.resource, value: found.target.name },
      };
      if (message.method !== 'resources/read' || server.prefix === '') return plan;
      return { ...plan, rewriteResult: (result) => rewriteContentUris(server.prefix, result) };
    }
    case 'completion/complete':
      return planCompletion(params, catalog, resolve);
    default:
      return new GatewayError('METHOD_NOT_FOUND', `Method not found: ${message.method}`);
  }
}

function planCompletion(
  params: Record<string, unknown>,
  catalog: Catalog,
  resolve: (
    target: CatalogTarget | undefined,
    missing: () => GatewayError,
  ) => GatewayError | { target: CatalogTarget; server: ServerConfig },
): ForwardPlan | GatewayError {
  const ref = isObject(params['ref']) ? (params['ref'] as Record<string, unknown>) : undefined;
  if (ref?.['type'] === 'ref/prompt' && typeof ref['name'] === 'string') {
    const found = resolve(
      catalog.findPrompt(ref['name']),
      () => new GatewayError('PROMPT_NOT_FOUND', `Unknown prompt: ${ref['name']}`),
    );
    if (found instanceof GatewayError) return found;
    return { server: found.server, params: { ...params, ref: { ...ref, name: found.target.name } } };
  }
  if (ref?.['type'] === 'ref/resource' && typeof ref['uri'] === 'string') {
    const found = resolve(
      catalog.resolveResourceUri(ref['uri']),
      () => new GatewayError('RESOURCE_NOT_FOUND', `Resource not found: ${ref['uri']}`),
    );
    if (found instanceof GatewayError) return found;
    return { server: found.server, params: { ...params, ref: { ...ref, uri: found.target.name } } };
  }
  return new GatewayError(
    'INVALID_PARAMS',
    'completion/complete needs ref of type ref/prompt (name) or ref/resource (uri)',
  );
}

function rewriteContentUris(prefix: string, result: Record<string, unknown>): Record<string, unknown> {
  const contents = result['contents'];
  if (!Array.isArray(contents)) return result;
  return {
    ...result,
    contents: contents.map((content: unknown) =>
      isObject(content) && typeof content['uri'] === 'string'
        ? { ...content, uri: prefixUri(prefix, content['uri']) }
        : content,
    ),
  };
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
