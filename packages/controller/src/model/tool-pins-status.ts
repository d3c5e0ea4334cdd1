import type { Condition, McpServerRegistration, QuarantinedTool, ToolPinsStatus } from './api-types.ts';
import type { ConditionInput } from './conditions.ts';
import { APPROVED_DIGESTS_ANNOTATION, TOOLS_QUARANTINED } from '../names.ts';

/** The `pinning` object of one server in a gateway's GET /status, as far as the controller reads it. */
export interface GatewayPins {
  readonly onChange: string;
  readonly pinned: number;
  /** Approved digests by upstream tool name; absent when the gateway reports none (not decided yet, store down). */
  readonly digests?: Readonly<Record<string, string>>;
  readonly storeAvailable: boolean;
  readonly quarantined: readonly QuarantinedTool[];
}

/** Most quarantined changes kept in a registration's status. */
export const MAX_QUARANTINED_IN_STATUS = 32;
/** Longest diff kept in a registration's status, in characters (the marker comes on top). */
export const MAX_DIFF_IN_STATUS = 4096;
const DIFF_CUT_MARKER = '\n... (diff cut at 4 KiB; GET /status of the gateway has it whole)';
/** Most digests kept in a registration's status (the gateway's pin record bound). */
export const MAX_DIGESTS_IN_STATUS = 2000;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** Most tools named in the ToolsQuarantined condition's message. */
const MAX_TOOLS_IN_MESSAGE = 10;

/** Reasons of the ToolsQuarantined condition. */
export const TOOLS_QUARANTINED_REASONS = {
  quarantined: 'ToolsQuarantined',
  none: 'NoneQuarantined',
  storeUnavailable: 'PinStoreUnavailable',
} as const;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown, max: number): string | undefined =>
  typeof value === 'string' ? value.slice(0, max) : undefined;

/**
 * The pinned servers of a gateway's GET /status answer, by server name (`<namespace>/<name>`).
 * Servers without a well-formed `pinning` object are left out; anything else in the answer is
 * ignored. Returns undefined when the answer is not a status report at all.
 */
export function parseGatewayPins(answer: unknown): Map<string, GatewayPins> | undefined {
  if (!isRecord(answer) || !Array.isArray(answer['servers'])) return undefined;
  const pins = new Map<string, GatewayPins>();
  for (const server of answer['servers'] as unknown[]) {
    if (!isRecord(server) || typeof server['name'] !== 'string' || !isRecord(server['pinning'])) continue;
    const pinning = server['pinning'];
    const quarantined = Array.isArray(pinning['quarantined']) ? (pinning['quarantined'] as unknown[]) : [];
    const digests = toDigests(pinning['digests']);
    pins.set(server['name'], {
      onChange: text(pinning['onChange'], 32) ?? '',
      pinned: typeof pinning['pinned'] === 'number' && pinning['pinned'] >= 0 ? Math.floor(pinning['pinned']) : 0,
      ...(digests !== undefined ? { digests } : {}),
      storeAvailable: pinning['storeAvailable'] !== false,
      quarantined: quarantined.filter(isRecord).map(toQuarantinedTool),
    });
  }
  return pins;
}

/**
 * The report's digests, sorted by tool name: entries of another form are left out, at most
 * MAX_DIGESTS_IN_STATUS kept; undefined when the report has none.
 */
function toDigests(value: unknown): Record<string, string> | undefined {
  if (!isRecord(value)) return undefined;
  const entries = Object.entries(value)
    .filter((entry): entry is [string, string] => {
      const [tool, digest] = entry;
      return tool !== '' && tool.length <= 256 && typeof digest === 'string' && DIGEST.test(digest);
    })
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.slice(0, MAX_DIGESTS_IN_STATUS));
}

function toQuarantinedTool(entry: Record<string, unknown>): QuarantinedTool {
  const renamedFrom = text(entry['renamedFrom'], 256);
  const approvedDigest = text(entry['approvedDigest'], 80);
  const diff = typeof entry['diff'] === 'string' ? cutDiff(entry['diff']) : undefined;
  return {
    tool: text(entry['tool'], 256) ?? '',
    change: text(entry['change'], 32) ?? 'changed',
    ...(renamedFrom !== undefined ? { renamedFrom } : {}),
    ...(approvedDigest !== undefined ? { approvedDigest } : {}),
    ...(entry['approvedDefinitionUnknown'] === true ? { approvedDefinitionUnknown: true } : {}),
    currentDigest: text(entry['currentDigest'], 80) ?? '',
    ...(diff !== undefined ? { diff } : {}),
  };
}

function cutDiff(diff: string): string {
  return diff.length <= MAX_DIFF_IN_STATUS ? diff : diff.slice(0, MAX_DIFF_IN_STATUS) + DIFF_CUT_MARKER;
}

