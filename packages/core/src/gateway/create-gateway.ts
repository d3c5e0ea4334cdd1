import { NO_METRICS, type GatewayMetrics } from '../telemetry/gateway-metrics.ts';
import { NO_SPAN, NO_TRACER, type GatewayTracer } from '../telemetry/gateway-tracer.ts';
import { createAuditor, type Auditor, type AuditSink } from '../audit/audit-record.ts';
import { DEFAULT_CALL_TIMEOUT_MS } from '../backend/backend-exchange.ts';
import { createParkedCalls } from '../calls/parked-calls.ts';
import type { UpstreamDirectory } from '../calls/call-context.ts';
import type { Catalog } from '../catalog/catalog.ts';
import type { AuditConfig } from '../config/access-schema.ts';
import { DEFAULT_CONFIRMATION_TIMEOUT_SECONDS, type GatewayConfig, type ServerConfig } from '../config/schema.ts';
import type { JsonObject } from '../upstream/types.ts';
import { createAccessControl, type AccessControl, type AccessEnv } from '../decision/access-control.ts';
import type { RouteContext } from '../decision/route.ts';
import { legacyVersionOf, upstreamEraFor } from '../decision/routed-methods.ts';
import { createSessionGate, type SessionGate } from '../decision/session-gate.ts';
import type { EndpointContext } from '../endpoint/endpoint-context.ts';
import { createMcpEndpoint, type McpEndpoint } from '../endpoint/mcp-endpoint.ts';
import { checkOrigin, type OriginPolicy } from '../endpoint/origin-policy.ts';
import type { GatewayError } from '../errors.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../endpoint/read-body.ts';
import type { Logger } from '../logger.ts';
import { LATEST_LEGACY_PROTOCOL_VERSION } from '../protocol/versions.ts';
import { createCallerIdentities, type CallerIdentities } from '../session/caller-identity.ts';
import type { HmacSha256Factory } from '../session/hmac-sha256.ts';
import { createSessionTokens, type SessionTokens } from '../session/session-token.ts';
import { buildStatusReport, type ServerStatus, type StatusReport } from '../status/status-report.ts';
import { createMemorySessionStore } from '../store/memory-session-store.ts';
import { DEFAULT_DISCOVERY, type DiscoverySettings } from '../discovery/discovery-settings.ts';
import { metaToolNames, offeredMetaTools } from '../discovery/meta-tools.ts';
import { BROADCAST_TOPIC, createMemoryNotificationBus, type NotificationBus } from '../store/notification-bus.ts';
import type { SessionStore } from '../store/session-store.ts';
import type { UpstreamClient } from '../upstream/upstream-client.ts';
import { NO_USER_CREDENTIALS, type UserCredentials } from '../credentials/user-credentials.ts';
import { createGatewayCredentials, inForce, type CredentialSettings } from './gateway-credentials.ts';
import type { TokenPages } from '../credentials/token-pages.ts';
import { createUpstreamPool, type CatalogChange, type UpstreamPool } from './upstream-pool.ts';

/** Default name and version the gateway reports at initialize. */
export const DEFAULT_SERVER_INFO = { name: 'mcp-gateway', version: '0.1.0' } as const;

/** Default interval of keep-alive comments on notification and listen streams: 15 s. */
export const DEFAULT_KEEP_ALIVE_MS = 15_000;

