import type { CallTarget } from '../decision/route.ts';
import type { SpanAttributes } from './gateway-tracer.ts';

/**
 * Span names and attributes by the OpenTelemetry semantic conventions for MCP: the name is
 * `{mcp.method.name} {target}` with the tool or prompt as target, and the method alone when
 * there is no known (low-cardinality) target, so a client cannot add span names at will.
 * @see https://opentelemetry.io/docs/specs/semconv/gen-ai/mcp/
 */
export function mcpSpanName(method: string, target?: CallTarget | { kind: string; name: string }): string {
  return target === undefined || target.kind === 'resource' ? method : `${method} ${target.name}`;
}

/** A JSON-RPC id as the `jsonrpc.request.id` attribute (bounded). */
function requestId(id: unknown): string | undefined {
  if (typeof id === 'string') return id.length <= 128 ? id : id.slice(0, 128);
  return typeof id === 'number' ? String(id) : undefined;
}

/** The attributes of an MCP request (`mcp.method.name`, `jsonrpc.request.id`). */
export function mcpRequestAttributes(method: string, id: unknown): SpanAttributes {
  return { 'mcp.method.name': method, 'jsonrpc.request.id': requestId(id) };
}

/**
 * The attributes naming what a call is about: `gen_ai.tool.name` and `gen_ai.operation.name`
 * for a tool, `gen_ai.prompt.name` for a prompt, `mcp.resource.uri` for a resource.
 */
export function mcpTargetAttributes(target: { kind: string; name: string } | undefined): SpanAttributes {
  switch (target?.kind) {
    case 'tool':
      return { 'gen_ai.tool.name': target.name, 'gen_ai.operation.name': 'execute_tool' };
    case 'prompt':
      return { 'gen_ai.prompt.name': target.name };
    case 'resource':
      return { 'mcp.resource.uri': target.name };
    default:
      return {};
  }
}

const SERVER_ATTRIBUTES = new Map<string, SpanAttributes>();

/** The attributes of an exchange with an upstream (a client span): the request, what it is about, where it goes. */
export function mcpClientAttributes(
  method: string,
  id: unknown,
  url: string,
  target?: { kind: string; name: string },
): SpanAttributes {
  return { ...mcpRequestAttributes(method, id), ...mcpTargetAttributes(target), ...serverAttributes(url) };
}

/** `server.address` and `server.port` of an upstream's URL (parsed once per URL). */
export function serverAttributes(url: string): SpanAttributes {
  let attributes = SERVER_ATTRIBUTES.get(url);
  if (attributes === undefined) {
    attributes = parseServerAttributes(url);
    // Bounded by the configured upstreams; a config with ever new URLs starts the cache over.
    if (SERVER_ATTRIBUTES.size >= 1_024) SERVER_ATTRIBUTES.clear();
    SERVER_ATTRIBUTES.set(url, attributes);
  }
  return attributes;
}

function parseServerAttributes(url: string): SpanAttributes {
  try {
    const parsed = new URL(url);
    const port = parsed.port === '' ? (parsed.protocol === 'https:' ? 443 : 80) : Number(parsed.port);
    return Object.freeze({ 'server.address': parsed.hostname, 'server.port': port });
  } catch {
    return Object.freeze({});
  }
}