/**
 * A gateway's pins of one server as `status.toolPins`: at most 32 changes, each diff cut at 4 KiB.
 * A report without digests (the gateway has not decided a listing yet, or cannot read its store)
 * keeps `keptDigests`, the status's, so the seed of the next restart is not lost.
 */
export function toToolPinsStatus(
  gatewayNamespace: string,
  pins: GatewayPins,
  keptDigests?: Readonly<Record<string, string>>,
): ToolPinsStatus {
  const omitted = Math.max(0, pins.quarantined.length - MAX_QUARANTINED_IN_STATUS);
  const digests = pins.digests ?? keptDigests;
  return {
    gatewayNamespace,
    onChange: pins.onChange,
    pinned: pins.pinned,
    ...(digests !== undefined ? { digests } : {}),
    storeAvailable: pins.storeAvailable,
    ...(omitted > 0 ? { omitted } : {}),
    quarantined: pins.quarantined.slice(0, MAX_QUARANTINED_IN_STATUS),
  };
}

/**
 * The ToolsQuarantined condition for a report: True naming the tools waiting for approval,
 * Unknown while the gateway cannot read its pin store, False otherwise.
 */
export function toolsQuarantinedCondition(pins: ToolPinsStatus): ConditionInput {
  if (!pins.storeAvailable) {
    return {
      type: TOOLS_QUARANTINED,
      status: 'Unknown',
      reason: TOOLS_QUARANTINED_REASONS.storeUnavailable,
      message: `the gateway in namespace ${pins.gatewayNamespace} cannot read its pin store: none of the server's tools are served`,
    };
  }
  const count = pins.quarantined.length + (pins.omitted ?? 0);
  if (count === 0) {
    return {
      type: TOOLS_QUARANTINED,
      status: 'False',
      reason: TOOLS_QUARANTINED_REASONS.none,
      message: `every tool definition is approved (${pins.pinned} pinned)`,
    };
  }
  const named = pins.quarantined.slice(0, MAX_TOOLS_IN_MESSAGE).map(describeChange);
  const more = count - named.length;
  // Under serveApproved only a changed tool with its approved definition known is still served.
  const what =
    pins.onChange === 'withhold'
      ? 'withheld until then'
      : 'a changed one served as approved until then, the others withheld';
  return {
    type: TOOLS_QUARANTINED,
    status: 'True',
    reason: TOOLS_QUARANTINED_REASONS.quarantined,
    message:
      `${count} tool definition${count === 1 ? '' : 's'} wait${count === 1 ? 's' : ''} for approval (${what}): ` +
      `${named.join(', ')}${more > 0 ? ` and ${more} more` : ''}; approve by adding the currentDigest of ` +
      `status.toolPins to the annotation ${APPROVED_DIGESTS_ANNOTATION}`,
  };
}

function describeChange(entry: QuarantinedTool): string {
  if (entry.change === 'renamed' && entry.renamedFrom !== undefined)
    return `${entry.tool} (renamed from ${entry.renamedFrom})`;
  if (entry.approvedDefinitionUnknown === true)
    return `${entry.tool} (${entry.change}, withheld: only its digest was approved)`;
  return `${entry.tool} (${entry.change})`;
}

/** What a registration's status should say about its pins. */
export interface PinStatus {
  readonly toolPins?: ToolPinsStatus;
  readonly condition?: ConditionInput;
}

/**
 * The pin part of a registration's status: nothing without `spec.pinning`; else the report of
 * the first gateway namespace (in the order given) that reports the server's pins; else, while
 * no gateway has reported (down, not yet reloaded, garbage), what the status says now.
 */
export function desiredPinStatus(
  registration: McpServerRegistration,
  namespaces: readonly string[],
  reportOf: (namespace: string) => ReadonlyMap<string, GatewayPins> | undefined,
): PinStatus {
  if (registration.spec.pinning === undefined) return {};
  const name = `${registration.metadata.namespace ?? ''}/${registration.metadata.name}`;
  for (const namespace of namespaces) {
    const pins = reportOf(namespace)?.get(name);
    if (pins === undefined) continue;
    const toolPins = toToolPinsStatus(namespace, pins, registration.status?.toolPins?.digests);
    return { toolPins, condition: toolsQuarantinedCondition(toolPins) };
  }
  const current = registration.status?.toolPins;
  const condition = registration.status?.conditions?.find((c) => c.type === TOOLS_QUARANTINED);
  return {
    ...(current !== undefined ? { toolPins: current } : {}),
    ...(condition !== undefined ? { condition: toConditionInput(condition) } : {}),
  };
}

function toConditionInput(condition: Condition): ConditionInput {
  return { type: condition.type, status: condition.status, reason: condition.reason, message: condition.message };
}
