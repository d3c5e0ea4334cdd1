import type { ServerConfig } from '../config/schema.ts';
import type { JsonObject } from '../upstream/types.ts';
import { MAX_SELECTED_TOOLS } from '../store/tool-selection.ts';
import type { DiscoverySettings } from './discovery-settings.ts';
import { DISCOVER_TOOLS, FILTER_TOOLS_BY_TAGS, LIST_TAGS, SEARCH_TOOLS, SELECT_TOOLS } from './meta-tools.ts';
import { MAX_SEARCH_LIMIT, toolIndexFor } from './tool-search.ts';

/** A real tool the caller may see, as served, and the server it comes from. */
export interface VisibleTool {
  readonly item: JsonObject;
  readonly server: ServerConfig;
}

/** What the meta-tools answer from: the caller's visible tools (catalog order) and the catalog's tools. */
export interface DiscoveryView {
  readonly visible: readonly VisibleTool[];
  /** Every served tool (the search index is built once per catalog over these). */
  readonly catalogTools: readonly JsonObject[];
}

/** The caller's selection in the shared store. */
export interface SelectionAccess {
  /** False when the caller can hold no selection (no session and no verified identity). */
  readonly available: boolean;
  read(): Promise<readonly string[] | undefined>;
  /** Stores the selection (an empty list clears it). */
  write(names: readonly string[]): Promise<void>;
  /** Tells the caller's client its tool list changed. */
  announce(): Promise<void>;
}

/** A tools/call result as the gateway answers it for a meta-tool. */
export interface MetaToolResult {
  readonly content: readonly { readonly type: 'text'; readonly text: string }[];
  readonly structuredContent?: Record<string, unknown>;
  readonly isError?: true;
}

function ok(structured: Record<string, unknown>): MetaToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

function failed(message: string): MetaToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

const nameOf = (tool: VisibleTool) => tool.item['name'] as string;

/**
 * The tools/list a caller gets while discovery is on: with a selection, the selected tools it may
 * still see (in catalog order) and the meta-tools; without one, every tool it may see and the
 * meta-tools, unless there are more than the threshold: then the meta-tools alone.
 */
export function shapeToolList(
  visible: readonly VisibleTool[],
  metaTools: readonly JsonObject[],
  selection: readonly string[] | undefined,
  settings: DiscoverySettings,
): JsonObject[] {
  if (selection !== undefined && selection.length > 0) {
    const chosen = new Set(selection);
    return [...visible.filter((tool) => chosen.has(nameOf(tool))).map((tool) => tool.item), ...metaTools];
  }
  if (settings.threshold > 0 && visible.length > settings.threshold) return [...metaTools];
  return [...visible.map((tool) => tool.item), ...metaTools];
}

function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((entry) => typeof entry === 'string') ? value : undefined;
}

/**
 * Answers a meta-tool call. Arguments a model got wrong are tool errors (isError) naming what
 * is wrong, so it can correct itself; only what the caller may see is ever named.
 */
export async function callMetaTool(
  name: string,
  args: Record<string, unknown>,
  view: DiscoveryView,
  selection: SelectionAccess,
): Promise<MetaToolResult> {
  switch (name) {
    case DISCOVER_TOOLS:
      return discover(args, view);
    case SELECT_TOOLS:
      return select(args, view, selection);
    case SEARCH_TOOLS:
      return search(args, view);
    case LIST_TAGS:
      return ok({ tags: tagsOf(view) });
    case FILTER_TOOLS_BY_TAGS:
      return filterByTags(args, view);
    default:
      return failed(`tool not available: ${name}`);
  }
}

function discover(args: Record<string, unknown>, view: DiscoveryView): MetaToolResult {
  const category = args['category'];
  if (category !== undefined && typeof category !== 'string') return failed('category must be a string');
  const wanted = category?.trim().toLowerCase();
  const byServer = new Map<ServerConfig, string[]>();
  for (const tool of view.visible) {
    const names = byServer.get(tool.server) ?? [];
    names.push(nameOf(tool));
    byServer.set(tool.server, names);
  }
  const servers = [...byServer.entries()]
    .filter(([server]) => !wanted || server.category.some((c) => c.toLowerCase() === wanted))
    .sort(([a], [b]) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(([server, tools]) => ({
      name: server.name,
      categories: server.category,
      ...(server.hint === undefined ? {} : { hint: server.hint }),
      tools,
    }));
  return ok({ servers });
}

async function select(
  args: Record<string, unknown>,
  view: DiscoveryView,
  selection: SelectionAccess,
): Promise<MetaToolResult> {
  const names = stringArray(args['tools']);
  if (names === undefined) return failed('tools must be a list of tool names');
  if (names.length > MAX_SELECTED_TOOLS) return failed(`at most ${MAX_SELECTED_TOOLS} tools can be selected`);
  if (!selection.available) {
    return failed('select_tools needs a session or a verified identity to keep the selection for');
  }
  const visible = new Set(view.visible.map(nameOf));
  const unknown = names.filter((entry) => !visible.has(entry));
  if (unknown.length > 0) return failed(`tool not available: ${unknown.slice(0, 10).join(', ')}`);
  const unique = [...new Set(names)];
  await selection.write(unique);
  await selection.announce();
  return ok(
    unique.length === 0
      ? { status: 'scope cleared: every tool you may use is listed', tools: [] }
      : { status: `scope set to ${unique.length} tools`, tools: unique },
  );
}

function search(args: Record<string, unknown>, view: DiscoveryView): MetaToolResult {
  const query = args['query'];
  if (typeof query !== 'string' || query.trim() === '') return failed('query must be a non-empty string');
  const requested = args['limit'];
  if (requested !== undefined && (typeof requested !== 'number' || !Number.isInteger(requested) || requested < 1)) {
    return failed(`limit must be a whole number from 1 to ${MAX_SEARCH_LIMIT}`);
  }
  const limit = Math.min(MAX_SEARCH_LIMIT, (requested as number | undefined) ?? 10);
  const visible = new Map(view.visible.map((tool) => [nameOf(tool), tool]));
  const matches = toolIndexFor(view.catalogTools).search(query, { limit, visible: (name) => visible.has(name) });
  return ok({
    tools: matches.map((match) => {
      const description = visible.get(match.name)?.item['description'];
      return {
        name: match.name,
        ...(typeof description === 'string' ? { description } : {}),
        score: match.score,
      };
    }),
  });
}

function tagsOf(view: DiscoveryView): string[] {
  const tags = new Set<string>();
  for (const tool of view.visible) for (const tag of tool.server.tags) tags.add(tag);
  return [...tags].sort();
}

function filterByTags(args: Record<string, unknown>, view: DiscoveryView): MetaToolResult {
  const tags = stringArray(args['tags']);
  if (tags === undefined || tags.length === 0) return failed('tags must be a non-empty list of tags');
  const tools = view.visible
    .filter((tool) => tags.every((tag) => tool.server.tags.includes(tag)))
    .map((tool) => tool.item);
  return ok({ tools });
}
