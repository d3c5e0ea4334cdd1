import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** A scenario no gateway can pass, and why. */
export interface ExpectedFailure {
  readonly scenario: string;
  readonly reason: string;
}

/** The checked-in list beside this file. */
export const DEFAULT_EXPECTED_FAILURES_PATH = fileURLToPath(new URL('./expected-failures.yml', import.meta.url));

/**
 * Parses `expected-failures.yml`: a top-level `expectedFailures` list of
 * `{ scenario, reason }`, both non-empty strings, each scenario at most once.
 * An empty document or an empty list means none.
 * @throws Error naming the entry and the field at fault.
 */
export function parseExpectedFailures(text: string): readonly ExpectedFailure[] {
  const document: unknown = parse(text);
  if (document === null || document === undefined) return [];
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new Error('expected-failures: the document must be a mapping with an `expectedFailures` list');
  }
  const list: unknown = (document as Record<string, unknown>).expectedFailures ?? [];
  if (!Array.isArray(list)) throw new Error('expected-failures: `expectedFailures` must be a list');

  const seen = new Set<string>();
  return list.map((entry: unknown, index) => {
    const scenario = stringField(entry, 'scenario', index);
    const reason = stringField(entry, 'reason', index);
    if (seen.has(scenario)) throw new Error(`expected-failures: scenario ${scenario} is listed twice`);
    seen.add(scenario);
    return { scenario, reason };
  });
}

/** Reads and parses an expected-failures file; default: the checked-in one. */
export async function loadExpectedFailures(
  path: string = DEFAULT_EXPECTED_FAILURES_PATH,
): Promise<readonly ExpectedFailure[]> {
  return parseExpectedFailures(await readFile(path, 'utf8'));
}

function stringField(entry: unknown, field: 'scenario' | 'reason', index: number): string {
  const value = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>)[field] : undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(`expected-failures: entry ${index} needs a non-empty string \`${field}\``);
  }
  return value.trim();
}
