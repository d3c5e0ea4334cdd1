import { buildCatalog, diffCatalogs, type Catalog } from '../catalog/catalog.ts';
import { checkPrompt, checkTool } from '../catalog/schema-check.ts';
import type { GatewayConfig, ServerConfig } from '../config/schema.ts';
import { EMPTY_CONFIG } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { NotificationBus } from '../store/notification-bus.ts';
import type { SessionStore } from '../store/session-store.ts';
import { createUpstreamClient, type UpstreamClient } from '../upstream/upstream-client.ts';
import { createUpstreamManager, type UpstreamManager } from '../upstream/upstream-manager.ts';
import type { UpstreamSnapshot } from '../upstream/types.ts';
import { createPinGate, type PinGate, type PinView } from './pin-gate.ts';

/**
 * Topic on which a pin approval made outside the config (the CLI) is announced, with the
 * server's name as `server`: every replica decides that server's pins again.
 */
export const PINS_TOPIC = 'gateway/pins';

/** Background discovery: how often a pinned server's latest listing is decided again (the health interval's default). */
const DEFAULT_PIN_RECHECK_MS = 60_000;

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
  /** Where pinned servers' pins live (docs/configuration.md#pinned-tool-definitions); none: pinning is off. */
  pinStore?: SessionStore;
  /** Where approvals made elsewhere are announced (PINS_TOPIC). */
  bus?: NotificationBus;
  /** Background discovery: how often a pinned server whose pin store failed is tried again; default 5 000 ms. */
  pinRetryMs?: number;
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
  /** Latest snapshot of one server (for a pinned server, with its tools as gated). */
  snapshot(name: string): UpstreamSnapshot | undefined;
  /** What a pinned server's gate decided; undefined for an unpinned server or before its first listing. */
  pins(name: string): PinView | undefined;
  /**
   * On-demand discovery: refreshes stale upstreams and resolves when the catalog is current; a
   * refresh another request started is waited for, so concurrent first requests see the tools.
   * Background discovery: undefined (nothing to wait for), so the hot path stays synchronous.
   */
  refreshIfStale(): Promise<void> | undefined;
  stop(): Promise<void>;
}

interface Member {
  server: ServerConfig;
  /** The pinned server's gate; undefined when it is not pinned. */
  readonly gate?: PinGate | undefined;
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
  const pinViews = new Map<string, PinView>();
  let config: GatewayConfig = EMPTY_CONFIG;
  let catalog: Catalog = buildCatalog([], snapshots);
  let rebuildQueued = false;
  /** Lists an upstream said changed since the last rebuild: clients hear of them even when identical. */
  let touched: CatalogChange = { tools: false, prompts: false, resources: false };
  const onDemand = options.discovery === 'on-demand';
  const maxAgeMs = options.maxSnapshotAgeMs ?? 30_000;

  function rebuild(): void {
    rebuildQueued = false;
    const withheld = new Map([...pinViews].map(([name, view]) => [name, view.withheld]));
    const next = buildCatalog(config.servers, snapshots, withheld);
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

  function pinGateFor(server: ServerConfig): PinGate | undefined {
    if (server.pinning === undefined || options.pinStore === undefined) return undefined;
    const gate: PinGate = createPinGate({
      server: server.name,
      pinning: server.pinning,
      store: options.pinStore,
      logger,
      ...(onDemand
        ? {}
        : { retryMs: options.pinRetryMs ?? 5_000, recheckMs: options.healthIntervalMs ?? DEFAULT_PIN_RECHECK_MS }),
      announce() {
        options.bus?.publish(PINS_TOPIC, { server: server.name }).catch((error: unknown) => {
          logger.warn('could not announce pin approvals', { server: server.name, error: String(error) });
        });
      },
      onGated(snapshot, view) {
        if (members.get(server.name)?.gate !== gate) return;
        snapshots.set(server.name, snapshot);
        if (view === undefined) pinViews.delete(server.name);
        else pinViews.set(server.name, view);
        scheduleRebuild();
      },
    });
    return gate;
  }

  const unsubscribe = options.bus?.subscribe(PINS_TOPIC, (message) => {
    const name = message['server'];
    if (typeof name === 'string') members.get(name)?.gate?.retry();
  });

  function add(server: ServerConfig): void {
    const client = createUpstreamClient({
      server,
      logger,
      ...(options.fetchFor === undefined ? {} : { fetch: options.fetchFor(server) }),
      ...(options.requestTimeoutMs === undefined ? {} : { timeoutMs: options.requestTimeoutMs }),
    });
    const gate = pinGateFor(server);
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
        if (gate !== undefined) {
          gate.offer(snapshot);
          return;
        }
        snapshots.set(server.name, snapshot);
        scheduleRebuild();
      },
      onListChanged(kinds) {
        if (members.get(server.name)?.manager !== manager) return;
        touched = {
          // A pinned server's tools are announced only when what is served changed (the catalogs' diff).
          tools: touched.tools || (gate === undefined && kinds.includes('tools')),
          prompts: touched.prompts || kinds.includes('prompts'),
          resources: touched.resources || kinds.includes('resources') || kinds.includes('resourceTemplates'),
        };
        scheduleRebuild();
      },
    });
    members.set(server.name, { server, client, manager, gate, refreshedAt: 0 });
    snapshots.set(server.name, manager.snapshot());
    manager.start();
  }

  function remove(name: string): void {
    const member = members.get(name);
    if (member === undefined) return;
    members.delete(name);
    snapshots.delete(name);
    pinViews.delete(name);
    member.gate?.stop();
    member.manager.stop().catch((error: unknown) => logger.warn('stopping upstream failed', { server: name, error }));
  }

  return {
    apply(next) {
      const wanted = new Map(next.servers.map((server) => [server.name, server]));
      for (const name of [...members.keys()]) {
        const current = members.get(name) as Member;
        const desired = wanted.get(name);
        if (desired === undefined || !sameServer(current.server, desired)) remove(name);
        else if (JSON.stringify(current.server.pinning) !== JSON.stringify(desired.pinning)) {
          current.server = desired;
          if (desired.pinning !== undefined) current.gate?.reconfigure(desired.pinning);
        }
      }
      config = next;
      for (const server of next.servers) if (!members.has(server.name)) add(server);
      scheduleRebuild();
    },
    config: () => config,
    catalog: () => catalog,
    snapshot: (name) => snapshots.get(name),
    pins: (name) => pinViews.get(name),
    refreshIfStale() {
      if (!onDemand) return undefined;
      const now = Date.now();
      const waits: Promise<void>[] = [];
      for (const member of members.values()) {
        if (!member.server.enabled) continue;
        if (member.refreshing === undefined && now - member.refreshedAt > maxAgeMs) {
          // A pinned server's listing counts once its pins are decided again (even when the listing
          // did not change: another isolate's approval, or a pin store that is back).
          const refreshing = member.manager
            .refresh()
            .then(() => {
              member.gate?.retry();
              return member.gate?.settled();
            })
            .finally(() => {
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
      unsubscribe?.();
      for (const member of members.values()) member.gate?.stop();
      const stopping = [...members.values()].map((member) => member.manager.stop());
      members.clear();
      await Promise.allSettled(stopping);
    },
  };
}

/** Same server but for its pinning approvals and policy, which apply without reconnecting. */
function sameServer(a: ServerConfig, b: ServerConfig): boolean {
  const pinned = (server: ServerConfig) => ({ ...server, pinning: server.pinning !== undefined });
  return JSON.stringify(pinned(a)) === JSON.stringify(pinned(b));
}
