import type {
  InvalidItem,
  JsonObject,
  UpstreamResource,
  UpstreamResourceTemplate,
  UpstreamItems,
  UpstreamSnapshot,
} from './types.ts';

/** Checks one listed tool or prompt; returns what is wrong with it (empty: valid). */
export type ItemValidator = (item: JsonObject) => readonly string[];

/** No items (not ready, disabled, withdrawn). */
export const EMPTY_ITEMS: UpstreamItems = {
  tools: [],
  prompts: [],
  resources: [],
  resourceTemplates: [],
  invalidTools: [],
  invalidPrompts: [],
};

/**
 * Splits listed tools or prompts into served and invalid ones. Every item needs a non-empty
 * string `name` unique within the upstream (a later duplicate is invalid, so routing stays
 * unambiguous); then `validate` decides. A validator that throws marks the item invalid.
 * @see MCP 2025-11-25 server/tools §Tool Names (names unique per server)
 */
export function partitionItems<T extends { name: string }>(
  items: readonly JsonObject[],
  validate: ItemValidator | undefined,
): { valid: T[]; invalid: InvalidItem[] } {
  const valid: T[] = [];
  const invalid: InvalidItem[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const name = item['name'];
    if (typeof name !== 'string' || name === '') {
      invalid.push({ name: typeof name === 'string' ? name : '', errors: ['name must be a non-empty string'] });
      continue;
    }
    if (seen.has(name)) {
      invalid.push({ name, errors: ['duplicate name: an earlier item of this upstream has it'] });
      continue;
    }
    seen.add(name);
    const errors = runValidator(validate, item);
    if (errors.length > 0) invalid.push({ name, errors });
    else valid.push(item as unknown as T);
  }
  return { valid, invalid };
}

/** Keeps the resources that carry a string `uri` and `name` (the catalog routes by URI). */
export function keepResources(items: readonly JsonObject[]): UpstreamResource[] {
  return items.filter((r): r is UpstreamResource => typeof r['uri'] === 'string' && typeof r['name'] === 'string');
}

/** Keeps the resource templates that carry a string `uriTemplate` and `name`. */
export function keepResourceTemplates(items: readonly JsonObject[]): UpstreamResourceTemplate[] {
  return items.filter(
    (t): t is UpstreamResourceTemplate => typeof t['uriTemplate'] === 'string' && typeof t['name'] === 'string',
  );
}

/** The anchor's ready message, with resource counts when the upstream offers resources. */
export function readyMessage(items: UpstreamItems, capabilities: JsonObject): string {
  let message = `server added successfully. Total tools added ${items.tools.length}. Total prompts added ${items.prompts.length}`;
  if (capabilities['resources'] !== undefined) {
    message += `. Total resources added ${items.resources.length}. Total resource templates added ${items.resourceTemplates.length}`;
  }
  return message;
}

/**
 * True when two snapshots differ in anything a consumer sees: items, invalid lists, readiness,
 * message, protocol version or capabilities (not the failure counter or validation time).
 */
export function isVisibleChange(previous: UpstreamSnapshot, next: UpstreamSnapshot): boolean {
  return visibleKey(previous) !== visibleKey(next);
}

function visibleKey(s: UpstreamSnapshot): string {
  return JSON.stringify([
    s.ready,
    s.message,
    s.protocolVersion ?? null,
    s.capabilities,
    s.tools,
    s.prompts,
    s.resources,
    s.resourceTemplates,
    s.invalidTools,
    s.invalidPrompts,
  ]);
}

function runValidator(validate: ItemValidator | undefined, item: JsonObject): readonly string[] {
  if (validate === undefined) return [];
  try {
    return validate(item);
  } catch (error) {
    return [`validation failed: ${error instanceof Error ? error.message : String(error)}`];
  }
}
