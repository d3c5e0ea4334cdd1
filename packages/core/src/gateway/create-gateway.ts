import type { Catalog } from '../catalog/catalog.ts';
import type { GatewayConfig, ServerConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import { LATEST_LEGACY_PROTOCOL_VERSION } from '../protocol/versions.ts';
import type { HmacSha256Factory } from '../session/hmac-sha256.ts';
import { createSessionTokens, type SessionTokens } from '../session/session-token.ts';
import { buildStatusReport, type ServerStatus, type StatusReport } from '../status/status-report.ts';
import { createMemorySessionStore } from '../store/memory-session-store.ts';
import { BROADCAST_TOPIC, createMemoryNotificationBus, type NotificationBus } from '../store/notification-bus.ts';
import type { SessionStore } from '../store/session-store.ts';
import type { UpstreamClient } from '../upstream/upstream-client.ts';
import type { CatalogChange } from './upstream-pool.ts';
import { createUpstreamPool } from './upstream-pool.ts';
import { createMcpEndpoint, type McpEndpoint } from './mcp-endpoint.ts';
import type { OriginPolicy } from './origin-policy.ts';

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
  serverInfo?: { name: string; version: string };
}

/**
 * The broker's shared state, as a processor in the same process (the Envoy ext_proc router)
 * routes with it: the same catalog, upstream clients, session tokens and store, so a session
 * the broker opened is valid for the router and a backend session either opens is reused by both.
 */
export interface GatewayRouting {
  /** The current catalog (swapped atomically on every change, config reloads included). */
  catalog(): Catalog;
  /** The configured server of that name; undefined once a reload removed it. */
  server(name: string): ServerConfig | undefined;
  /** The server's upstream client (its fetch carries the server's TLS trust); undefined as above. */
  client(name: string): UpstreamClient | undefined;
  /** The protocol version the upstream speaks, as its last discovery found; undefined before one. */
  protocolVersion(name: string): string | undefined;
  readonly tokens: SessionTokens;
  readonly store: SessionStore;
  /** Where new backend sessions are announced (see ensureBackendSession). */
  readonly bus: NotificationBus;
}

/** A running gateway: the MCP endpoint plus what the other endpoints report. */
export interface Gateway {
  readonly endpoint: McpEndpoint;
  /** The state a co-located router shares with the broker; the same object on every call. */
  routing(): GatewayRouting;
  /** Applies a new config without restart; clients are told the lists may have changed. */
  applyConfig(config: GatewayConfig): void;
  status(): StatusReport;
  serverStatus(name: string): ServerStatus | undefined;
  /** False while servers are configured and none is ready (GET /readyz → 503). */
  isReady(): boolean;
  stop(): Promise<void>;
}

/**
 * Creates the gateway on web-standard APIs only: connects the configured upstreams, keeps the
 * catalog current, and serves the MCP endpoint. Hosts (Node, workerd) add HTTP routing around it.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const { logger } = options;
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
    ...(options.discovery === undefined ? {} : { discovery: options.discovery }),
  });
  pool.apply(options.config);
  const endpoint = createMcpEndpoint({
    pool,
    tokens,
    store,
    bus,
    logger,
    originPolicy: options.originPolicy ?? { allowedOrigins: [], allowedHosts: [] },
    fetchFor: options.fetchFor ?? (() => fetch),
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
    ...(options.callTimeoutMs === undefined ? {} : { callTimeoutMs: options.callTimeoutMs }),
    ...(options.serverInfo === undefined ? {} : { serverInfo: options.serverInfo }),
  });
  const routing: GatewayRouting = {
    catalog: () => pool.catalog(),
    server: (name) => pool.server(name),
    client: (name) => pool.client(name),
    protocolVersion: (name) => pool.snapshot(name)?.protocolVersion,
    tokens,
    store,
    bus,
  };
  const status = () =>
    buildStatusReport(pool.config().servers, pool.snapshots(), pool.catalog(), LATEST_LEGACY_PROTOCOL_VERSION);

  return {
    endpoint,
    routing: () => routing,
    applyConfig(config) {
      pool.apply(config);
      logger.info('config applied', { servers: config.servers.length });
      notify({ tools: true, prompts: true, resources: true });
    },
    status,
    serverStatus: (name) => status().servers.find((server) => server.name === name),
    isReady() {
      const snapshots = pool.snapshots();
      const enabled = pool.config().servers.filter((server) => server.enabled);
      return enabled.length === 0 || snapshots.some((snapshot) => snapshot.ready);
    },
    async stop() {
      await pool.stop();
      await Promise.allSettled([store.close(), bus.close()]);
    },
  };
}
