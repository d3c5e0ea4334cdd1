import type { Catalog } from '../catalog/catalog.ts';
import type { PinChangePolicy, ServerConfig } from '../config/schema.ts';
import type { PinQuarantineStatus, PinView } from '../gateway/pin-gate.ts';
import type { InvalidItem, UpstreamSnapshot } from '../upstream/types.ts';

/** One server in GET /status (the anchor's shape, plus `prefix` and `conflicts`). */
export interface ServerStatus {
  id: string;
  name: string;
  prefix: string;
  lastValidated?: string;
  message: string;
  ready: boolean;
  totalTools: number;
  totalPrompts: number;
  invalidTools: number;
  invalidToolList?: readonly InvalidItem[];
  invalidPrompts: number;
  invalidPromptList?: readonly InvalidItem[];
  conflicts?: { tools: readonly string[]; prompts: readonly string[]; resources: readonly string[] };
  /** Overridden tools (`toolOverrides[].tool`) the upstream no longer lists. */
  unmatchedOverrides?: readonly string[];
  /** A pinned server's pins (docs/configuration.md#pinned-tool-definitions). */
  pinning?: PinningStatus;
  protocolValidation: { isValid: boolean; supportedVersion: string; expectedVersion: string };
}

/** A pinned server in GET /status: its policy, its pins, whether the store answers, the quarantine. */
export interface PinningStatus {
  onChange: PinChangePolicy;
  pinned: number;
  /**
   * The approved digest of each pinned tool by upstream name (at most 2 000, the record's bound),
   * what `pinning.pinned` takes to seed an empty store; absent until the first listing is decided
   * and while the store cannot be read.
   */
  digests?: Readonly<Record<string, string>>;
  storeAvailable: boolean;
  quarantined: readonly PinQuarantineStatus[];
}

/** GET /status (the anchor's shape). */
export interface StatusReport {
  servers: ServerStatus[];
  overallValid: boolean;
  totalServers: number;
  healthyServers: number;
  unHealthyServers: number;
  toolConflicts: number;
  timestamp: string;
}

/**
 * Builds the status report from the config, the latest snapshots (a pinned server's tools as
 * gated), the catalog's conflicts and what each pinned server's gate decided.
 */
export function buildStatusReport(
  servers: readonly ServerConfig[],
  snapshots: readonly UpstreamSnapshot[],
  catalog: Catalog,
  expectedVersion: string,
  pins: (server: string) => PinView | undefined = () => undefined,
): StatusReport {
  const bySnapshot = new Map(snapshots.map((s) => [s.server, s]));
  let toolConflicts = 0;
  const entries = servers.map((server): ServerStatus => {
    const snapshot = bySnapshot.get(server.name);
    const lost = catalog.conflicts.get(server.name);
    toolConflicts += lost?.tools.length ?? 0;
    const unmatched = catalog.unmatchedOverrides.get(server.name);
    const hidden = (server.toolOverrides ?? []).filter(
      (override) => override.hidden === true && !(unmatched ?? []).includes(override.tool),
    ).length;
    const servedTools = (snapshot?.tools.length ?? 0) - (lost?.tools.length ?? 0) - hidden;
    const servedPrompts = (snapshot?.prompts.length ?? 0) - (lost?.prompts.length ?? 0);
    let message = snapshot?.message ?? 'connecting';
    if (lost !== undefined && lost.tools.length + lost.prompts.length + lost.resources.length > 0) {
      const names = [...lost.tools, ...lost.prompts, ...lost.resources].join(', ');
      message += `. conflicting names not served (already served by an earlier server): [${names}]`;
    }
    if (unmatched !== undefined) {
      message += `. overrides of tools the server no longer lists: [${unmatched.join(', ')}]`;
    }
    const pinning =
      server.pinning === undefined ? undefined : pinningStatus(server.pinning.onChange, pins(server.name));
    if (pinning !== undefined && !pinning.storeAvailable) {
      message += '. pin store unavailable: no tool of this server is served';
    } else if (pinning !== undefined && pinning.quarantined.length > 0) {
      const changes = pinning.quarantined.map((entry) => `${entry.tool} (${entry.change})`).join(', ');
      message += `. tool definitions quarantined until approved: [${changes}]`;
    }
    const version = snapshot?.protocolVersion ?? '';
    const status: ServerStatus = {
      id: `${server.name}:${server.prefix}:${server.hostname}`,
      name: server.name,
      prefix: server.prefix,
      message,
      ready: snapshot?.ready ?? false,
      totalTools: snapshot?.ready ? servedTools : 0,
      totalPrompts: snapshot?.ready ? servedPrompts : 0,
      invalidTools: snapshot?.invalidTools.length ?? 0,
      invalidPrompts: snapshot?.invalidPrompts.length ?? 0,
      protocolValidation: { isValid: version !== '', supportedVersion: version, expectedVersion },
    };
    if (snapshot?.lastValidated !== undefined) status.lastValidated = snapshot.lastValidated;
    if (snapshot !== undefined && snapshot.invalidTools.length > 0) status.invalidToolList = snapshot.invalidTools;
    if (snapshot !== undefined && snapshot.invalidPrompts.length > 0)
      status.invalidPromptList = snapshot.invalidPrompts;
    if (lost !== undefined) status.conflicts = lost;
    if (unmatched !== undefined) status.unmatchedOverrides = unmatched;
    if (pinning !== undefined) status.pinning = pinning;
    return status;
  });
  const healthy = entries.filter((s) => s.ready).length;
  return {
    servers: entries,
    overallValid: entries.every((s) => s.ready) && toolConflicts === 0 && catalog.conflicts.size === 0,
    totalServers: entries.length,
    healthyServers: healthy,
    unHealthyServers: entries.length - healthy,
    toolConflicts,
    timestamp: new Date().toISOString(),
  };
}

/** A pinned server's status; before its first listing is decided, nothing pinned or quarantined yet. */
function pinningStatus(onChange: PinChangePolicy, view: PinView | undefined): PinningStatus {
  if (view === undefined) return { onChange, pinned: 0, storeAvailable: true, quarantined: [] };
  return {
    onChange: view.onChange,
    pinned: view.pinned,
    ...(view.digests === undefined ? {} : { digests: view.digests }),
    storeAvailable: view.storeAvailable,
    quarantined: view.quarantined,
  };
}
