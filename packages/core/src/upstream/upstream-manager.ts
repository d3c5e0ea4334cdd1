import type { ServerConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import { computeBackoff } from './backoff.ts';
import { watchUpstreamNotifications } from './notification-watcher.ts';
import type { JsonObject, ListCacheHint, UpstreamItems, UpstreamSnapshot } from './types.ts';
import { createUpstreamClient, type UpstreamClient } from './upstream-client.ts';
import type { UpstreamSession } from './types.ts';
import { isUpstreamSessionExpiredError } from './upstream-errors.ts';
import { describeFailure, listKind, pingUpstream } from './upstream-health.ts';
import type { UpstreamListKind } from './upstream-list.ts';
import { isUnsupportedProtocolError } from './upstream-protocol.ts';
import {
  EMPTY_ITEMS,
  isVisibleChange,
  keepResources,
  keepResourceTemplates,
  partitionItems,
  readyMessage,
  type ItemValidator,
} from './upstream-snapshot.ts';

/** Default interval of the health check (ping and re-list). */
export const DEFAULT_HEALTH_INTERVAL_MS = 60_000;

/** Consecutive failures after which a server's cached items are withdrawn. */
export const MAX_CONSECUTIVE_FAILURES = 3;

/** Longest wait for the DELETE that ends an abandoned or stopped upstream session. */
const CLOSE_TIMEOUT_MS = 5_000;

/** Options of {@link createUpstreamManager}. */
export interface UpstreamManagerOptions {
  readonly server: ServerConfig;
  /** Defaults to a client created from `server` and `logger`. */
  readonly client?: UpstreamClient;
  /** Health check and re-list interval; also the cap of the failure backoff. Defaults to 60 000 ms. */
  readonly healthIntervalMs?: number;
  /** Returns what is wrong with a listed tool; default accepts every tool with a name. */
  readonly validateTool?: ItemValidator;
  /** Returns what is wrong with a listed prompt; default accepts every prompt with a name. */
  readonly validatePrompt?: ItemValidator;
  /** Receives every snapshot that differs visibly from the previous one. */
  readonly onSnapshot: (snapshot: UpstreamSnapshot) => void;
  /**
   * Called after the lists an upstream's list_changed named were re-read, changed or not (the
   * notification means "may have changed": clients are told in turn).
   */
  readonly onListChanged?: (kinds: readonly UpstreamListKind[]) => void;
  readonly logger: Logger;
  /** Randomness for the ±10% backoff jitter, in [0, 1). Defaults to Math.random. */
  readonly random?: () => number;
  /**
   * 'background' (default): connect at start, watch list_changed, check on a timer.
   * 'on-demand': no timers and no watch stream; work happens only in `refresh()`, inside the
   * caller's request (workerd binds I/O to the request that started it).
   */
  readonly mode?: 'background' | 'on-demand';
}

/** Keeps one upstream's tools, prompts and resources current and reports its health. */
export interface UpstreamManager {
  /** Connects, lists and starts watching (no-op when already started or stopped). */
  start(): void;
  /** Aborts streams and timers, closes the upstream session and resolves when quiet. */
  stop(): Promise<void>;
  /** The latest state, published or not (it also carries the live failure counter). */
  snapshot(): UpstreamSnapshot;
  /** Runs a health check and full re-list now; resolves when it is done (never rejects). */
  refresh(): Promise<void>;
}

/**
 * Creates the manager of one upstream, after the anchor's MCPManager: connect, list (prompts
 * and resources only when declared), validate, publish; re-list on list_changed from the GET
 * stream; ping and re-list every `healthIntervalMs`, backing off 1 s ×2 ±10% on failure and
 * withdrawing the items after {@link MAX_CONSECUTIVE_FAILURES} failures. An expired session is
 * re-initialized at once; an upstream speaking an unsupported protocol is reported at once and
 * retried at the health interval. Work is serialized: one step at a time.
 * @see MCP 2025-11-25 basic/lifecycle, basic/utilities/ping, server/tools §List Changed Notification
 */
export function createUpstreamManager(options: UpstreamManagerOptions): UpstreamManager {
  const { server } = options;
  const logger = options.logger.child({ server: server.name });
  const client = options.client ?? createUpstreamClient({ server, logger: options.logger });
  const healthIntervalMs = options.healthIntervalMs ?? DEFAULT_HEALTH_INTERVAL_MS;
  const background = (options.mode ?? 'background') === 'background';
  const lifetime = new AbortController();
  /**
   * The signal of the running step's I/O. Background: the manager's lifetime. On-demand: one made
   * by `refresh()` in its caller's request, because workerd binds an AbortSignal to the request
   * that created it and refuses it in any later one.
   */
  let signal = lifetime.signal;
  let step: AbortController | undefined;

  let session: UpstreamSession | undefined;
  let items: UpstreamItems = EMPTY_ITEMS;
  let ready = false;
  let message = 'connecting';
  let protocolVersion: string | undefined;
  let supportedVersions: readonly string[] | undefined;
  let capabilities: JsonObject = {};
  let lastValidated: string | undefined;
  let listCache: Partial<Record<UpstreamListKind, ListCacheHint>> = {};
  let failures = 0;
  let failureReason: string | undefined;
  let current = buildSnapshot();
  let published = current;

  let started = false;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let queue: Promise<void> = Promise.resolve();
  const pendingKinds = new Set<UpstreamListKind>();
  let watch: { session: UpstreamSession; abort: AbortController; done: Promise<void> } | undefined;
  const closing = new Set<Promise<void>>();

  function buildSnapshot(): UpstreamSnapshot {
    return {
      server: server.name,
      ready,
      message,
      ...(protocolVersion === undefined ? {} : { protocolVersion }),
      ...(supportedVersions === undefined ? {} : { supportedVersions }),
      capabilities,
      ...items,
      ...(lastValidated === undefined ? {} : { lastValidated }),
      ...(Object.keys(listCache).length === 0 ? {} : { listCache }),
      consecutiveFailures: failures,
    };
  }

  function publish(): void {
    current = buildSnapshot();
    if (!isVisibleChange(published, current)) return;
    published = current;
    try {
      options.onSnapshot(current);
    } catch (error) {
      logger.error('snapshot listener failed', { error: error instanceof Error ? error.message : String(error) });
    }
  }

  /** Runs `step` after every earlier step; never rejects. */
  function serial(step: () => Promise<void>): Promise<void> {
    const run = queue.then(async () => {
      if (!stopped) await step();
    });
    queue = run.catch((error: unknown) => {
      logger.error('upstream manager step failed', { error: error instanceof Error ? error.message : String(error) });
    });
    return queue;
  }

  function schedule(delayMs: number): void {
    clearTimeout(timer);
    if (!stopped && background) timer = setTimeout(() => void serial(check), delayMs);
  }

  async function check(): Promise<void> {
    clearTimeout(timer);
    try {
      await connectAndList();
      if (stopped) return;
      failures = 0;
      failureReason = undefined;
      ready = true;
      message = readyMessage(items, capabilities);
      publish();
      if (background) ensureWatching();
      schedule(healthIntervalMs);
    } catch (error) {
      if (!stopped) recordFailure(error);
    }
  }

  async function connectAndList(): Promise<void> {
    if (session !== undefined) {
      try {
        await pingUpstream(client, session, signal);
        await listEverything(session);
        return;
      } catch (error) {
        if (!isUpstreamSessionExpiredError(error)) throw error;
        logger.info('upstream session expired; initializing a new one');
        dropSession(false);
      }
    }
    const fresh = await client.connect({ signal });
    if (stopped) {
      track(client.close(fresh, { signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) }));
      return;
    }
    session = fresh;
    protocolVersion = fresh.protocolVersion;
    supportedVersions = fresh.supportedVersions;
    capabilities = fresh.capabilities;
    await listEverything(fresh);
  }

  async function listEverything(live: UpstreamSession): Promise<void> {
    const kinds: UpstreamListKind[] = ['tools', 'prompts', 'resources', 'resourceTemplates'];
    const lists = await Promise.all(kinds.map((kind) => listIfOffered(live, kind)));
    applyLists(new Map(kinds.map((kind, i) => [kind, lists[i] ?? []])));
  }

  function listIfOffered(live: UpstreamSession, kind: UpstreamListKind): Promise<JsonObject[]> {
    const declared =
      kind === 'tools' ||
      (kind === 'prompts' ? live.capabilities['prompts'] : live.capabilities['resources']) !== undefined;
    const onHint = (hint: ListCacheHint) => {
      listCache = { ...listCache, [kind]: hint };
    };
    return declared ? listKind(client, live, kind, signal, logger, onHint) : Promise.resolve([]);
  }

  function applyLists(lists: ReadonlyMap<UpstreamListKind, readonly JsonObject[]>): void {
    const next = { ...items };
    const tools = lists.get('tools');
    if (tools !== undefined) {
      const { valid, invalid } = partitionItems<UpstreamItems['tools'][number]>(tools, options.validateTool);
      Object.assign(next, { tools: valid, invalidTools: invalid });
    }
    const prompts = lists.get('prompts');
    if (prompts !== undefined) {
      const { valid, invalid } = partitionItems<UpstreamItems['prompts'][number]>(prompts, options.validatePrompt);
      Object.assign(next, { prompts: valid, invalidPrompts: invalid });
    }
    const resources = lists.get('resources');
    if (resources !== undefined) next.resources = keepResources(resources);
    const templates = lists.get('resourceTemplates');
    if (templates !== undefined) next.resourceTemplates = keepResourceTemplates(templates);
    items = next;
    lastValidated = new Date().toISOString();
  }

  function recordFailure(error: unknown): void {
    failures += 1;
    const reason = describeFailure(error);
    logger.warn('upstream check failed', { reason, consecutiveFailures: failures });
    if (isUnsupportedProtocolError(error)) {
      protocolVersion = undefined;
      supportedVersions = undefined;
      capabilities = {};
      withdraw(reason, reason);
      schedule(healthIntervalMs);
      return;
    }
    if (!(ready && failures < MAX_CONSECUTIVE_FAILURES)) {
      // Cached items are kept through transient failures of a ready server; otherwise withdraw.
      withdraw(reason, ready ? `${reason} (${failures} consecutive failures)` : reason);
    }
    current = buildSnapshot();
    schedule(
      computeBackoff(failures, {
        capMs: healthIntervalMs,
        jitter: 0.1,
        ...(options.random ? { random: options.random } : {}),
      }),
    );
  }

  function withdraw(reason: string, text: string): void {
    dropSession(true);
    if (!ready && failureReason === reason) return;
    failureReason = reason;
    ready = false;
    items = EMPTY_ITEMS;
    message = text;
    publish();
  }

  /** Forgets the session and its watcher; `close` ends it upstream (best effort, bounded, awaited by stop). */
  function dropSession(close: boolean): void {
    watch?.abort.abort();
    watch = undefined;
    if (session !== undefined && close) track(client.close(session, { signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) }));
    session = undefined;
  }

  function track(work: Promise<void>): void {
    closing.add(work);
    void work.finally(() => closing.delete(work));
  }

  function ensureWatching(): void {
    if (session === undefined || watch?.session === session) return;
    watch?.abort.abort();
    const abort = new AbortController();
    const watched = session;
    const done = watchUpstreamNotifications({
      client,
      session: watched,
      signal: AbortSignal.any([signal, abort.signal]),
      onListChanged: relistSoon,
      logger,
    });
    watch = { session: watched, abort, done };
    track(done);
  }

  function relistSoon(kinds: readonly UpstreamListKind[]): void {
    const queued = pendingKinds.size > 0;
    for (const kind of kinds) pendingKinds.add(kind);
    if (!queued) void serial(relistPending);
  }

  async function relistPending(): Promise<void> {
    const kinds = [...pendingKinds];
    pendingKinds.clear();
    const live = session;
    if (live === undefined || !ready) return;
    try {
      const lists = await Promise.all(kinds.map((kind) => listIfOffered(live, kind)));
      applyLists(new Map(kinds.map((kind, i) => [kind, lists[i] ?? []])));
      message = readyMessage(items, capabilities);
      publish();
      options.onListChanged?.(kinds);
    } catch (error) {
      if (stopped) return;
      logger.info('re-list after list_changed failed; checking the upstream now', { reason: describeFailure(error) });
      await check();
    }
  }

  return {
    start() {
      if (started || stopped) return;
      started = true;
      if (!server.enabled) {
        message = 'server is disabled';
        publish();
        return;
      }
      if (background) void serial(check);
    },

    async stop() {
      if (!stopped) {
        stopped = true;
        clearTimeout(timer);
        lifetime.abort(new Error('upstream manager stopped'));
        step?.abort(new Error('upstream manager stopped'));
        dropSession(true);
      }
      await queue;
      clearTimeout(timer);
      dropSession(true);
      while (closing.size > 0) await Promise.allSettled([...closing]);
    },

    snapshot: () => current,

    refresh() {
      if (!started || stopped || !server.enabled) return Promise.resolve();
      if (background) return serial(check);
      const own = new AbortController();
      return serial(async () => {
        step = own;
        signal = own.signal;
        try {
          await check();
        } finally {
          step = undefined;
          signal = lifetime.signal;
        }
      });
    },
  };
}
