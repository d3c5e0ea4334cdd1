import type { PinChangePolicy } from '../config/schema.ts';
import type { PinChange, PinRecord, PinnedTool, QuarantinedTool } from '../store/pin-record.ts';
import type { JsonObject, UpstreamTool } from '../upstream/types.ts';

/** The fields of a tool that its pin covers: everything the upstream says of it but its name. */
const PINNED_FIELDS = ['title', 'description', 'inputSchema', 'outputSchema', 'annotations'] as const;

/** The definition a pin covers: the tool's pinned fields that are present, without its name. */
export function toPinnedDefinition(tool: JsonObject): JsonObject {
  const definition: JsonObject = {};
  for (const field of PINNED_FIELDS) if (tool[field] !== undefined) definition[field] = tool[field];
  return definition;
}

/** JSON text with every object's keys sorted, recursively; `indent` as JSON.stringify's. */
export function toCanonicalJson(value: unknown, indent?: number): string {
  return JSON.stringify(sortKeys(value), null, indent);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const entry = (value as Record<string, unknown>)[key];
    if (entry !== undefined) sorted[key] = sortKeys(entry);
  }
  return sorted;
}

/**
 * The digest of a tool's definition: `sha256:` and the hex SHA-256 of the canonical JSON of
 * `toPinnedDefinition(tool)`. Key order and the tool's name do not change it.
 */
