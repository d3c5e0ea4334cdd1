import { buildCatalog, diffCatalogs, type Catalog } from '../catalog/catalog.ts';
import { checkPrompt, checkTool } from '../catalog/schema-check.ts';
import type { GatewayConfig, ServerConfig } from '../config/schema.ts';
import { EMPTY_CONFIG } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import { createUpstreamClient, type UpstreamClient } from '../upstream/upstream-client.ts';
import { createUpstreamManager, type UpstreamManager } from '../upstream/upstream-manager.ts';
import type { UpstreamSnapshot } from '../upstream/types.ts';

/** Which lists changed when the catalog was rebuilt. */
export interface CatalogChange {
  readonly tools: boolean;
  readonly prompts: boolean;
  readonly resources: boolean;
}

/** Options of `createUpstreamPool`. */
export interface UpstreamPoolOptions {
  logger: Logger;
  /** The fetch for one upstream (TLS trust per server on Node); default globalThis.fetch. */
  fetchFor?: (server: ServerConfig) => typeof fetch;
  /** Health check and re-list interval per upstream; default 60 000 ms. */
  healthIntervalMs?: number;
  /** Timeout of each request the gateway makes for itself; default 30 000 ms. */
  requestTimeoutMs?: number;
  /** Called after every catalog swap that changed a list. */
  onCatalogChange?: (change: CatalogChange, catalog: Catalog) => void;
  /**
   * 'background' (default): upstreams are connected, watched and checked on timers.
   * 'on-demand': upstreams are listed inside requests when their snapshot is older than
   * `maxSnapshotAgeMs` (workerd, where I/O belongs to the request that started it).
   */
  discovery?: 'background' | 'on-demand';
  /** On-demand discovery: how old a snapshot may be before a request refreshes it; default 30 s. */
  maxSnapshotAgeMs?: number;
}

/** The set of upstreams of the current config, their managers and the catalog built from them. */
export interface UpstreamPool {
  /** Applies a new config: unchanged servers keep their connection; changed ones reconnect. */
  apply(config: GatewayConfig): void;
  config(): GatewayConfig;
  catalog(): Catalog;
  server(name: string): ServerConfig | undefined;
  client(name: string): UpstreamClient | undefined;
  /** Latest snapshot per configured server, in config order. */
  snapshots(): UpstreamSnapshot[];
  /** Latest snapshot of one server. */
  snapshot(name: string): UpstreamSnapshot | undefined;
  /**
   * On-demand discovery: refreshes stale upstreams and resolves when the catalog is current; a
   * refresh another request started is waited for, so concurrent first requests see the tools.
   * Background discovery: undefined (nothing to wait for), so the hot path stays synchronous.
   */
  refreshIfStale(): Promise<void> | undefined;
  stop(): Promise<void>;
}

interface Member {
  readonly server: ServerConfig;
  readonly client: UpstreamClient;
  readonly manager: UpstreamManager;
  /** When the last on-demand refresh finished (0: never). */
  refreshedAt: number;
  /** The on-demand refresh under way, which concurrent requests wait for rather than skip. */
  refreshing?: Promise<void> | undefined;
}

/**
 * Creates the pool. Every snapshot a manager publishes rebuilds the catalog (coalesced per
 * microtask) and swaps it atomically; list changes are reported through `onCatalogChange`.
 */
