import { diffPinnedDefinitions } from '../catalog/pin-diff.ts';
import { decidePins, digestToolDefinition, type PinDecision } from '../catalog/tool-pins.ts';
import type { PinChangePolicy, PinningConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { PinChange } from '../store/pin-record.ts';
import type { SessionStore } from '../store/session-store.ts';
import type { UpstreamSnapshot } from '../upstream/types.ts';

/** Most attempts at writing a pin record another replica keeps changing under us. */
const MAX_WRITE_ATTEMPTS = 5;
/** The diff's name of an approved definition known only by its digest. */
const UNKNOWN_APPROVED_LABEL = 'approved: only its digest is known, from pinning.pinned';

/** A quarantined tool as /status shows it (docs/configuration.md#pinned-tool-definitions). */
export interface PinQuarantineStatus {
  readonly tool: string;
  readonly change: PinChange;
  readonly renamedFrom?: string;
  readonly approvedDigest?: string;
  readonly currentDigest: string;
  /**
   * True when only the approved digest is known (seeded from `pinning.pinned`, the store empty):
   * there is no approved definition to serve, so the tool is withheld whatever `onChange` says,
   * and the diff shows the current definition alone.
   */
  readonly approvedDefinitionUnknown?: true;
  /** Unified diff of the approved and current definitions (at most 8 KiB). */
  readonly diff: string;
}

/** What a pinned server's gate decided for the latest listing. */
export interface PinView {
  readonly onChange: PinChangePolicy;
  /** How many approved definitions the server's record holds. */
  readonly pinned: number;
  /** The approved digest of each pinned tool by upstream name; absent when the store could not be read. */
  readonly digests?: Readonly<Record<string, string>>;
  /** False when the pin store could not be read or written: none of the server's tools is served. */
  readonly storeAvailable: boolean;
  readonly quarantined: readonly PinQuarantineStatus[];
  /** Listed tools not served, by upstream name, and why. */
  readonly withheld: ReadonlyMap<string, 'quarantined' | 'pinStoreUnavailable'>;
}

/** Options of `createPinGate`. */
export interface PinGateOptions {
  readonly server: string;
  readonly pinning: PinningConfig;
  readonly store: SessionStore;
  readonly logger: Logger;
  /** Called with the snapshot to serve (its tools gated) and the view, after each decision. */
  readonly onGated: (snapshot: UpstreamSnapshot, view: PinView | undefined) => void;
  /**
   * Called after this gate wrote approvals (config `approve`) to the store, so that the other
   * replicas decide again (the pool publishes on PINS_TOPIC).
   */
  readonly announce?: () => void;
  /** While the store is unavailable, how often to try again; undefined: only when offered or retried. */
  readonly retryMs?: number;
  /**
   * How often to decide the latest listing again even when nothing new was listed (a store that
   * went away is noticed, a missed announcement caught up); undefined: never.
   */
  readonly recheckMs?: number;
}

/** Checks one pinned server's listings against its pins in the store, one listing at a time. */
export interface PinGate {
  /** Decides on `snapshot` (the latest wins when several arrive while one is decided). */
  offer(snapshot: UpstreamSnapshot): void;
  /** New approvals or policy (a config reload): decides again on the latest listing. */
  reconfigure(pinning: PinningConfig): void;
  /** Decides again on the latest listing (another replica approved, or the store came back). */
  retry(): void;
  /** True while the store is unavailable (nothing of the server is served). */
  failed(): boolean;
  /** Resolves when every listing offered so far has been decided. */
  settled(): Promise<void>;
  stop(): void;
}

/**
 * Creates the gate of one pinned server. Each ready listing is digested and decided against the
 * record in the store (`decidePins`); a record the decision changed is written by compare and
 * set, and a lost race is decided again over the winner's record. When the store cannot be read
 * or written, the gate fails closed: the snapshot is published with no tools.
 */
export function createPinGate(options: PinGateOptions): PinGate {
  const { server, store, logger } = options;
  let pinning = options.pinning;
  let latest: UpstreamSnapshot | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let unavailable = false;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const warned = new Set<string>();
  const recheck =
    options.recheckMs === undefined
      ? undefined
      : setInterval(() => {
          if (!unavailable) run();
        }, options.recheckMs);

  async function decide(snapshot: UpstreamSnapshot): Promise<void> {
    if (!snapshot.ready) {
      options.onGated(snapshot, undefined);
      return;
    }
    const listed = await Promise.all(
      snapshot.tools.map(async (tool) => ({ tool, digest: await digestToolDefinition(tool) })),
    );
    let decision: PinDecision | undefined;
    try {
      for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS && decision === undefined; attempt++) {
        const record = await store.readPins(server);
        const next = decidePins(record, listed, pinning.onChange, new Set(pinning.approve), pinning.pinned);
        if (next.write === undefined || (await store.writePins(server, next.write))) decision = next;
      }
      if (decision === undefined) throw new Error(`the pin record kept changing over ${MAX_WRITE_ATTEMPTS} attempts`);
    } catch (error) {
      failClosed(snapshot, error);
      return;
    }
    unavailable = false;
    if (decision.write !== undefined && decision.approved.length > 0) options.announce?.();
    for (const entry of decision.quarantined) {
      const key = `${entry.tool}\u0000${entry.currentDigest}`;
      if (warned.has(key)) continue;
      warned.add(key);
      logger.warn('tool definition quarantined', {
        server,
        tool: entry.tool,
        change: entry.change,
        ...(entry.renamedFrom === undefined ? {} : { renamedFrom: entry.renamedFrom }),
        approvedDigest: entry.approvedDigest,
        currentDigest: entry.currentDigest,
      });
    }
    const quarantined = decision.quarantined.map(({ approved, definition, ...entry }) => {
      const unknown = entry.approvedDigest !== undefined && approved === undefined;
      return {
        ...entry,
        ...(unknown ? { approvedDefinitionUnknown: true as const } : {}),
        diff: diffPinnedDefinitions(entry.tool, approved, definition, unknown ? UNKNOWN_APPROVED_LABEL : undefined),
      };
    });
    options.onGated(
      { ...snapshot, tools: decision.served },
      {
        onChange: pinning.onChange,
        pinned: decision.pinned,
        digests: decision.digests,
        storeAvailable: true,
        quarantined,
        withheld: new Map(decision.withheld.map((name) => [name, 'quarantined'])),
      },
    );
  }

  function failClosed(snapshot: UpstreamSnapshot, error: unknown): void {
    if (!unavailable) logger.warn('pin store unavailable: the server is not served', { server, error: String(error) });
    unavailable = true;
    options.onGated(
      { ...snapshot, tools: [] },
      {
        onChange: pinning.onChange,
        pinned: 0,
        storeAvailable: false,
        quarantined: [],
        withheld: new Map(snapshot.tools.map((tool) => [tool.name, 'pinStoreUnavailable'])),
      },
    );
    if (options.retryMs !== undefined && !stopped && timer === undefined) {
      timer = setTimeout(() => {
        timer = undefined;
        if (unavailable) run();
      }, options.retryMs);
    }
  }

  function run(): void {
    if (stopped || latest === undefined) return;
    if (running !== undefined) {
      again = true;
      return;
    }
    const snapshot = latest;
    running = decide(snapshot)
      .catch((error: unknown) => logger.error('pin check failed', { server, error: String(error) }))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          run();
        }
      });
  }

  return {
    offer(snapshot) {
      latest = snapshot;
      run();
    },
    reconfigure(next) {
      pinning = next;
      run();
    },
    retry: run,
    failed: () => unavailable,
    async settled() {
      while (running !== undefined) await running;
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      if (recheck !== undefined) clearInterval(recheck);
    },
  };
}
