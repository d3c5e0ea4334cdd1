import type { JsonObject } from './types.ts';
import { upstreamProtocolError } from './upstream-errors.ts';
import { isJsonObject } from './upstream-exchange.ts';

/** The four lists an upstream can offer. */
export type UpstreamListKind = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';

/** The JSON-RPC method of each list; the result key is the kind itself. */
export const LIST_METHODS = {
  tools: 'tools/list',
  prompts: 'prompts/list',
  resources: 'resources/list',
  resourceTemplates: 'resources/templates/list',
} as const satisfies Record<UpstreamListKind, string>;

/** Pages followed before an upstream is considered to loop. */
export const MAX_LIST_PAGES = 1000;

/** Sends one list request and resolves with its result. */
export type ListPageRequest = (method: string, params: JsonObject | undefined) => Promise<JsonObject>;

/**
 * Lists every item of `kind`, following `nextCursor` until it is absent. An empty-string
 * cursor ends the list too (legacy servers use it that way; only 2026-07-28 makes "" a real
 * cursor). Rejects with UPSTREAM_PROTOCOL_ERROR after {@link MAX_LIST_PAGES} pages, when a cursor
 * repeats, or when the result lacks the item array. Items that are not objects are dropped and
 * reported through `onDropped`.
 * @see MCP 2025-11-25 server/utilities/pagination
 */
export async function listAllPages(
  server: string,
  kind: UpstreamListKind,
  requestPage: ListPageRequest,
  onDropped?: (count: number) => void,
  onFirstPage?: (result: JsonObject) => void,
): Promise<JsonObject[]> {
  const method = LIST_METHODS[kind];
  const items: JsonObject[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 1; ; page++) {
    const result = await requestPage(method, cursor === undefined ? undefined : { cursor });
    if (page === 1) onFirstPage?.(result);
    const list = result[kind];
    if (!Array.isArray(list))
      throw upstreamProtocolError(`upstream ${server} answered ${method} without a "${kind}" array`);
    const objects = list.filter(isJsonObject);
    if (objects.length !== list.length) onDropped?.(list.length - objects.length);
    items.push(...objects);
    const next = result['nextCursor'];
    if (next === undefined || next === null || next === '') return items;
    if (typeof next !== 'string')
      throw upstreamProtocolError(`upstream ${server} answered ${method} with a nextCursor that is not a string`);
    if (seen.has(next))
      throw upstreamProtocolError(`upstream ${server} repeated the cursor "${truncate(next)}" while paging ${method}`);
    if (page >= MAX_LIST_PAGES)
      throw upstreamProtocolError(`upstream ${server} returned more than ${MAX_LIST_PAGES} pages of ${method}`);
    seen.add(next);
    cursor = next;
  }
}

function truncate(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}
