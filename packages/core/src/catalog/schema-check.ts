import { Validator } from '@cfworker/json-schema';
import type { SchemaDraft } from '@cfworker/json-schema';
import { createMetaSchema } from './meta-schemas.ts';
import { describeSchemaErrors, formatPath } from './schema-messages.ts';
import { findUnresolvedRefs } from './schema-refs.ts';

/** Most problems reported for one schema; the rest are counted in a final line. */
export const MAX_SCHEMA_PROBLEMS = 20;

/** Length beyond which a tool name draws a warning (MCP tool name guidance). */
export const MAX_TOOL_NAME_LENGTH = 128;

/**
 * Problems that make an upstream tool unservable (empty = valid): it must be an object with a
 * non-empty string `name`; `title` and `description`, when present, strings; `annotations` and
 * `_meta`, when present, objects; `inputSchema` present and `outputSchema`, when present, JSON
 * objects with `type: "object"` that are valid JSON Schemas (see `checkJsonSchema`). Name style
 * (characters, length) is only a warning: see `toolNameWarnings`. Never throws.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/server/tools#tool
 */
export function checkTool(tool: unknown): string[] {
  if (!isObject(tool)) return ['tool must be an object'];
  const problems = checkNamed(tool);
  for (const key of ['annotations', '_meta'] as const) {
    if (tool[key] !== undefined && !isObject(tool[key])) problems.push(`${key} must be an object`);
  }
  if (tool.inputSchema === undefined) problems.push('inputSchema is required');
  else problems.push(...checkObjectSchema(tool.inputSchema, 'inputSchema'));
  if (tool.outputSchema !== undefined) problems.push(...checkObjectSchema(tool.outputSchema, 'outputSchema'));
  return problems;
}

/**
 * Problems that make an upstream prompt unservable (empty = valid): an object with a non-empty
 * string `name`; `title`/`description` strings when present; `arguments`, when present, an array
 * of objects, each with a non-empty string `name` not used by an earlier argument, a string
 * `description` and a boolean `required` when present. Never throws.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/server/prompts#prompt
 */
export function checkPrompt(prompt: unknown): string[] {
  if (!isObject(prompt)) return ['prompt must be an object'];
  const problems = checkNamed(prompt);
  const args = prompt.arguments;
  if (args === undefined) return problems;
  if (!Array.isArray(args)) return [...problems, 'arguments must be an array'];
  const firstIndex = new Map<string, number>();
  for (const [index, arg] of (args as unknown[]).entries()) {
    const field = `arguments[${index}]`;
    if (!isObject(arg)) {
      problems.push(`${field} must be an object`);
      continue;
    }
    if (!isNonEmptyString(arg.name)) problems.push(`${field}.name must be a non-empty string`);
    else if (firstIndex.has(arg.name))
      problems.push(`${field}.name "${arg.name}" repeats arguments[${firstIndex.get(arg.name)}].name`);
    else firstIndex.set(arg.name, index);
    if (arg.description !== undefined && typeof arg.description !== 'string') {
      problems.push(`${field}.description must be a string`);
    }
    if (arg.required !== undefined && typeof arg.required !== 'boolean')
      problems.push(`${field}.required must be a boolean`);
  }
  return problems;
}

/**
 * Problems with `schema` as a JSON Schema, each naming its place under `field`: the schema is
 * checked against the meta-schema of its dialect (draft 2020-12 unless `$schema` names 2019-09,
 * draft-07 or draft-04; a `$schema` naming another dialect skips this check, as it is not an
 * error), and its document-local `$ref`s must resolve. At most MAX_SCHEMA_PROBLEMS sentences,
 * then one counting the rest. Never throws: values that are not JSON, or nesting too deep to
 * walk, are reported as problems.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic#json-schema-usage
 * @see https://json-schema.org/draft/2020-12/json-schema-core#section-8.1.1
 */
export function checkJsonSchema(schema: unknown, field: string): string[] {
  const draft = dialectOf(schema);
  const problems: string[] = [];
  if (draft !== undefined) {
    const { validator, metaSchema } = metaValidator(draft);
    try {
      const result = validator.validate(schema);
      if (!result.valid) problems.push(...describeSchemaErrors(result.errors, schema, metaSchema, field));
    } catch (error) {
      problems.push(
        error instanceof RangeError
          ? `${field} is nested too deeply to check`
          : `${field} could not be checked (${error instanceof Error ? error.message : String(error)})`,
      );
    }
  }
  if (isObject(schema)) problems.push(...findUnresolvedRefs(schema, field));
  if (problems.length <= MAX_SCHEMA_PROBLEMS) return problems;
  const rest = problems.length - MAX_SCHEMA_PROBLEMS;
  return [...problems.slice(0, MAX_SCHEMA_PROBLEMS), `${field} has ${rest} more problem${rest === 1 ? '' : 's'}`];
}

/**
 * Style warnings for a tool name (not errors: servers may break this guidance, and the gateway
 * still serves the tool): longer than 128 characters, or characters outside A-Z, a-z, 0-9,
 * `_`, `-` and `.`.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/server/tools#tool-names
 */
export function toolNameWarnings(name: string): string[] {
  const warnings: string[] = [];
  if (name.length > MAX_TOOL_NAME_LENGTH) warnings.push(`name is longer than ${MAX_TOOL_NAME_LENGTH} characters`);
  if (!TOOL_NAME_CHARACTERS.test(name)) warnings.push('name has characters outside A-Z, a-z, 0-9, _, - and .');
  return warnings;
}

const TOOL_NAME_CHARACTERS = /^[A-Za-z0-9_.-]*$/;

/** Known `$schema` values, without scheme and trailing `#`. */
const DIALECTS: Record<string, SchemaDraft> = {
  'json-schema.org/draft/2020-12/schema': '2020-12',
  'json-schema.org/draft/2019-09/schema': '2019-09',
  'json-schema.org/draft-07/schema': '7',
  'json-schema.org/draft-04/schema': '4',
};

/** The draft to check against: 2020-12 without a `$schema`, undefined for an unknown dialect. */
function dialectOf(schema: unknown): SchemaDraft | undefined {
  if (!isObject(schema) || typeof schema.$schema !== 'string') return '2020-12';
  const key = schema.$schema.replace(/^https?:\/\//, '').replace(/#$/, '');
  return Object.hasOwn(DIALECTS, key) ? DIALECTS[key] : undefined;
}

type MetaValidator = { validator: Validator; metaSchema: ReturnType<typeof createMetaSchema> };
const validators = new Map<SchemaDraft, MetaValidator>();

/** Built once per draft: dereferencing the meta-schema is the expensive part. */
function metaValidator(draft: SchemaDraft): MetaValidator {
  let entry = validators.get(draft);
  if (entry === undefined) {
    const metaSchema = createMetaSchema(draft);
    entry = { validator: new Validator(metaSchema, draft, false), metaSchema };
    validators.set(draft, entry);
  }
  return entry;
}

function checkObjectSchema(schema: unknown, field: string): string[] {
  if (!isObject(schema)) return [`${field} must be a JSON object`];
  const problems = schema.type === 'object' ? [] : [`${formatPath(field, ['type'])} must be "object"`];
  return [...problems, ...checkJsonSchema(schema, field)];
}

function checkNamed(item: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (!isNonEmptyString(item.name)) problems.push('name must be a non-empty string');
  for (const key of ['title', 'description'] as const) {
    if (item[key] !== undefined && typeof item[key] !== 'string') problems.push(`${key} must be a string`);
  }
  return problems;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
