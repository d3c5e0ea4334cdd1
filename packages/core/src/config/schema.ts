import * as v from 'valibot';

/**
 * The gateway config file (YAML), field-compatible with the anchor's `config.yaml`
 * (Secret `mcp-gateway-config`). Accepted aliases: `toolPrefix` for `prefix`, and
 * `enabled: true|false` (seed documents) for `state: Enabled|Disabled`.
 */
const RawServerSchema = v.looseObject({
  name: v.pipe(v.string(), v.trim(), v.minLength(1, 'must be a non-empty string')),
  url: v.pipe(v.string(), v.url('must be an absolute http(s) URL'), v.regex(/^https?:\/\//i, 'must use http:// or https://')),
  hostname: v.optional(v.string()),
  prefix: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]*$/, 'may hold only letters, digits, "_", "." and "-"'))),
  toolPrefix: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]*$/, 'may hold only letters, digits, "_", "." and "-"'))),
  state: v.optional(v.picklist(['Enabled', 'Disabled', ''], 'must be Enabled or Disabled')),
  enabled: v.optional(v.boolean('must be true or false')),
  credential: v.optional(v.string()),
  caCert: v.optional(v.string()),
  userSpecificList: v.optional(v.boolean()),
  category: v.optional(v.array(v.string())),
  hint: v.optional(v.string()),
  tags: v.optional(v.array(v.string())),
});

const RawVirtualServerSchema = v.looseObject({
  name: v.pipe(v.string(), v.minLength(1, 'must be a non-empty string')),
  tools: v.optional(v.array(v.string()), []),
  prompts: v.optional(v.array(v.string())),
});

/** The raw file schema, before aliases are resolved. */
export const RawConfigSchema = v.looseObject({
  servers: v.optional(v.nullable(v.array(RawServerSchema)), []),
  virtualServers: v.optional(v.nullable(v.array(RawVirtualServerSchema)), []),
  gatewayCACertPEM: v.optional(v.string()),
});

/** One upstream MCP server, aliases resolved. */
export interface ServerConfig {
  /** Unique key: `<namespace>/<name>` when written by the controller. */
  readonly name: string;
  /** URL the gateway connects to for its own requests and, in standalone, for forwarded calls. */
  readonly url: string;
  /** Host Envoy routes this server's calls by (`:authority`); defaults to the URL's host. */
  readonly hostname: string;
  /** Prepended verbatim to tool and prompt names; "" for none. */
  readonly prefix: string;
  readonly enabled: boolean;
  /** Authorization header value of the gateway's own requests (never of clients' calls). */
  readonly credential?: string;
  /** Extra PEM trust for this server (Node hosts only). */
  readonly caCert?: string;
  readonly userSpecificList: boolean;
  readonly category: readonly string[];
  readonly hint?: string;
  readonly tags: readonly string[];
}

/** A named view that limits which served tools (and prompts) are listed. */
export interface VirtualServerConfig {
  readonly name: string;
  readonly tools: readonly string[];
  /** Undefined or empty: all prompts. */
  readonly prompts?: readonly string[];
}

/** The validated gateway configuration. */
export interface GatewayConfig {
  readonly servers: readonly ServerConfig[];
  readonly virtualServers: readonly VirtualServerConfig[];
  readonly gatewayCACertPEM?: string;
}

/** An empty configuration (no servers). */
export const EMPTY_CONFIG: GatewayConfig = { servers: [], virtualServers: [] };
