import type { CallTarget } from '../decision/route.ts';
import { methodLabel } from './gateway-metrics.ts';
import { SharedAttributes, type SpanAttributes } from './gateway-tracer.ts';

/**
 * Span names and attributes by the OpenTelemetry semantic conventions for MCP: the name is
 * `{mcp.method.name} {target}` with the tool or prompt as target, and the method alone when
 * there is no known (low-cardinality) target, so a client cannot add span names at will.
 * The attributes every call to one item shares are made once ({@link SharedAttributes}), so a
 * span holds them by reference and the exporter encodes them once; the request's JSON-RPC id is
 * the span's own (`GatewaySpan.requestId`).
 * @see https://opentelemetry.io/docs/specs/semconv/gen-ai/mcp/
 */
const SPAN_NAMES = new Map<string, Map<string, string>>();
/** Span names kept per method, at most (the catalog's items). */
const MAX_NAMES = 4_096;

export function mcpSpanName(method: string, target?: CallTarget | { kind: string; name: string }): string {
  if (target === undefined || target.kind === 'resource') return method;
  // Made once per method and item: the same flat string every call (a joined one is new each
  // time, and the exporter would flatten it again).
  let byName = SPAN_NAMES.get(method);
  if (byName === undefined) {
    if (SPAN_NAMES.size >= 64) SPAN_NAMES.clear();
    SPAN_NAMES.set(method, (byName = new Map()));
  }
  let name = byName.get(target.name);
  if (name === undefined) {
    if (byName.size >= MAX_NAMES) byName.clear();
    byName.set(target.name, (name = `${method} ${target.name}`));
  }
  return name;
}

/** An item a call is about: a tool, a prompt or a resource. */
type Target = { readonly kind: string; readonly name: string };

/** Shared attribute sets kept per table, at most: they come from the config, the catalog and the methods. */
const MAX_SHARED = 4_096;

/**
 * Shared attribute sets by four strings, in nested maps: the strings come from the config and
 * the catalog, whose string objects keep their hash, so a lookup hashes nothing new (a key
 * joined from them would be a new string to hash on every call). A full table starts over.
 */
class SharedTable {
  readonly #root = new Map<string, Map<string, Map<string, Map<string, SharedAttributes>>>>();
  #size = 0;

  get(a: string, b: string, c: string, d: string, make: () => SpanAttributes): SharedAttributes {
    if (this.#size >= MAX_SHARED) {
      this.#root.clear();
      this.#size = 0;
    }
    let byB = this.#root.get(a);
    if (byB === undefined) this.#root.set(a, (byB = new Map()));
    let byC = byB.get(b);
    if (byC === undefined) byB.set(b, (byC = new Map()));
    let byD = byC.get(c);
    if (byD === undefined) byC.set(c, (byD = new Map()));
    let found = byD.get(d);
    if (found === undefined) {
      byD.set(d, (found = new SharedAttributes(make())));
      this.#size++;
    }
    return found;
  }
}

/** Shared attribute sets by one string (a method, a protocol version), in one map; a full one starts over. */
class SharedByOne {
  readonly #sets = new Map<string, SharedAttributes>();

  find(key: string): SharedAttributes | undefined {
    return this.#sets.get(key);
  }

  get(key: string, make: () => SpanAttributes): SharedAttributes {
    let found = this.#sets.get(key);
    if (found === undefined) {
      if (this.#sets.size >= MAX_SHARED) this.#sets.clear();
      this.#sets.set(key, (found = new SharedAttributes(make())));
    }
    return found;
  }
}

const METHODS = new SharedByOne();
const VERSIONS = new SharedByOne();
const SESSIONS = new SharedTable();
const CALLS = new SharedTable();
const EXCHANGES = new SharedTable();
const ROUTED = new SharedTable();

/** Resource URIs are not kept (a template serves any number of them): their attributes are made per span. */
function keyed(target: Target | undefined): boolean {
  return target === undefined || target.kind !== 'resource';
}

/** The attributes of a request the endpoint serves (kind server): `mcp.method.name` and the HTTP transport. */
export function mcpServerAttributes(method: string): SpanAttributes | SharedAttributes {
  const kept = METHODS.find(method);
  if (kept !== undefined) return kept;
  const make = () => ({ 'mcp.method.name': method, 'network.protocol.name': 'http' });
  // A method the gateway does not know is the client's to choose: not kept.
  return methodLabel(method) === method ? METHODS.get(method, make) : make();
}

/** The MCP protocol version a request speaks (`mcp.protocol.version`); short ones are kept. */
export function mcpProtocolAttributes(version: string | undefined): SpanAttributes | SharedAttributes {
  if (version === undefined) return {};
  const make = () => ({ 'mcp.protocol.version': version });
  // A client may send any string: a long one is not kept.
  return version.length <= 32 ? VERSIONS.get(version, make) : make();
}

/**
 * A session's request: `mcp.session.id` (the session's jti, never its token) and the protocol
 * version it speaks, one set per session kept (a session sends many requests; the table is bounded).
 */
export function mcpSessionAttributes(jti: string, version: string | undefined): SpanAttributes | SharedAttributes {
  const make = () => ({ 'mcp.session.id': jti, 'mcp.protocol.version': version });
  return version === undefined || version.length <= 32 ? SESSIONS.get(jti, version ?? '', '', '', make) : make();
}

/**
 * The attributes naming what a call is about: `gen_ai.tool.name` and `gen_ai.operation.name`
 * for a tool, `gen_ai.prompt.name` for a prompt, `mcp.resource.uri` for a resource.
 */
function mcpTargetAttributes(target: Target | undefined): SpanAttributes {
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

/** What a call the endpoint serves is about, and the server (`mcp.server`) that serves it. */
export function mcpCallAttributes(target: Target, server: string): SpanAttributes | SharedAttributes {
  const make = () => ({ ...mcpTargetAttributes(target), 'mcp.server': server });
  return keyed(target) ? CALLS.get(server, target.kind, target.name, '', make) : make();
}

/** The attributes of an exchange with an upstream (a client span): the method, what it is about, where it goes. */
export function mcpClientAttributes(method: string, url: string, target?: Target): SpanAttributes | SharedAttributes {
  const make = () => ({ 'mcp.method.name': method, ...mcpTargetAttributes(target), ...serverAttributes(url) });
  return keyed(target) ? EXCHANGES.get(url, method, target?.kind ?? '', target?.name ?? '', make) : make();
}

/**
 * The attributes of a call the Envoy router sends straight to its upstream (its one span, kind
 * server): the method, the item, the server and where it goes, `mcp.route` = `router`.
 */
export function mcpRoutedAttributes(
  method: string,
  target: Target,
  server: string,
  url: string,
): SpanAttributes | SharedAttributes {
  const make = () => ({
    'mcp.method.name': method,
    ...mcpTargetAttributes(target),
    'mcp.server': server,
    'mcp.route': 'router',
    ...serverAttributes(url),
    'network.protocol.name': 'http',
  });
  // Two servers may share a URL: the server's name is part of the first key.
  return keyed(target) ? ROUTED.get(`${server}\n${url}`, method, target.kind, target.name, make) : make();
}

const SERVER_ATTRIBUTES = new Map<string, SpanAttributes>();

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
