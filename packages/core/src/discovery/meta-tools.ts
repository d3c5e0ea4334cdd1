import type { ServerConfig } from '../config/schema.ts';
import type { JsonObject } from '../upstream/types.ts';
import { MAX_SELECTED_TOOLS } from '../store/tool-selection.ts';
import type { DiscoverySettings } from './discovery-settings.ts';
import { MAX_SEARCH_LIMIT } from './tool-search.ts';

/** The meta-tools' names, as the anchor spells them (search_tools is ours). */
export const DISCOVER_TOOLS = 'discover_tools';
export const SELECT_TOOLS = 'select_tools';
export const SEARCH_TOOLS = 'search_tools';
export const LIST_TAGS = 'list_tags';
export const FILTER_TOOLS_BY_TAGS = 'filter_tools_by_tags';

const GATEWAY_TOOL = { 'mcp-gateway/meta-tool': true };

const DISCOVER: JsonObject = {
  name: DISCOVER_TOOLS,
  title: 'Discover tools',
  description:
    'Lists the MCP servers behind this gateway with their categories, a hint of what each is for, and the names of the tools you may use on each. Use it first when you do not know which tools exist; then call select_tools with the ones you need.',
  inputSchema: {
    type: 'object',
    properties: {
      category: { type: 'string', description: 'Only servers in this category (case-insensitive).' },
    },
    additionalProperties: false,
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  _meta: GATEWAY_TOOL,
};

const SELECT: JsonObject = {
  name: SELECT_TOOLS,
  title: 'Select tools',
  description:
    'Chooses the tools this session works with: afterwards tools/list shows only them (and these meta-tools), and the client is told the list changed. Every name must be a tool you may use, or nothing changes. An empty list clears the selection.',
  inputSchema: {
    type: 'object',
    properties: {
      tools: {
        type: 'array',
        items: { type: 'string' },
        maxItems: MAX_SELECTED_TOOLS,
        description: 'Tool names as discover_tools or search_tools gave them.',
      },
    },
    required: ['tools'],
    additionalProperties: false,
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  _meta: GATEWAY_TOOL,
};

const SEARCH: JsonObject = {
  name: SEARCH_TOOLS,
  title: 'Search tools',
  description:
    'Finds the tools most relevant to a task described in words, ranked by their names, descriptions and parameters. Returns names with descriptions; call select_tools with the ones you need.',
  inputSchema: {
    type: 'object',
    properties: {
      query: { type: 'string', description: 'What you want to do, in a few words.' },
      limit: { type: 'integer', minimum: 1, maximum: MAX_SEARCH_LIMIT, description: 'Most results (default 10).' },
    },
    required: ['query'],
    additionalProperties: false,
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  _meta: GATEWAY_TOOL,
};

const TAGS: JsonObject = {
  name: LIST_TAGS,
  title: 'List tags',
  description: 'Lists the tags the servers behind this gateway carry (for filter_tools_by_tags).',
  inputSchema: { type: 'object', properties: {}, additionalProperties: false },
  annotations: { readOnlyHint: true, openWorldHint: false },
  _meta: GATEWAY_TOOL,
};

const FILTER: JsonObject = {
  name: FILTER_TOOLS_BY_TAGS,
  title: 'Filter tools by tags',
  description: 'Returns the full definitions of the tools on servers carrying every one of the given tags.',
  inputSchema: {
    type: 'object',
    properties: { tags: { type: 'array', items: { type: 'string' }, minItems: 1 } },
    required: ['tags'],
    additionalProperties: false,
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  _meta: GATEWAY_TOOL,
};

/** What the gateway tells clients at initialize while discovery is on (the anchor's `instructions`). */
export const DISCOVERY_INSTRUCTIONS =
  'This gateway serves many tools from many MCP servers. If you do not know which tools you need, call discover_tools (servers, categories, tool names) or search_tools (a task in words), then select_tools with the names you need: the tool list then holds only those.';

/**
 * The meta-tools offered under `settings` for these servers: none when discovery is off;
 * discover_tools, select_tools and search_tools otherwise, and list_tags / filter_tools_by_tags
 * while an enabled server carries tags.
 */
export function offeredMetaTools(settings: DiscoverySettings, servers: readonly ServerConfig[]): readonly JsonObject[] {
  if (!settings.enabled) return [];
  const tagged = servers.some((server) => server.enabled && server.tags.length > 0);
  return tagged ? [DISCOVER, SELECT, SEARCH, TAGS, FILTER] : [DISCOVER, SELECT, SEARCH];
}

/** The names of {@link offeredMetaTools}. */
export function metaToolNames(tools: readonly JsonObject[]): ReadonlySet<string> {
  return new Set(tools.map((tool) => tool['name'] as string));
}
