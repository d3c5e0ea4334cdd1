import { GatewayError } from '../errors.ts';

/** Most tools one selection may hold (the anchor's `select_tools` limit). */
export const MAX_SELECTED_TOOLS = 250;
/** Longest tool name, in UTF-16 code units, a selection may hold. */
export const MAX_SELECTED_TOOL_NAME_LENGTH = 256;
/** How long a selection lives unless the caller says otherwise: 24 h, as in the anchor. */
export const DEFAULT_SELECTION_TTL_SECONDS = 86_400;

/**
 * A selection as a shared store keeps it: the tools and their deadline (ms, on the writer's
 * clock), so that every read decides expiry against the store's `now`, as for sessions.
 */
export interface StoredSelection {
  expiresAt: number;
  tools: readonly string[];
}

/** Why `tools` may not be stored as a selection, or undefined when it may. */
function selectionProblem(tools: readonly unknown[]): string | undefined {
  if (tools.length > MAX_SELECTED_TOOLS) {
    return `a tool selection holds at most ${MAX_SELECTED_TOOLS} tools, not ${tools.length}`;
  }
  for (const [index, name] of tools.entries()) {
    if (typeof name !== 'string') return `tool ${index} of the selection is not a string`;
    if (name.length > MAX_SELECTED_TOOL_NAME_LENGTH) {
      return `tool ${index} of the selection is ${name.length} characters long; at most ${MAX_SELECTED_TOOL_NAME_LENGTH} are allowed`;
    }
  }
  return undefined;
}

/**
 * Refuses a selection no store may keep: more than MAX_SELECTED_TOOLS names, or a name longer
 * than MAX_SELECTED_TOOL_NAME_LENGTH. Every SessionStore calls it first in `writeSelection`,
 * before it reaches its backing store.
 * @throws GatewayError INVALID_PARAMS naming the bound that was exceeded.
 */
export function assertToolSelection(tools: readonly string[]): void {
  const problem = selectionProblem(tools);
  if (problem !== undefined) throw new GatewayError('INVALID_PARAMS', problem);
}

/**
 * The tools of a stored selection that is still live at `now`; undefined when it expired, is
 * empty, or is not a StoredSelection within the bounds (a corrupted or foreign value).
 */
export function fromStoredSelection(value: unknown, now: number): readonly string[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { expiresAt, tools } = value as Partial<Record<keyof StoredSelection, unknown>>;
  if (typeof expiresAt !== 'number' || !(expiresAt > now)) return undefined;
  if (!Array.isArray(tools) || tools.length === 0 || selectionProblem(tools) !== undefined) return undefined;
  return tools as readonly string[];
}

/** `fromStoredSelection` of a JSON text; undefined when the text is not JSON. */
export function parseStoredSelection(text: string, now: number): readonly string[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return fromStoredSelection(value, now);
}
