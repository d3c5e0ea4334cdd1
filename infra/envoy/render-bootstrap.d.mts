/** One MCP server Envoy routes to directly, by the `:authority` the ext_proc processor sets. */
export interface EnvoyUpstream {
  /** Cluster suffix (`upstream_<name>`); letters, digits, `_`, `.`, `-`. */
  name: string;
  /** The virtual host's domain, e.g. `server1.mcp.local` (the server's HTTPRoute hostname). */
  hostname: string;
  /** `HOST:PORT` of the server; an IP literal gives a STATIC cluster, a name STRICT_DNS. */
  address: string;
  /** URL path prefix routed to the server, e.g. `/mcp`. */
  path: string;
}

export interface EnvoyBootstrapOptions {
  /** Port of the MCP listener on 127.0.0.1. */
  listenerPort: number;
  /** Port of the admin interface on 127.0.0.1 (`/ready`, `/stats`). */
  adminPort: number;
  /** `HOST:PORT` of the broker, the default route. */
  brokerAddress: string;
  /** `HOST:PORT` of the ext_proc gRPC server (an HTTP/2 cluster); unused when `extProc` is false. */
  extProcAddress?: string;
  /** Include the ext_proc filter. Default true; false renders a pass-through. */
  extProc?: boolean;
  /** One virtual host and cluster each. Default none. */
  upstreams?: readonly EnvoyUpstream[];
  /** `per_connection_buffer_limit_bytes` of the listener. Default {@link DEFAULT_BUFFER_LIMIT_BYTES}. */
  bufferLimitBytes?: number;
}

/** The addresses infra/envoy/envoy.yaml is rendered with. */
export declare const DEFAULT_BOOTSTRAP_OPTIONS: Readonly<
  Required<Omit<EnvoyBootstrapOptions, 'extProc' | 'bufferLimitBytes'>>
>;

/** The listener's default buffer limit, 5 MiB (the anchor router's body limit; Envoy's own is 1 MiB). */
export declare const DEFAULT_BUFFER_LIMIT_BYTES: number;

/**
 * The static bootstrap YAML: a listener, the ext_proc filter (unless `extProc: false`), one
 * virtual host per upstream hostname, a default virtual host to the broker, route timeouts 0s.
 * @throws Error naming the option when an address, name, hostname or path is malformed.
 */
export declare function renderEnvoyBootstrap(options: EnvoyBootstrapOptions): string;
