import type { OutputUnit, Schema } from '@cfworker/json-schema';

/** One problem: where in the checked schema, and what must hold there. */
interface Issue {
  readonly path: readonly (string | number)[];
  /** Completes "<path> …", e.g. "must be a string". */
  readonly predicate: string;
  /** The value has the wrong JSON type for this rule (so an `anyOf` branch does not apply). */
  readonly wrongKind: boolean;
  /** JSON types the rule would accept, when `wrongKind`. */
  readonly kinds: readonly string[];
}

/**
 * Turns the output of @cfworker/json-schema, from checking `instance` against `metaSchema`, into
 * readable sentences naming the field: "inputSchema.properties.city.type must be one of string,
 * number, …". Wrapper errors ("a subschema had errors") are dropped in favour of their causes;
 * of the branches of a failed `anyOf`/`oneOf`, the one that fits the value's JSON type and gets
 * furthest into it is reported, or the accepted types when none fits.
 * @see https://json-schema.org/draft/2020-12/json-schema-core#section-12.4
 */
export function describeSchemaErrors(
  units: readonly OutputUnit[],
  instance: unknown,
  metaSchema: Schema,
  field: string,
): string[] {
  const issues: Issue[] = [];
  collect({ units, instance, metaSchema }, 0, units.length, issues);
  const messages = new Set<string>();
  for (const issue of issues) messages.add(`${formatPath(field, issue.path)} ${issue.predicate}`);
  return [...messages];
}

/**
 * A readable path: `field.a.b[0]["odd key"]`; numbers are array indexes.
 * @see describeSchemaErrors
 */
