/** True for a plain object, the only thing a YAML mapping loads as (not a list, not `!!binary`). */
export function isPlainMapping(input: unknown): input is Record<string, unknown> {
  if (typeof input !== 'object' || input === null) return false;
  const proto: unknown = Object.getPrototypeOf(input);
  return proto === Object.prototype || proto === null;
}
