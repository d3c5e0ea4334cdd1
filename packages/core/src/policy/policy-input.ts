/**
 * The variables a policy rule's `when` sees: `auth` (the verified caller), `request` (the
 * JSON-RPC method and the request's headers) and `mcp` (the item asked for). A host builds
 * `auth` and `request` once per request and varies only `mcp` per item.
 * @see docs/authorization.md
 */

/** A JSON object as the policy sees it: the verified token's claims, a call's arguments. */
export type PolicyMap = Readonly<Record<string, unknown>>;

/** `auth`: who the caller is. Unverified callers have `verified: false`, "" strings and empty lists and maps. */
export interface AuthVariables {
  /** A token was verified. */
  readonly verified: boolean;
  readonly issuer: string;
  readonly subject: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** The verified token's claims, as its payload had them. */
  readonly claims: PolicyMap;
}

/** `request`: what the request is, apart from the item. */
export interface RequestVariables {
  /** The JSON-RPC method, e.g. `tools/call`. */
  readonly method: string;
  /** Lower-case header name to value, without the caller's credentials (see createRequestVariables). */
  readonly headers: Readonly<Record<string, string>>;
}

/** The kinds of item a rule can select. */
export const POLICY_ITEM_KINDS = ['tool', 'prompt', 'resource'] as const;

/** A tool, a prompt or a resource. */
export type PolicyItemKind = (typeof POLICY_ITEM_KINDS)[number];

/** `mcp` for a list: the item, without arguments. */
export interface McpItemVariables {
  /** The server's config name, e.g. `team-a/weather`. */
  readonly server: string;
  readonly kind: PolicyItemKind;
  /** The upstream's own name (no gateway prefix); for a resource, its upstream URI. */
  readonly name: string;
  /** The name as clients see it, prefix included. */
  readonly servedName: string;
}

/** `mcp` for a call or a read: the item and the call's arguments (an empty map for a read). */
export interface McpCallVariables extends McpItemVariables {
  readonly arguments: PolicyMap;
}

/** What a rule is evaluated over; `M` is `McpCallVariables` on a call, `McpItemVariables` on a list. */
export interface PolicyInput<M extends McpItemVariables = McpCallVariables> {
  readonly auth: AuthVariables;
  readonly request: RequestVariables;
  readonly mcp: M;
}

/** The caller half of a PolicyInput, the same for every item of one request. */
export type PolicyCaller = Omit<PolicyInput, 'mcp'>;

const EMPTY_MAP: PolicyMap = Object.freeze({});
const NO_SCOPES: readonly string[] = Object.freeze([]);

/** `auth` of a caller whose token was not verified (or when verification is off). */
export const UNVERIFIED_AUTH: AuthVariables = Object.freeze({
  verified: false,
  issuer: '',
  subject: '',
  clientId: '',
  scopes: NO_SCOPES,
  claims: EMPTY_MAP,
});

/** What a verified token says; every field but `issuer` and `subject` may be missing. */
export interface VerifiedCaller {
  readonly issuer: string;
  readonly subject: string;
  readonly clientId?: string;
  readonly scopes?: readonly string[];
  readonly claims?: PolicyMap;
}

/** `auth` of a caller whose token was verified. */
export function createAuthVariables(caller: VerifiedCaller): AuthVariables {
  return {
    verified: true,
    issuer: caller.issuer,
    subject: caller.subject,
    clientId: caller.clientId ?? '',
    scopes: caller.scopes ?? NO_SCOPES,
    claims: caller.claims ?? EMPTY_MAP,
  };
}

/**
 * Headers a rule never sees: the caller's credentials, the signed capabilities (a rule decides on
 * verified facts, which the gateway gives it otherwise), the session id (a bearer secret), and the
 * router's own headers (`x-mcp-method`, `x-mcp-servername`, … and the hairpin's `mcp-init-host`
 * and `router-key`): a caller's copies are not to be believed, and behind Envoy the broker
 * receives the router's, which the router deciding on the same request has not set yet (`mcp.*`
 * says what they say).
 */
export const POLICY_HIDDEN_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'cookie',
  'proxy-authorization',
  'x-mcp-authorized',
  'mcp-session-id',
  'x-mcp-method',
  'x-mcp-servername',
  'x-mcp-toolname',
  'x-mcp-promptname',
  'x-mcp-resourceuri',
  'mcp-init-host',
  'router-key',
]);

/**
 * `request` for one request. Header names are lower-cased; `authorization`, `cookie` and
 * `proxy-authorization` are left out. A name given twice in a record keeps the last value
 * (`Headers` has already joined repeated fields with ", "). The Envoy router's view has HTTP/2
 * pseudo-headers instead of some headers: they are left out, but `:authority` is `host`, as an
 * HTTP/1.1 request (what the broker reads) carries it, so that a rule on the host decides alike.
 * @see https://www.rfc-editor.org/rfc/rfc9113#section-8.3.1 (`:authority` in place of Host)
 */
export function createRequestVariables(
  method: string,
  headers: Headers | ReadonlyMap<string, string> | Readonly<Record<string, string>>,
  only?: ReadonlySet<string>,
): RequestVariables {
  // No prototype: a header named `__proto__` is a header like any other.
  const out = Object.create(null) as Record<string, string>;
  if (only !== undefined) {
    // Only the headers the rules read (CompiledPolicy.headerNames): no walk over every header.
    for (const name of only) {
      if (isHidden(name)) continue;
      // As below: the router's view carries the host as `:authority`.
      const value = headerValue(headers, name) ?? (name === 'host' ? headerValue(headers, ':authority') : undefined);
      if (value !== undefined) out[name] = value;
    }
    return { method, headers: out };
  }
  const entries: Iterable<[string, string]> =
    headers instanceof Headers || headers instanceof Map
      ? (headers as Iterable<[string, string]>)
      : Object.entries(headers);
  let authority: string | undefined;
  for (const [name, value] of entries) {
    const lower = name.toLowerCase();
    if (lower === ':authority') authority = value;
    else if (!isHidden(lower) && !lower.startsWith(':')) out[lower] = value;
  }
  if (authority !== undefined && out['host'] === undefined) out['host'] = authority;
  return { method, headers: out };
}

/**
 * A header no rule sees: POLICY_HIDDEN_HEADERS, and Envoy's own `x-envoy-*` (Envoy adds them after
 * the router's phase, so the broker behind it would see what the router deciding did not).
 */
function isHidden(name: string): boolean {
  return POLICY_HIDDEN_HEADERS.has(name) || name.startsWith('x-envoy-');
}

function headerValue(
  headers: Headers | ReadonlyMap<string, string> | Readonly<Record<string, string>>,
  name: string,
): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  if (headers instanceof Map) return (headers as ReadonlyMap<string, string>).get(name);
  const record = headers as Readonly<Record<string, string>>;
  for (const key of Object.keys(record)) if (key.toLowerCase() === name) return record[key];
  return undefined;
}

/** A call's `arguments` param as `mcp.arguments`: a JSON object, or an empty map for anything else. */
export function toArgumentsMap(value: unknown): PolicyMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as PolicyMap) : EMPTY_MAP;
}
