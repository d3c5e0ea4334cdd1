import type { ToolOverride } from '../config/schema.ts';
import type { JsonObject } from '../upstream/types.ts';

/**
 * A tool as served after its server's override: the description replaced and/or extended, the
 * annotations merged over the upstream's, and the parameters the gateway fills in itself
 * (`fixedArguments`) removed from the input schema, from `properties` and `required`. The name
 * is the catalog's business (served name). The upstream's item is never changed.
 */
export function overriddenTool(tool: JsonObject, override: ToolOverride): JsonObject {
  const item: JsonObject = { ...tool };
  if (override.description !== undefined) item['description'] = override.description;
  if (override.descriptionSuffix !== undefined) {
    const base = typeof item['description'] === 'string' ? item['description'] : '';
    item['description'] = base === '' ? override.descriptionSuffix : `${base} ${override.descriptionSuffix}`;
  }
  if (override.annotations !== undefined) {
    const current = isObject(tool['annotations']) ? tool['annotations'] : {};
    item['annotations'] = { ...current, ...override.annotations };
  }
  if (override.fixedArguments !== undefined && isObject(tool['inputSchema'])) {
    item['inputSchema'] = withoutParameters(tool['inputSchema'], Object.keys(override.fixedArguments));
  }
  return item;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withoutParameters(schema: Record<string, unknown>, names: readonly string[]): JsonObject {
  const out: JsonObject = { ...schema };
  if (isObject(schema['properties'])) {
    const properties = { ...schema['properties'] };
    for (const name of names) delete properties[name];
    out['properties'] = properties;
  }
  if (Array.isArray(schema['required'])) {
    out['required'] = schema['required'].filter((name) => !names.includes(name as string));
  }
  return out;
}
