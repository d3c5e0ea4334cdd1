import { GatewayError } from '../errors.ts';
import type { JsonObject } from '../upstream/types.ts';

/** Most tools, approved and quarantined together, one server's pin record may hold. */
export const MAX_PINNED_TOOLS = 2_000;
/** Largest pin record, in bytes of its JSON text (UTF-8): 4 MiB. */
export const MAX_PIN_RECORD_BYTES = 4 * 1024 * 1024;

/** An approved tool definition: its digest and the definition (without the name) it was taken from. */
export interface PinnedTool {
  readonly digest: string;
  /**
   * Absent for a pin known only by its digest (seeded from `pinning.pinned`, the tool not listed
   * with that digest since): a change of it has no approved definition to serve.
   */
  readonly definition?: JsonObject;
}

/** How a quarantined definition differs from what was approved. */
export type PinChange = 'changed' | 'added' | 'renamed';

/** A tool whose current definition awaits approval. */
export interface QuarantinedTool {
  readonly change: PinChange;
  /** For `renamed`: the approved tool that disappeared and whose definition this one has. */
  readonly renamedFrom?: string;
  /** The approved digest (`changed`; for `renamed`, that of `renamedFrom`); absent for `added`. */
  readonly approvedDigest?: string;
  readonly currentDigest: string;
  /** The current definition (without the name), the one an approval would pin. */
  readonly definition: JsonObject;
}

/**
 * One pinned server's record in the shared store: the approved definitions by the upstream's
 * tool name and the quarantined changes. `revision` counts writes: a write succeeds only over
 * the revision before it (compare and set), so replicas never overwrite each other blindly.
 */
export interface PinRecord {
  readonly revision: number;
  readonly tools: Readonly<Record<string, PinnedTool>>;
  readonly quarantined: Readonly<Record<string, QuarantinedTool>>;
}

/** Why `record` may not be stored, or undefined when it may. */
function pinRecordProblem(record: PinRecord, bytes: number): string | undefined {
  if (!Number.isSafeInteger(record.revision) || record.revision < 1) {
    return 'a pin record revision is a whole number from 1';
  }
  const count = Object.keys(record.tools).length + Object.keys(record.quarantined).length;
  if (count > MAX_PINNED_TOOLS) return `a pin record holds at most ${MAX_PINNED_TOOLS} tools, not ${count}`;
  if (bytes > MAX_PIN_RECORD_BYTES) {
    return `a pin record is at most ${MAX_PIN_RECORD_BYTES} bytes of JSON, not ${bytes}`;
  }
  return undefined;
}

/**
 * The JSON text of `record`, refused when no store may keep it: more than MAX_PINNED_TOOLS
 * tools or more than MAX_PIN_RECORD_BYTES bytes. Every SessionStore calls it first in
 * `writePins`, before it reaches its backing store.
 * @throws GatewayError INVALID_PARAMS naming the bound that was exceeded.
 */
export function toPinRecordJson(record: PinRecord): string {
  const text = JSON.stringify(record);
  const problem = pinRecordProblem(record, new TextEncoder().encode(text).byteLength);
  if (problem !== undefined) throw new GatewayError('INVALID_PARAMS', problem);
  return text;
}

/** A stored pin record; undefined when `value` is not one (a corrupted or foreign value). */
export function fromStoredPinRecord(value: unknown): PinRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { revision, tools, quarantined } = value as Partial<Record<keyof PinRecord, unknown>>;
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 1) return undefined;
  if (!isRecordOf(tools, isPinnedTool) || !isRecordOf(quarantined, isQuarantinedTool)) return undefined;
  return value as PinRecord;
}

/** `fromStoredPinRecord` of a JSON text; undefined when the text is not JSON. */
export function parseStoredPinRecord(text: string): PinRecord | undefined {
  try {
    return fromStoredPinRecord(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRecordOf(value: unknown, check: (entry: Record<string, unknown>) => boolean): boolean {
  return isObject(value) && Object.values(value).every((entry) => isObject(entry) && check(entry));
}

function isPinnedTool(entry: Record<string, unknown>): boolean {
  return typeof entry['digest'] === 'string' && (entry['definition'] === undefined || isObject(entry['definition']));
}

function isQuarantinedTool(entry: Record<string, unknown>): boolean {
  return (
    (entry['change'] === 'changed' || entry['change'] === 'added' || entry['change'] === 'renamed') &&
    typeof entry['currentDigest'] === 'string' &&
    isObject(entry['definition'])
  );
}

/** Which quarantined definition an operator approves: by the tool's upstream name, or by its digest. */
export type PinApproval = { readonly tool: string } | { readonly digest: string };

/**
 * The record with the quarantined definition `approval` names promoted to approved (at the next
 * revision), for the CLI; the gateways serve it once they decide again. A `renamed` tool's old
 * pin is kept, as for any tool no longer listed.
 * @throws GatewayError INVALID_PARAMS when no quarantined tool matches.
 */
export function approvePin(record: PinRecord, approval: PinApproval): PinRecord {
  const match = Object.entries(record.quarantined).find(([tool, entry]) =>
    'tool' in approval ? tool === approval.tool : entry.currentDigest === approval.digest,
  );
  if (match === undefined) {
    const what = 'tool' in approval ? `tool ${approval.tool}` : `digest ${approval.digest}`;
    throw new GatewayError('INVALID_PARAMS', `no quarantined definition matches ${what}`);
  }
  const [tool, entry] = match;
  const quarantined = { ...record.quarantined };
  delete quarantined[tool];
  return {
    revision: record.revision + 1,
    tools: { ...record.tools, [tool]: { digest: entry.currentDigest, definition: entry.definition } },
    quarantined,
  };
}
