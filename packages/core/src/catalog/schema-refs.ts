import { formatPath } from './schema-messages.ts';

/** Keywords whose value is one subschema (or, for `items`, possibly an array of them). */
const SUBSCHEMA = new Set([
  'items',
  'additionalItems',
  'contains',
  'additionalProperties',
  'unevaluatedItems',
  'unevaluatedProperties',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
  'contentSchema',
]);
/** Keywords whose value is an array of subschemas. */
const SUBSCHEMA_ARRAY = new Set(['prefixItems', 'allOf', 'anyOf', 'oneOf', 'items']);
/** Keywords whose value maps names to subschemas. */
const SUBSCHEMA_MAP = new Set([
  'properties',
  'patternProperties',
  '$defs',
  'definitions',
  'dependentSchemas',
  'dependencies',
]);

/** A path kept as a linked list, so that walking a deep schema does not copy paths. */
interface PathNode {
  readonly segment: string | number;
  readonly parent: PathNode | undefined;
}

interface Pending {
  readonly node: unknown;
  readonly at: PathNode | undefined;
}

/**
 * Problems with the document-local references of a schema: each `$ref` of the form `#/json/pointer`
 * or `#anchor` must resolve inside `schema`, or no client can use it. References to other
 * documents are not fetched and not checked, nor are references inside a subschema with its own
 * `$id` (its base URI differs), nor `$dynamicRef`/`$recursiveRef`. The walk visits only schema
 * positions (not `enum`, `const`, `default` or `examples`), iteratively, and each object once.
 * @see https://json-schema.org/draft/2020-12/json-schema-core#section-8.2.3.1
 */
export function findUnresolvedRefs(schema: Record<string, unknown>, field: string): string[] {
  const refs: { at: PathNode | undefined; ref: string }[] = [];
  const anchors = new Set<string>();
  const seen = new Set<object>();
  const stack: Pending[] = [{ node: schema, at: undefined }];
  while (stack.length > 0) {
    const { node, at } = stack.pop()!;
    if (!isObject(node) || seen.has(node)) continue;
    seen.add(node);
    const id = node.$id;
    const fragmentId = typeof id === 'string' && id.startsWith('#');
    if (node !== schema && typeof id === 'string' && !fragmentId) continue;
    if (typeof node.$ref === 'string' && node.$ref.startsWith('#')) refs.push({ at, ref: node.$ref });
    if (typeof node.$anchor === 'string') anchors.add(node.$anchor);
    if (typeof node.$dynamicAnchor === 'string') anchors.add(node.$dynamicAnchor);
    // Draft-07 and earlier name anchors with a fragment-only $id.
    if (fragmentId && id.length > 1) anchors.add(id.slice(1));
    const children: Pending[] = [];
    for (const key in node) {
      const value = node[key];
      const here: PathNode = { segment: key, parent: at };
      if (SUBSCHEMA.has(key)) children.push({ node: value, at: here });
      if (SUBSCHEMA_ARRAY.has(key) && Array.isArray(value)) {
        value.forEach((item, index) => children.push({ node: item, at: { segment: index, parent: here } }));
      }
      if (SUBSCHEMA_MAP.has(key) && isObject(value)) {
        for (const name in value) children.push({ node: value[name], at: { segment: name, parent: here } });
      }
    }
    // Reversed so that references are found, and reported, in document order.
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  const problems: string[] = [];
  for (const { at, ref } of refs) {
    if (!resolves(schema, anchors, ref)) {
      problems.push(`${formatPath(field, [...toPath(at), '$ref'])} points to ${ref}, which is not defined in ${field}`);
    }
  }
  return problems;
}

function toPath(at: PathNode | undefined): (string | number)[] {
  const path: (string | number)[] = [];
  for (let node = at; node !== undefined; node = node.parent) path.push(node.segment);
  return path.reverse();
}

function resolves(schema: Record<string, unknown>, anchors: ReadonlySet<string>, ref: string): boolean {
  let fragment: string;
  try {
    fragment = decodeURIComponent(ref.slice(1));
  } catch {
    return false;
  }
  if (fragment === '') return true;
  if (!fragment.startsWith('/')) return anchors.has(fragment);
  let node: unknown = schema;
  for (const raw of fragment.slice(1).split('/')) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(node)) {
      if (!/^(?:0|[1-9][0-9]*)$/.test(segment)) return false;
      node = node[Number(segment)];
    } else if (isObject(node) && Object.hasOwn(node, segment)) {
      node = node[segment];
    } else {
      return false;
    }
  }
  return node !== undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