export async function digestToolDefinition(tool: JsonObject): Promise<string> {
  const bytes = new TextEncoder().encode(toCanonicalJson(toPinnedDefinition(tool)));
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return `sha256:${Array.from(hash, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

/** One listed tool with its digest. */
export interface DigestedTool {
  readonly tool: UpstreamTool;
  readonly digest: string;
}

/** A quarantined tool as reported: its record entry and the approved definition it differs from. */
export interface PinQuarantine extends QuarantinedTool {
  readonly tool: string;
  /**
   * The approved definition (`changed`, `renamed`); absent for `added`, and for a pin known only
   * by its digest (`pinning.pinned`), when `approvedDigest` is set without it.
   */
  readonly approved?: JsonObject;
}

/** What a pinned server serves for one listing, and the record that listing leaves. */
export interface PinDecision {
  /** The tools to serve: the current ones that match their pin, or the approved definitions. */
  readonly served: readonly UpstreamTool[];
  /** Upstream names of listed tools that are not served (quarantined and withheld). */
  readonly withheld: readonly string[];
  readonly quarantined: readonly PinQuarantine[];
  /** The record to write; undefined when the stored one is already right. */
  readonly write?: PinRecord;
  /** How many approved definitions the record holds. */
  readonly pinned: number;
  /** Upstream names of the tools this decision approved (their digests were in `approvals`). */
  readonly approved: readonly string[];
  /** The approved digest of each pinned tool, by upstream name (the record's, after this decision). */
  readonly digests: Readonly<Record<string, string>>;
}

/**
 * Decides what a pinned server serves for one listing (docs/configuration.md#pinned-tool-definitions).
 * No record and no `seed`: trust on first use, every tool approved. No record but a `seed`
 * (`pinning.pinned`, digests by tool name from an earlier run): the seed stands for the record,
 * each pin known by its digest only. Otherwise a tool whose digest matches its pin is served (and
 * its definition recorded when only the digest was known); one whose digest is in `approvals` is
 * approved now; a changed one is quarantined and served as approved (`serveApproved`, when the
 * approved definition is known) or withheld; a tool the record does not know is quarantined as
 * `added`, or `renamed` when it has the digest of an approved tool no longer listed, and withheld
 * either way. A tool no longer listed keeps its pin and is not served. The seed is ignored once
 * a record exists.
 */
export function decidePins(
  record: PinRecord | undefined,
  listed: readonly DigestedTool[],
  onChange: PinChangePolicy,
  approvals: ReadonlySet<string>,
  seed: Readonly<Record<string, string>> = {},
): PinDecision {
  const start = record ?? fromSeed(seed);
  if (start === undefined) {
    const tools = Object.fromEntries(listed.map(({ tool, digest }) => [tool.name, pinOf(tool, digest)]));
    const write = { revision: 1, tools, quarantined: {} };
    const served = listed.map(({ tool }) => tool);
    const digests = Object.fromEntries(listed.map(({ tool, digest }) => [tool.name, digest]));
    return { served, withheld: [], quarantined: [], write, pinned: listed.length, approved: [], digests };
  }
  const tools: Record<string, PinnedTool> = { ...start.tools };
  const listedNames = new Set(listed.map(({ tool }) => tool.name));
  const gone = Object.entries(start.tools).filter(([name]) => !listedNames.has(name));
  const served: UpstreamTool[] = [];
  const withheld: string[] = [];
  const quarantined: PinQuarantine[] = [];
  const approvedNow: string[] = [];
  for (const { tool, digest } of listed) {
    const approved = start.tools[tool.name];
    if (approved?.digest === digest || approvals.has(digest)) {
      if (approved?.digest !== digest || approved.definition === undefined) tools[tool.name] = pinOf(tool, digest);
      if (approved?.digest !== digest) approvedNow.push(tool.name);
      served.push(tool);
      continue;
    }
    const renamedFrom = approved === undefined ? gone.find(([, pin]) => pin.digest === digest) : undefined;
    const change: PinChange = approved !== undefined ? 'changed' : renamedFrom !== undefined ? 'renamed' : 'added';
    const before = approved ?? renamedFrom?.[1];
    quarantined.push({
      tool: tool.name,
      change,
      ...(renamedFrom === undefined ? {} : { renamedFrom: renamedFrom[0] }),
      ...(before === undefined ? {} : { approvedDigest: before.digest }),
      ...(before?.definition === undefined ? {} : { approved: before.definition }),
      currentDigest: digest,
      definition: toPinnedDefinition(tool),
    });
    // A pin known only by its digest has nothing approved to serve: withheld whatever onChange says.
    if (approved?.definition !== undefined && onChange === 'serveApproved') {
      served.push(withDefinition(tool, approved.definition));
    } else {
      withheld.push(tool.name);
    }
  }
  const next = {
    revision: start.revision + 1,
    tools,
    quarantined: Object.fromEntries(quarantined.map(({ tool, approved: _, ...entry }) => [tool, entry])),
  };
  // A seeded decision is always written: the record it leaves is the truth from now on.
  const same =
    record !== undefined && toCanonicalJson({ ...record, revision: 0 }) === toCanonicalJson({ ...next, revision: 0 });
  return {
    served,
    withheld,
    quarantined,
    ...(same ? {} : { write: next }),
    pinned: Object.keys(tools).length,
    approved: approvedNow,
    digests: Object.fromEntries(Object.entries(tools).map(([name, pin]) => [name, pin.digest])),
  };
}

/** The record a seed stands for (revision 0, so the first write is revision 1); undefined when empty. */
function fromSeed(seed: Readonly<Record<string, string>>): PinRecord | undefined {
  const entries = Object.entries(seed);
  if (entries.length === 0) return undefined;
  return {
    revision: 0,
    tools: Object.fromEntries(entries.map(([name, digest]) => [name, { digest }])),
    quarantined: {},
  };
}

/**
 * The listed tool with its pinned fields replaced by `definition`'s (in place, so the served item
 * keeps the key order it had when that definition was current and lists the same).
 */
function withDefinition(tool: UpstreamTool, definition: JsonObject): UpstreamTool {
  const item: JsonObject = { ...tool };
  for (const field of PINNED_FIELDS) {
    if (definition[field] === undefined) delete item[field];
    else item[field] = definition[field];
  }
  return item as UpstreamTool;
}

function pinOf(tool: UpstreamTool, digest: string): PinnedTool {
  return { digest, definition: toPinnedDefinition(tool) };
}
