import * as v from 'valibot';

/** The pieces the config file's schemas share (the file's sections, the servers, the credentials). */

/** True for a plain object, the only thing a YAML mapping loads as (not a list, not `!!binary`). */
export function isPlainMapping(input: unknown): input is Record<string, unknown> {
  if (typeof input !== 'object' || input === null) return false;
  const proto: unknown = Object.getPrototypeOf(input);
  return proto === Object.prototype || proto === null;
}

/** True for an absolute `http:` or `https:` URL with a host. */
export function isHttpUrl(input: string): boolean {
  try {
    const url = new URL(input);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

export const text = () => v.string('must be a string');

/** Mappings only: valibot's object schemas would also take a list or a byte array. */
export const mapping = <T extends v.GenericSchema>(schema: T, message: string) =>
  v.pipe(v.custom<unknown>(isPlainMapping, message), schema);