export function formatPath(field: string, path: readonly (string | number)[]): string {
  let out = field;
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

interface Context {
  readonly units: readonly OutputUnit[];
  readonly instance: unknown;
  readonly metaSchema: Schema;
}

function collect(context: Context, from: number, to: number, out: Issue[]): void {
  const { units } = context;
  for (let i = from; i < to;) {
    const unit = units[i]!;
    const childPrefix = `${unit.keywordLocation}/`;
    let end = i + 1;
    while (end < to && units[end]!.keywordLocation.startsWith(childPrefix)) end++;
    if (unit.keyword === 'anyOf' || unit.keyword === 'oneOf') {
      out.push(...summarizeBranches(context, unit, i + 1, end));
    } else if (end === i + 1 && unit.keyword !== 'if') {
      out.push(describeUnit(context, unit));
    } else {
      collect(context, i + 1, end, out);
    }
    i = end;
  }
}

function summarizeBranches(context: Context, unit: OutputUnit, from: number, to: number): Issue[] {
  const branches = new Map<string, Issue[]>();
  const prefixLength = unit.keywordLocation.length + 1;
  for (let i = from; i < to;) {
    const location = context.units[i]!.keywordLocation;
    const slash = location.indexOf('/', prefixLength);
    const branchPrefix = slash === -1 ? `${location}/` : location.slice(0, slash + 1);
    let end = i + 1;
    while (end < to && context.units[end]!.keywordLocation.startsWith(branchPrefix)) end++;
    const issues: Issue[] = [];
    collect(context, i, end, issues);
    branches.set(branchPrefix, [...(branches.get(branchPrefix) ?? []), ...issues]);
    i = end;
  }
  const path = pointerSegments(unit.instanceLocation, context.instance);
  const fitting = [...branches.values()].filter((issues) => issues.some((issue) => !issue.wrongKind));
  if (fitting.length === 0) {
    const kinds = new Set([...branches.values()].flat().flatMap((issue) => issue.kinds));
    const predicate =
      kinds.size > 0 ? `must be ${listKinds([...kinds])}` : 'must match exactly one of its allowed forms';
    return [{ path, predicate, wrongKind: kinds.size > 0, kinds: [...kinds] }];
  }
  let best = fitting[0]!;
  for (const issues of fitting) if (depth(issues) > depth(best)) best = issues;
  return best;
}

function depth(issues: readonly Issue[]): number {
  return Math.max(...issues.map((issue) => issue.path.length));
}

function describeUnit(context: Context, unit: OutputUnit): Issue {
  const path = pointerSegments(unit.instanceLocation, context.instance);
  const value = valueAt(context.instance, path);
  const rule = ruleAt(context.metaSchema, unit.keywordLocation);
  const issue = (predicate: string, kinds: readonly string[] = []): Issue => ({
    path,
    predicate,
    wrongKind: kinds.length > 0,
    kinds,
  });
  const expected = rule?.schema[unit.keyword];
  if (expected === undefined && !VALUELESS_KEYWORDS.has(unit.keyword)) return issue(`is invalid (${unit.error})`);
  switch (unit.keyword) {
    case 'type': {
      const kinds = Array.isArray(expected) ? expected.map(String) : [String(expected)];
      return issue(`must be ${listKinds(kinds)}`, kinds);
    }
    case 'enum': {
      const options = Array.isArray(expected) ? expected : [];
      const kinds = [...new Set(options.map(kindOf))];
      const predicate = `must be one of ${options.map((o) => (typeof o === 'string' ? o : JSON.stringify(o))).join(', ')}`;
      return issue(predicate, kinds.includes(kindOf(value)) ? [] : kinds);
    }
    case 'minimum':
      return issue(
        rule?.schema.exclusiveMinimum === true ? `must be greater than ${expected}` : `must be at least ${expected}`,
      );
    case 'maximum':
      return issue(
        rule?.schema.exclusiveMaximum === true ? `must be less than ${expected}` : `must be at most ${expected}`,
      );
    case 'exclusiveMinimum':
      return issue(`must be greater than ${expected}`);
    case 'exclusiveMaximum':
      return issue(`must be less than ${expected}`);
    case 'minItems':
      return issue(`must have at least ${plural(expected, 'item')}`);
    case 'maxItems':
      return issue(`must have at most ${plural(expected, 'item')}`);
    case 'minLength':
      return issue(`must be at least ${plural(expected, 'character')} long`);
    case 'maxLength':
      return issue(`must be at most ${plural(expected, 'character')} long`);
    case 'uniqueItems':
      return issue('must not contain duplicate items');
    case 'pattern':
      return issue(`must match the pattern ${String(expected)}`);
    case 'dependencies':
    case 'dependentRequired':
      return issue(describeDependencies(expected, value));
    case 'false':
      return issue('is not allowed');
    default:
      return issue(`is invalid (${unit.error})`);
  }
}

/** Keywords described without reading their value from the meta-schema. */
const VALUELESS_KEYWORDS = new Set(['uniqueItems', 'false', 'dependencies', 'dependentRequired']);

function describeDependencies(dependencies: unknown, value: unknown): string {
  if (isObject(dependencies) && isObject(value)) {
    for (const [key, required] of Object.entries(dependencies)) {
      if (!Object.hasOwn(value, key) || !Array.isArray(required)) continue;
      const missing = required.filter((name) => !Object.hasOwn(value, String(name)));
      if (missing.length > 0) return `must have ${missing.map((name) => `"${name}"`).join(', ')} when it has "${key}"`;
    }
  }
  return 'is missing a property that another property requires';
}

/** The schema object holding the keyword at the end of `keywordLocation` (a path through $refs). */
function ruleAt(metaSchema: Schema, keywordLocation: string): { schema: Schema } | undefined {
  const segments = decodePointer(keywordLocation);
  let node: unknown = metaSchema;
  for (let i = 0; i < segments.length - 1; i++) {
    const segment = segments[i]!;
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[segment];
    if (segment === '$ref' && typeof node === 'string') node = resolveLocalRef(metaSchema, node);
  }
  return isObject(node) ? { schema: node as Schema } : undefined;
}

function resolveLocalRef(root: Schema, ref: string): unknown {
  let node: unknown = root;
  for (const segment of decodePointer(ref)) node = isObject(node) ? node[segment] : undefined;
  return node;
}

/** Pointer segments of `#/a/b`, made into a path whose array indexes are numbers. */
function pointerSegments(location: string, instance: unknown): (string | number)[] {
  const path: (string | number)[] = [];
  let node = instance;
  for (const segment of decodePointer(location)) {
    if (Array.isArray(node)) {
      path.push(Number(segment));
      node = node[Number(segment)];
    } else {
      path.push(segment);
      node = isObject(node) ? node[segment] : undefined;
    }
  }
  return path;
}

function valueAt(instance: unknown, path: readonly (string | number)[]): unknown {
  let node = instance;
  for (const segment of path) {
    node = Array.isArray(node) ? node[segment as number] : isObject(node) ? node[segment] : undefined;
  }
  return node;
}

/** Segments of a URI-fragment JSON pointer (`#/a~1b/%25`), as @cfworker/json-schema encodes them. */
function decodePointer(location: string): string[] {
  const body = location.startsWith('#') ? location.slice(1) : location;
  if (body === '') return [];
  return body
    .slice(1)
    .split('/')
    .map((segment) => unescapePointer(safeDecode(segment)));
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function unescapePointer(segment: string): string {
  return segment.includes('~') ? segment.replaceAll('~1', '/').replaceAll('~0', '~') : segment;
}

const ARTICLES: Record<string, string> = {
  object: 'an object',
  array: 'an array',
  integer: 'an integer',
  string: 'a string',
  number: 'a number',
  boolean: 'a boolean',
  null: 'null',
};

function listKinds(kinds: readonly string[]): string {
  const words = kinds.map((kind) => ARTICLES[kind] ?? kind);
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function plural(count: unknown, noun: string): string {
  return `${String(count)} ${noun}${count === 1 ? '' : 's'}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
