import { prefixUri } from '../catalog/tool-prefix.ts';

/** Maps an upstream's result into the gateway's namespace; returns the very same object when nothing in it changes. */
export type ResultRewrite = (result: Record<string, unknown>) => Record<string, unknown>;

/**
 * The rewrite a forwarded call's result needs so that every resource URI in it is one the
 * client can read back through the gateway (the server's prefix put in, as in resource lists):
 * - `resources/read`: each `contents[].uri`;
 * - `tools/call`: `resource_link` content items' `uri`, embedded `resource` items'
 *   `resource.uri`, and the MCP Apps `_meta.ui.resourceUri` (as the anchor rewrites it);
 * - `prompts/get`: the same content items inside `messages[].content`.
 * Undefined when nothing needs rewriting (no prefix, or a method whose result names no resource).
 * @see https://modelcontextprotocol.io/specification/2025-11-25/server/tools#resource-links
 * @see https://modelcontextprotocol.io/specification/2025-11-25/server/tools#embedded-resources
 */
export function resultRewriteFor(method: string, prefix: string): ResultRewrite | undefined {
  if (prefix === '') return undefined;
  switch (method) {
    case 'resources/read':
      return (result) => mapArray(result, 'contents', (item) => withUri(item, prefix));
    case 'tools/call':
      return (result) =>
        withUiResourceUri(
          mapArray(result, 'content', (item) => linkedContent(item, prefix)),
          prefix,
        );
    case 'prompts/get':
      return (result) =>
        mapArray(result, 'messages', (message) => {
          if (!isObject(message) || !isObject(message['content'])) return message;
          const content = linkedContent(message['content'], prefix);
          return content === message['content'] ? message : { ...message, content };
        });
    default:
      return undefined;
  }
}

/** A content item with its resource URI prefixed: `resource_link` (uri) and embedded `resource` (resource.uri). */
function linkedContent(item: unknown, prefix: string): unknown {
  if (!isObject(item)) return item;
  if (item['type'] === 'resource_link') return withUri(item, prefix);
  if (item['type'] === 'resource' && isObject(item['resource'])) {
    const resource = withUri(item['resource'], prefix);
    return resource === item['resource'] ? item : { ...item, resource };
  }
  return item;
}

/** The result with `_meta.ui.resourceUri` prefixed, when it has one. */
function withUiResourceUri(result: Record<string, unknown>, prefix: string): Record<string, unknown> {
  const meta = result['_meta'];
  if (!isObject(meta) || !isObject(meta['ui']) || typeof meta['ui']['resourceUri'] !== 'string') return result;
  const ui = { ...meta['ui'], resourceUri: prefixUri(prefix, meta['ui']['resourceUri']) };
  return { ...result, _meta: { ...meta, ui } };
}

function withUri(item: unknown, prefix: string): unknown {
  return isObject(item) && typeof item['uri'] === 'string' ? { ...item, uri: prefixUri(prefix, item['uri']) } : item;
}

/** The result with `result[key]`'s items mapped; the very same object when no item changed. */
function mapArray(
  result: Record<string, unknown>,
  key: string,
  map: (item: unknown) => unknown,
): Record<string, unknown> {
  const items = result[key];
  if (!Array.isArray(items)) return result;
  let mapped: unknown[] | undefined;
  for (let index = 0; index < items.length; index++) {
    const item: unknown = items[index];
    const next = map(item);
    if (next !== item) (mapped ??= items.slice())[index] = next;
  }
  return mapped === undefined ? result : { ...result, [key]: mapped };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