/** Options of `createGateway`: what a host decides at start-up. */
export interface GatewayOptions {
  config: GatewayConfig;
  /** HS256 key for session tokens, at least 32 bytes. */
  signingKey: string | Uint8Array;
  /** The host's HMAC-SHA256 for session tokens; default crypto.subtle, key imported once. */
  hmac?: HmacSha256Factory;
  /** Session lifetime in seconds; default 24 h. */
  sessionTtlSeconds?: number;
  /** Shared state; default in memory (one process). */
  store?: SessionStore;
  /** Notification delivery; default in memory (one process). */
  bus?: NotificationBus;
  logger: Logger;
  /** The fetch for one upstream (TLS trust per server on Node); default globalThis.fetch. */
  fetchFor?: (server: ServerConfig) => typeof fetch;
  originPolicy?: OriginPolicy;
  maxBodyBytes?: number;
  callTimeoutMs?: number;
  /** Upstream health check interval; default 60 s. */
  healthIntervalMs?: number;
  /** How upstreams are discovered: on timers (default) or inside requests (workerd). */
  discovery?: 'background' | 'on-demand';
  /** On-demand discovery: how old a snapshot may be before a request lists the upstream again; default 30 s. */
  maxSnapshotAgeMs?: number;
  serverInfo?: { name: string; version: string };
  /** Interval of keep-alive comments on notification streams; default 15 s. */
  keepAliveMs?: number;
  /** The host's environment for access decisions (OAUTH_*, TRUSTED_HEADER_PUBLIC_KEY, --enforce-capability-filtering). */
  accessEnv?: AccessEnv;
  /** The fetch for identity providers' metadata and keys; default globalThis.fetch. */
  identityFetch?: typeof fetch;
  /** Where a config's `audit` records go (the host's writer for its destination); none: no audit. */
  auditSink?: (config: AuditConfig) => AuditSink | undefined;
  /** The host named in audit records and metrics: `broker` (default) or `worker`. */
  hostName?: string;
  /** Where the gateway counts requests, calls, sessions and decisions; default nowhere. */
  metrics?: GatewayMetrics;
  /** Where the gateway's spans go (the host's OpenTelemetry exporter); default none. */
  tracer?: GatewayTracer;
  /** The discovery meta-tools and threshold (`--discovery-tools-enabled`, `--discovery-tool-threshold`); default on, no threshold. */
  toolDiscovery?: DiscoverySettings;
  /** Users' own upstream credentials: the URL elicitation flag, the encryption keys, the public host. */
  credentials?: CredentialSettings;
}

/**
 * The decisions and state a processor in the same process (the Envoy ext_proc router) shares
 * with the broker: the same session gate and routing decision, catalog, upstream clients, session
 * tokens and store, so a session the broker opened is valid for the router, the router refuses
 * exactly what the broker refuses, and a backend session either opens is reused by both.
 */
export interface GatewayRouting {
  /** The session decision (signature, expiry, caller binding, termination). */
  readonly gate: SessionGate;
  /** What the routing decision reads now (swapped atomically on every change, config reloads included). */
  routeContext(): RouteContext;
  /** The current catalog. */
  catalog(): Catalog;
  /** The configured server of that name; undefined once a reload removed it. */
  server(name: string): ServerConfig | undefined;
  /** The server's upstream client (its fetch carries the server's TLS trust); undefined as above. */
  client(name: string): UpstreamClient | undefined;
  readonly tokens: SessionTokens;
  readonly store: SessionStore;
  /** Where new backend sessions are announced (see ensureBackendSession). */
  readonly bus: NotificationBus;
  readonly callers: CallerIdentities;
  /** The user credential decision the broker makes (core's UserCredentials). */
  readonly credentials: UserCredentials;
  /** Where the router counts its phases and routed calls (the broker's metrics). */
  readonly metrics: GatewayMetrics;
  /** Where the router's spans go (the broker's tracer). */
  readonly tracer: GatewayTracer;
  /** The access decisions of the current config (the broker's, swapped on every reload). */
  access(): AccessControl;
  /** The audit trail of the current config; the router records as `router`. */
  auditor(host: string): Auditor;
}

/** A running gateway: the MCP endpoint plus what the other endpoints report. */
export interface Gateway {
  readonly endpoint: McpEndpoint;
  /** The /tokens pages (URL elicitation, the user's own credentials, upstream OAuth): the hosts' HTTP apps serve them. */
  readonly tokenPages: TokenPages;
  /** The state a co-located router shares with the broker; the same object on every call. */
  routing(): GatewayRouting;
  /**
   * Applies a new config without restart; clients are told the lists may have changed.
   * @throws GatewayError CONFIG_INVALID, before anything changes, when its access sections cannot be applied here.
   */
  applyConfig(config: GatewayConfig): void;
  /** The access decisions of the current config (the protected resource metadata among them). */
  access(): AccessControl;
  status(): StatusReport;
  serverStatus(name: string): ServerStatus | undefined;
  /** False while servers are configured and none is ready (GET /readyz → 503). */
  isReady(): boolean;
  /**
   * The MCP endpoint's Host and Origin rules, for the gateway's other endpoints that disclose
   * anything (/status): the refusal (403) when the request's Host or Origin is not allowed.
   */
  checkOrigin(request: Request): GatewayError | undefined;
  stop(): Promise<void>;
}