export function createUpstreamPool(options: UpstreamPoolOptions): UpstreamPool {
  const { logger } = options;
  const members = new Map<string, Member>();
  const snapshots = new Map<string, UpstreamSnapshot>();
  let config: GatewayConfig = EMPTY_CONFIG;
  let catalog: Catalog = buildCatalog([], snapshots);
  let rebuildQueued = false;
  /** Lists an upstream said changed since the last rebuild: clients hear of them even when identical. */
  let touched: CatalogChange = { tools: false, prompts: false, resources: false };
  const onDemand = options.discovery === 'on-demand';
  const maxAgeMs = options.maxSnapshotAgeMs ?? 30_000;

  function rebuild(): void {
    rebuildQueued = false;
    const next = buildCatalog(config.servers, snapshots);
    const diff = diffCatalogs(catalog, next);
    const change = {
      tools: diff.tools || touched.tools,
      prompts: diff.prompts || touched.prompts,
      resources: diff.resources || touched.resources,
    };
    touched = { tools: false, prompts: false, resources: false };
    catalog = next;
    if (change.tools || change.prompts || change.resources) options.onCatalogChange?.(change, next);
  }

  function scheduleRebuild(): void {
    if (rebuildQueued) return;
    rebuildQueued = true;
    queueMicrotask(rebuild);
  }

  function add(server: ServerConfig): void {
    const client = createUpstreamClient({
      server,
      logger,
      ...(options.fetchFor === undefined ? {} : { fetch: options.fetchFor(server) }),
      ...(options.requestTimeoutMs === undefined ? {} : { timeoutMs: options.requestTimeoutMs }),
    });
    const manager = createUpstreamManager({
      server,
      client,
      logger,
      validateTool: checkTool,
      validatePrompt: checkPrompt,
      ...(options.healthIntervalMs === undefined ? {} : { healthIntervalMs: options.healthIntervalMs }),
      mode: onDemand ? 'on-demand' : 'background',
      onSnapshot(snapshot) {
        if (members.get(server.name)?.manager !== manager) return;
        snapshots.set(server.name, snapshot);
        scheduleRebuild();
      },
      onListChanged(kinds) {
        if (members.get(server.name)?.manager !== manager) return;
        touched = {
          tools: touched.tools || kinds.includes('tools'),
          prompts: touched.prompts || kinds.includes('prompts'),
          resources: touched.resources || kinds.includes('resources') || kinds.includes('resourceTemplates'),
        };
        scheduleRebuild();
      },
    });
    members.set(server.name, { server, client, manager, refreshedAt: 0 });
    snapshots.set(server.name, manager.snapshot());
    manager.start();
  }

  function remove(name: string): void {
    const member = members.get(name);
    if (member === undefined) return;
    members.delete(name);
    snapshots.delete(name);
    member.manager.stop().catch((error: unknown) => logger.warn('stopping upstream failed', { server: name, error }));
  }

  return {
    apply(next) {
      const wanted = new Map(next.servers.map((server) => [server.name, server]));
      for (const name of [...members.keys()]) {
        const current = members.get(name) as Member;
        const desired = wanted.get(name);
        if (desired === undefined || !sameServer(current.server, desired)) remove(name);
      }
      config = next;
      for (const server of next.servers) if (!members.has(server.name)) add(server);
      scheduleRebuild();
    },
    config: () => config,
    catalog: () => catalog,
    snapshot: (name) => snapshots.get(name),
    refreshIfStale() {
      if (!onDemand) return undefined;
      const now = Date.now();
      const waits: Promise<void>[] = [];
      for (const member of members.values()) {
        if (!member.server.enabled) continue;
        if (member.refreshing === undefined && now - member.refreshedAt > maxAgeMs) {
          const refreshing = member.manager.refresh().finally(() => {
            member.refreshedAt = Date.now();
            member.refreshing = undefined;
          });
          member.refreshing = refreshing;
        }
        if (member.refreshing !== undefined) waits.push(member.refreshing);
      }
      if (waits.length === 0) return undefined;
      return Promise.all(waits).then(() => {
        if (rebuildQueued) rebuild();
      });
    },
    server: (name) => members.get(name)?.server,
    client: (name) => members.get(name)?.client,
    snapshots() {
      return config.servers.flatMap((server) => {
        const snapshot = snapshots.get(server.name);
        return snapshot === undefined ? [] : [snapshot];
      });
    },
    async stop() {
      const stopping = [...members.values()].map((member) => member.manager.stop());
      members.clear();
      await Promise.allSettled(stopping);
    },
  };
}

function sameServer(a: ServerConfig, b: ServerConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
