import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Pass and fail counts of one scenario, as the conformance CLI prints them. */
export interface ScenarioCounts {
  readonly name: string;
  /** Checks with status SUCCESS. */
  readonly passed: number;
  /** Checks with status FAILURE. WARNING and INFO checks are neither. */
  readonly failed: number;
}

/** One check of a scenario's `checks.json`. */
export interface ConformanceCheck {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  /** SKIPPED (0.2.0) marks a check the scenario could not exercise; like INFO it neither passes nor fails. */
  readonly status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';
  readonly errorMessage?: string;
}

// The suite colours its output; the escape character is what we strip.
// eslint-disable-next-line no-control-regex
const ANSI_ESCAPE = /\x1b\[[0-9;]*m/g;
const SUMMARY_LINE = /^([✓✗]) (\S+): (\d+) passed, (\d+) failed$/;
const TOTAL_LINE = /^Total: (\d+) passed, (\d+) failed/m;
// `Running active suite (32 scenarios)` (0.1.16) or `Running requirements 2026-07-28 (50 scenarios)` (0.2.0).
const SUITE_HEADER = /^Running (?:\S+ suite|requirements \S+) \((\d+) scenarios\)/m;
const NOT_SCORED_HEADER = /^Not scored for \S+:/m;
const NOT_SCORED_LINE = /^\s+[✓✗] (\S+) \(([^)]+)\)$/;
const SINGLE_RESULT = /^Passed: (\d+)\/(\d+), (\d+) failed, (\d+) warnings$/m;
const SCENARIO_START = /^Running client scenario '([^']+)' against server:/;
const RESULTS_SAVED = /^Results saved to (.+)$/;

/** Removes the colour codes the CLI puts around statuses and timestamps. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_ESCAPE, '');
}

/**
 * Parses the `=== SUMMARY ===` block a suite run ends with (`✓ tools-list: 1 passed,
 * 0 failed` per scenario, then `Total: P passed, F failed`). Returns undefined when the
 * block is missing or disagrees with itself (scenario count or totals), so a truncated
 * run is never mistaken for a passing one.
 */
export function parseSuiteSummary(stdout: string): readonly ScenarioCounts[] | undefined {
  const text = stripAnsi(stdout);
  const start = text.lastIndexOf('=== SUMMARY ===');
  if (start < 0) return undefined;
  const summary = text.slice(start);
  const scenarios: ScenarioCounts[] = [];
  for (const line of summary.split('\n')) {
    const match = SUMMARY_LINE.exec(line.trim());
    if (match) scenarios.push({ name: match[2]!, passed: Number(match[3]), failed: Number(match[4]) });
  }
  const total = TOTAL_LINE.exec(summary);
  const expectedCount = SUITE_HEADER.exec(text);
  if (total === null) return undefined;
  if (expectedCount !== null && Number(expectedCount[1]) !== scenarios.length) return undefined;
  const sum = (key: 'passed' | 'failed') => scenarios.reduce((acc, s) => acc + s[key], 0);
  if (sum('passed') !== Number(total[1]) || sum('failed') !== Number(total[2])) return undefined;
  return scenarios;
}

/**
 * Parses the result of a single-scenario run (`--scenario`), which prints
 * `Passed: X/Y, N failed, M warnings` instead of a summary. Undefined when absent
 * (for example an unknown scenario name, which the CLI rejects before running).
 */
export function parseSingleScenario(name: string, stdout: string): ScenarioCounts | undefined {
  const match = SINGLE_RESULT.exec(stripAnsi(stdout));
  if (match === null) return undefined;
  return { name, passed: Number(match[1]), failed: Number(match[3]) };
}

/**
 * Reads the list a requirements run (0.2.0 `--requirements`) prints after its totals:
 * scenarios it ran and reported but does not count toward conformance, each with the
 * reason (`extension`, `pending`, `added-after-release`). Empty for other runs.
 */
export function parseNotScored(stdout: string): ReadonlyMap<string, string> {
  const text = stripAnsi(stdout);
  const header = NOT_SCORED_HEADER.exec(text);
  const notScored = new Map<string, string>();
  if (header === null) return notScored;
  for (const line of text.slice(header.index).split('\n').slice(1)) {
    const match = NOT_SCORED_LINE.exec(line);
    if (match === null) break;
    notScored.set(match[1]!, match[2]!);
  }
  return notScored;
}

/** Maps each scenario to the directory its `checks.json` was saved in (`-o` runs only). */
export function parseResultDirs(stdout: string): ReadonlyMap<string, string> {
  const dirs = new Map<string, string>();
  let current: string | undefined;
  for (const line of stripAnsi(stdout).split('\n')) {
    const start = SCENARIO_START.exec(line);
    if (start) current = start[1];
    const saved = RESULTS_SAVED.exec(line);
    if (saved && current !== undefined) dirs.set(current, saved[1]!.trim());
  }
  return dirs;
}

/** Reads a scenario's `checks.json`; undefined when it cannot be read. */
export async function readChecks(resultDir: string): Promise<readonly ConformanceCheck[] | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(resultDir, 'checks.json'), 'utf8'));
    return Array.isArray(parsed) ? (parsed as ConformanceCheck[]) : undefined;
  } catch {
    return undefined;
  }
}