/**
 * Creates the gateway on web-standard APIs only: connects the configured upstreams, keeps the
 * catalog current, and serves the MCP endpoint. Hosts (Node, workerd) add HTTP routing around it.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const { logger } = options;
  const metrics = options.metrics ?? NO_METRICS;
  const store = options.store ?? createMemorySessionStore();
  const bus = options.bus ?? createMemoryNotificationBus();
  const tokens = createSessionTokens({
    key: options.signingKey,
    ...(options.sessionTtlSeconds === undefined ? {} : { ttlSeconds: options.sessionTtlSeconds }),
    ...(options.hmac === undefined ? {} : { hmac: options.hmac }),
  });
  const notify = (change: CatalogChange) => {
    const methods = [
      change.tools && 'notifications/tools/list_changed',
      change.prompts && 'notifications/prompts/list_changed',
      change.resources && 'notifications/resources/list_changed',
    ].filter((m): m is string => typeof m === 'string');
    for (const method of methods) {
      metrics.listChanged(method.split('/')[1] as 'tools' | 'prompts' | 'resources');
      bus.publish(BROADCAST_TOPIC, { jsonrpc: '2.0', method }).catch((error: unknown) => {
        logger.warn('could not publish a notification', { method, error: String(error) });
      });
    }
  };
  const pool = createUpstreamPool({
    logger,
    ...(options.fetchFor === undefined ? {} : { fetchFor: options.fetchFor }),
    ...(options.healthIntervalMs === undefined ? {} : { healthIntervalMs: options.healthIntervalMs }),
    onCatalogChange: notify,
    pinStore: store,
    bus,
    ...(options.discovery === undefined ? {} : { discovery: options.discovery }),
    ...(options.maxSnapshotAgeMs === undefined ? {} : { maxSnapshotAgeMs: options.maxSnapshotAgeMs }),
  });
  const accessEnv = options.accessEnv ?? {};
  const hostName = options.hostName ?? 'broker';
  const buildAccess = (config: GatewayConfig, previous?: AccessControl) =>
    createAccessControl({
      config,
      env: accessEnv,
      fetch: options.identityFetch ?? ((input, init) => fetch(input, init)),
      logger,
      ...(previous === undefined ? {} : { previous }),
    });
  const auditors = (config: GatewayConfig) => {
    const sink = config.audit === undefined ? undefined : options.auditSink?.(config.audit);
    return (host: string) => createAuditor(config.audit, sink, host, logger);
  };
  let access = buildAccess(options.config);
  let auditorFor = auditors(options.config);
  let auditor = auditorFor(hostName);
  pool.apply(inForce(options.config, options.credentials ?? {}));
  const callers = createCallerIdentities();
  const credentialSettings = options.credentials ?? {};
  const {
    credentials,
    tokenPages,
    warn: warnCredentials,
  } = createGatewayCredentials(credentialSettings, options.signingKey, {
    store,
    bus,
    callers,
    logger,
    ...(options.identityFetch && { fetch: options.identityFetch }),
    accessEnv,
    config: () => pool.config(),
    server: (name) => pool.server(name),
    access: () => access,
  });
  warnCredentials(options.config);
  const context = createEndpointContext(pool, {
    ...options,
    tokens,
    store,
    bus,
    callers,
    credentials,
    publicHost: credentialSettings.publicHost,
    access: () => access,
    auditor: () => auditor,
  });
  const endpoint = createMcpEndpoint(context);
  const routing: GatewayRouting = {
    gate: context.gate,
    routeContext: context.routeContext,
    catalog: () => pool.catalog(),
    server: (name) => pool.server(name),
    client: (name) => pool.client(name),
    tokens,
    store,
    bus,
    callers: context.callers,
    credentials,
    access: () => access,
    auditor: (host) => (host === hostName ? auditor : auditorFor(host)),
    metrics,
    tracer: context.tracer,
  };
  const status = () =>
    buildStatusReport(pool.config().servers, pool.snapshots(), pool.catalog(), LATEST_LEGACY_PROTOCOL_VERSION, (name) =>
      pool.pins(name),
    );

  return {
    endpoint,
    routing: () => routing,
    tokenPages,
    applyConfig(config) {
      const nextAccess = buildAccess(config, access);
      pool.apply(inForce(config, credentialSettings));
      warnCredentials(config);
      access = nextAccess;
      auditorFor = auditors(config);
      auditor = auditorFor(hostName);
      logger.info('config applied', { servers: config.servers.length });
      notify({ tools: true, prompts: true, resources: true });
    },
    status,
    serverStatus: (name) => status().servers.find((server) => server.name === name),
    checkOrigin: (request) => checkOrigin(request.headers, context.originPolicy),
    access: () => access,
    isReady() {
      const snapshots = pool.snapshots();
      const enabled = pool.config().servers.filter((server) => server.enabled);
      return enabled.length === 0 || snapshots.some((snapshot) => snapshot.ready);
    },
    async stop() {
      context.parked.clear();
      credentials.close();
      await pool.stop();
      await Promise.allSettled([store.close(), bus.close()]);
    },
  };
}

/** The upstreams an endpoint context reads: the gateway's pool, or a test's stand-in. */
export type EndpointPool = Pick<
  UpstreamPool,
  'catalog' | 'server' | 'client' | 'snapshot' | 'refreshIfStale' | 'config'
