/** JSON object as exchanged with upstreams (tools, prompts, resources are kept verbatim). */
export type JsonObject = { [key: string]: unknown };

/** An MCP tool as listed by its upstream (only `name` is relied on; all fields pass through). */
export interface UpstreamTool extends JsonObject {
  name: string;
  inputSchema: JsonObject;
}
/** An MCP prompt as listed by its upstream. */
export interface UpstreamPrompt extends JsonObject {
  name: string;
}
/** An MCP resource as listed by its upstream. */
export interface UpstreamResource extends JsonObject {
  uri: string;
  name: string;
}
/** An MCP resource template as listed by its upstream. */
export interface UpstreamResourceTemplate extends JsonObject {
  uriTemplate: string;
  name: string;
}

/** A tool the gateway will not serve, and why. */
export interface InvalidItem {
  readonly name: string;
  readonly errors: readonly string[];
}

/** The items one upstream contributes, validated. */
export interface UpstreamItems {
  readonly tools: readonly UpstreamTool[];
  readonly prompts: readonly UpstreamPrompt[];
  readonly resources: readonly UpstreamResource[];
  readonly resourceTemplates: readonly UpstreamResourceTemplate[];
  readonly invalidTools: readonly InvalidItem[];
  readonly invalidPrompts: readonly InvalidItem[];
}

/** How long a list may be cached and by whom, as a 2026-07-28 upstream said. */
export interface ListCacheHint {
  readonly ttlMs: number;
  readonly cacheScope: 'public' | 'private';
}

/** What one upstream currently contributes, published by its manager on every change. */
export interface UpstreamSnapshot extends UpstreamItems {
  /** Config `name` of the server. */
  readonly server: string;
  /** True when connected, listed and healthy (items are served). */
  readonly ready: boolean;
  /** Human-readable state: "server added successfully. Total tools added 5. …", or the failure. */
  readonly message: string;
  /** Negotiated protocol version; undefined before the first successful initialize. */
  readonly protocolVersion?: string;
  /** Every version a 2026-07-28 upstream's server/discover listed (legacy upstreams list none). */
  readonly supportedVersions?: readonly string[];
  /** The upstream's declared capabilities (from initialize). */
  readonly capabilities: JsonObject;
  /** ISO time of the last successful validation (list). */
  readonly lastValidated?: string;
  /** Cache hints of each list, from 2026-07-28 upstreams (legacy upstreams give none). */
  readonly listCache?: Readonly<
    Partial<Record<'tools' | 'prompts' | 'resources' | 'resourceTemplates', ListCacheHint>>
  >;
  /** Consecutive failed connect/list/health attempts (3 withdraws the items). */
  readonly consecutiveFailures: number;
}

/** A live session with one upstream, as returned by `initialize`. Treat as opaque and immutable. */
export interface UpstreamSession {
  /** The upstream's `Mcp-Session-Id`; absent for upstreams that issue none. */
  readonly sessionId?: string;
  /** Negotiated version: one of LEGACY_PROTOCOL_VERSIONS, or MODERN_PROTOCOL_VERSION for a sessionless modern upstream. */
  readonly protocolVersion: string;
  readonly capabilities: JsonObject;
  readonly serverInfo?: JsonObject;
  readonly instructions?: string;
  /** The versions the upstream's server/discover listed (a 2026-07-28 upstream that also speaks legacy ones lists those too). */
  readonly supportedVersions?: readonly string[];
  /** False when created with `useCredential: false` (a client's own credentials); then no call on it sends the server credential. */
  readonly useCredential?: boolean;
}

/** Options of one call. */
export interface UpstreamCallOptions {
  readonly signal?: AbortSignal;
  /** Added to, or overriding, the gateway's headers (case-insensitive). */
  readonly headers?: Readonly<Record<string, string>>;
}
