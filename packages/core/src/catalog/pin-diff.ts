import { createTwoFilesPatch } from 'diff';
import type { JsonObject } from '../upstream/types.ts';
import { toCanonicalJson } from './tool-pins.ts';

/** Longest diff /status shows per quarantined tool, in UTF-16 code units: 8 KiB. */
export const MAX_PIN_DIFF_LENGTH = 8 * 1024;

const TRUNCATED = '\n… diff truncated at 8 KiB\n';

/**
 * A unified diff of a tool's approved and current definitions, each pretty-printed (two spaces,
 * keys sorted), for /status; an added tool, or one whose approved definition is unknown, diffs
 * against nothing. `approvedLabel` names the approved side (default `approved`). Capped at
 * MAX_PIN_DIFF_LENGTH, with a marker where it was cut.
 */
export function diffPinnedDefinitions(
  tool: string,
  approved: JsonObject | undefined,
  current: JsonObject,
  approvedLabel = 'approved',
): string {
  const before = approved === undefined ? '' : `${toCanonicalJson(approved, 2)}\n`;
  const after = `${toCanonicalJson(current, 2)}\n`;
  const from = `${tool} (${approvedLabel})`;
  const patch = createTwoFilesPatch(from, `${tool} (current)`, before, after, undefined, undefined, {
    context: 3,
  });
  if (patch.length <= MAX_PIN_DIFF_LENGTH) return patch;
  return patch.slice(0, MAX_PIN_DIFF_LENGTH - TRUNCATED.length) + TRUNCATED;
}