>;

/** What {@link createEndpointContext} takes beyond the pool: the shared parts and the host's settings. */
export type EndpointContextOptions = Pick<
  GatewayOptions,
  | 'logger'
  | 'fetchFor'
  | 'originPolicy'
  | 'maxBodyBytes'
  | 'callTimeoutMs'
  | 'serverInfo'
  | 'keepAliveMs'
  | 'metrics'
  | 'tracer'
  | 'hostName'
  | 'toolDiscovery'
> & {
  readonly tokens: SessionTokens;
  readonly store: SessionStore;
  readonly bus: NotificationBus;
  readonly access: () => AccessControl;
  readonly auditor: () => Auditor;
  readonly callers?: CallerIdentities;
  /** Default: no server takes users' own credentials. */
  readonly credentials?: UserCredentials;
  /** The host in the /tokens URLs of URL elicitations; else the request's Host. */
  readonly publicHost?: string | undefined;
};

/**
 * The endpoint's context over a pool of upstreams: the session gate, the routing decision over
 * the pool's current catalog and the eras its upstreams speak, and the settings with their defaults.
 */
export function createEndpointContext(pool: EndpointPool, options: EndpointContextOptions): EndpointContext {
  const { tokens, store, bus, logger } = options;
  const callers = options.callers ?? createCallerIdentities();
  const toolDiscovery = options.toolDiscovery ?? DEFAULT_DISCOVERY;
  // The meta-tools a config's servers get, made once per config.
  const offered = new WeakMap<readonly ServerConfig[], OfferedMetaTools>();
  const metaTools = (): OfferedMetaTools => {
    const servers = pool.config().servers;
    let tools = offered.get(servers);
    if (tools === undefined) {
      const list = offeredMetaTools(toolDiscovery, servers);
      tools = { tools: list, names: metaToolNames(list) };
      offered.set(servers, tools);
    }
    return tools;
  };
  const routeContext = (): RouteContext => ({
    catalog: pool.catalog(),
    metaToolNames: metaTools().names,
    serverOf: (name) => pool.server(name),
    upstreamEra: (server, clientEra) => upstreamEraFor(pool.snapshot(server.name), clientEra),
  });
  return {
    upstreams: directoryOf(pool),
    store,
    bus,
    tokens,
    callers,
    logger,
    gate: createSessionGate({ tokens, store, callers, logger }),
    routeContext,
    access: options.access,
    auditor: options.auditor,
    metrics: options.metrics ?? NO_METRICS,
    tracer: options.tracer ?? NO_TRACER,
    span: NO_SPAN,
    hostName: options.hostName ?? 'broker',
    refreshIfStale: () => pool.refreshIfStale(),
    fetchFor: options.fetchFor ?? (() => fetch),
    callTimeoutMs: options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
    modernCalls: new Map(),
    parked: createParkedCalls(),
    originPolicy: options.originPolicy ?? { allowedOrigins: [], allowedHosts: [] },
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    serverInfo: options.serverInfo ?? DEFAULT_SERVER_INFO,
    keepAliveMs: options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS,
    toolDiscovery,
    metaTools: () => metaTools().tools,
    credentials: options.credentials ?? NO_USER_CREDENTIALS,
    publicHost: options.publicHost,
    confirmationTimeoutSeconds: () =>
      pool.config().confirmation?.timeoutSeconds ?? DEFAULT_CONFIRMATION_TIMEOUT_SECONDS,
  };
}

interface OfferedMetaTools {
  readonly tools: readonly JsonObject[];
  readonly names: ReadonlySet<string>;
}

/** The pool as calls see it. */
function directoryOf(pool: EndpointPool): UpstreamDirectory {
  return {
    catalog: () => pool.catalog(),
    server: (name) => pool.server(name),
    client: (name) => pool.client(name),
    sessionVersion: (name) => legacyVersionOf(pool.snapshot(name)),
  };
}
