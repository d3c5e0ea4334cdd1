import type { ToolOverrideSpec } from './api-types.ts';

/**
 * A registration's `spec.toolOverrides` as the config file's `toolOverrides` of its server: each
 * entry with only the fields the file knows, in a fixed order, empty strings and empty mappings
 * left out (the API server has already bounded every field and refused the combinations the
 * gateway would refuse on its own: a hidden tool with other fields, a tool or name given twice).
 * Values of `fixedArguments` and `annotations` are copied as written.
 * @see docs/configuration.md
 */
export function toFileToolOverrides(overrides: readonly ToolOverrideSpec[] | undefined): ToolOverrideSpec[] {
  return (overrides ?? []).map((override) => ({
    tool: override.tool,
    ...(nonEmpty(override.name) ? { name: override.name } : {}),
    ...(nonEmpty(override.description) ? { description: override.description } : {}),
    ...(nonEmpty(override.descriptionSuffix) ? { descriptionSuffix: override.descriptionSuffix } : {}),
    ...(typeof override.hidden === 'boolean' ? { hidden: override.hidden } : {}),
    ...(hasKeys(override.fixedArguments) ? { fixedArguments: override.fixedArguments } : {}),
    ...(hasKeys(override.annotations) ? { annotations: override.annotations } : {}),
    ...(typeof override.confirm === 'boolean' ? { confirm: override.confirm } : {}),
  }));
}

const nonEmpty = (value: string | undefined): value is string => typeof value === 'string' && value !== '';

function hasKeys(value: Readonly<Record<string, unknown>> | undefined): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0;
}
