import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import {
  parseNotScored,
  parseResultDirs,
  parseSingleScenario,
  parseSuiteSummary,
  readChecks,
  type ScenarioCounts,
} from './conformance-output.ts';

/** Which scenarios a suite run covers: `active` (the default) or `all` (active plus pending). */
export type ConformanceSuite = 'active' | 'all';

/**
 * The installed conformance CLIs, by the package name each resolves from: `legacy` is
 * @modelcontextprotocol/conformance 0.1.16 (2025-era scenarios), `next` the 0.2.0
 * prerelease installed under the npm alias `conformance-next` (adds 2026-07-28).
 */
export const CONFORMANCE_CLIS = {
  legacy: '@modelcontextprotocol/conformance',
  next: 'conformance-next',
} as const;

/** A key of {@link CONFORMANCE_CLIS}. */
export type ConformanceCli = keyof typeof CONFORMANCE_CLIS;

/** Options of {@link runConformance}. */
export interface RunConformanceOptions {
  /** The MCP endpoint under test, e.g. `http://127.0.0.1:3000/mcp`. */
  url: string;
  /** Which CLI runs; default `legacy`. */
  cli?: ConformanceCli;
  /**
   * Run exactly the scenarios a spec revision requires, e.g. `2026-07-28` (`--requirements`,
   * `next` CLI only), in one CLI process. Takes precedence over `scenarios` and `suite`.
   */
  requirements?: string;
  /** Run exactly these scenarios, one CLI process each; when set, `suite` is ignored. */
  scenarios?: readonly string[];
  /** Wire version of single-scenario runs (`--spec-version`, `next` CLI only), e.g. `2026-07-28`. */
  specVersion?: string;
  /** Suite to run when neither `requirements` nor `scenarios` is given; default `active`. */
  suite?: ConformanceSuite;
  /** Directory the CLI writes `<dir>/server-<scenario>-<timestamp>/checks.json` into. */
  outDir: string;
  /** Budget for the whole run; the CLI is killed and the run rejected when it is spent. */
  timeoutMs: number;
}

/** One scenario's outcome. */
export interface ConformanceScenarioResult extends ScenarioCounts {
  /** No check failed. Warnings (SHOULD-level findings) do not make a scenario fail. */
  readonly ok: boolean;
  /** Checks with status WARNING, from `checks.json` (0 when it could not be read). */
  readonly warnings: number;
  /** `<check id>: <error message>` of each failed check, from `checks.json`. */
  readonly failures: readonly string[];
  readonly resultDir?: string;
  /** Why a requirements run reports this scenario without scoring it (`extension`, `pending`, …). */
  readonly notScored?: string;
}

/** What a conformance run found. */
export interface ConformanceReport {
  readonly scenarios: readonly ConformanceScenarioResult[];
  readonly totals: { readonly passed: number; readonly failed: number };
  /** Everything the CLI printed (stdout, then stderr), for diagnosis. */
  readonly raw: string;
}

/** A run that did not produce a parsable result (timeout, crash, unknown scenario). */
export class ConformanceRunError extends Error {
  readonly raw: string;
  constructor(message: string, raw: string) {
    super(`${message}\n--- conformance output (tail) ---\n${raw.slice(-4000)}`);
    this.name = 'ConformanceRunError';
    this.raw = raw;
  }
}

/**
 * Runs a @modelcontextprotocol/conformance CLI (`conformance server --url …`) as a
 * child process on the current Node (it needs Node ≥ 22) and parses its output: the
 * `=== SUMMARY ===` block of a suite or requirements run (plus its "Not scored" list),
 * or the `Passed: X/Y` line of each single-scenario run, enriched with warnings and
 * failure messages from `checks.json`.
 * A failing scenario is data in the report; only an unusable run rejects.
 */
export async function runConformance(options: RunConformanceOptions): Promise<ConformanceReport> {
  const outDir = resolve(options.outDir);
  await mkdir(outDir, { recursive: true });
  const deadline = Date.now() + options.timeoutMs;
  const cli = options.cli ?? 'legacy';
  const base = ['server', '--url', options.url, '--output-dir', outDir];
  const counts: ScenarioCounts[] = [];
  const raws: string[] = [];
  for (const [flag, value] of [
    ['--requirements', options.requirements],
    ['--spec-version', options.specVersion],
  ] as const) {
    if (value !== undefined && cli !== 'next') throw new Error(`runConformance: ${flag} needs cli 'next' (0.2.0)`);
  }

  if (options.requirements !== undefined) {
    const run = await runCli(cli, [...base, '--requirements', options.requirements], deadline);
    raws.push(run.raw);
    const parsed = parseSuiteSummary(run.stdout);
    if (parsed === undefined) throw new ConformanceRunError('no complete === SUMMARY === in the output', run.raw);
    counts.push(...parsed);
  } else if (options.scenarios !== undefined && options.scenarios.length > 0) {
    const version = options.specVersion === undefined ? [] : ['--spec-version', options.specVersion];
    for (const scenario of options.scenarios) {
      const run = await runCli(cli, [...base, ...version, '--scenario', scenario], deadline);
      raws.push(run.raw);
      const parsed = parseSingleScenario(scenario, run.stdout);
      if (parsed === undefined) throw new ConformanceRunError(`no result for scenario ${scenario}`, raws.join('\n'));
      counts.push(parsed);
    }
  } else {
    const run = await runCli(cli, [...base, '--suite', options.suite ?? 'active'], deadline);
    raws.push(run.raw);
    const parsed = parseSuiteSummary(run.stdout);
    if (parsed === undefined) throw new ConformanceRunError('no complete === SUMMARY === in the output', run.raw);
    counts.push(...parsed);
  }

  const raw = raws.join('\n');
  const resultDirs = parseResultDirs(raw);
  const notScored = parseNotScored(raw);
  const scenarios = await Promise.all(
    counts.map((c) => toScenarioResult(c, resultDirs.get(c.name), notScored.get(c.name))),
  );
  return {
    scenarios,
    totals: {
      passed: scenarios.reduce((sum, s) => sum + s.passed, 0),
      failed: scenarios.reduce((sum, s) => sum + s.failed, 0),
    },
    raw,
  };
}

async function toScenarioResult(
  counts: ScenarioCounts,
  resultDir: string | undefined,
  notScored: string | undefined,
): Promise<ConformanceScenarioResult> {
  const checks = resultDir === undefined ? undefined : await readChecks(resultDir);
  return {
    ...counts,
    ok: counts.failed === 0,
    warnings: checks?.filter((check) => check.status === 'WARNING').length ?? 0,
    failures: (checks ?? [])
      .filter((check) => check.status === 'FAILURE')
      .map((check) => `${check.id}: ${check.errorMessage ?? check.description}`),
    ...(resultDir === undefined ? {} : { resultDir }),
    ...(notScored === undefined ? {} : { notScored }),
  };
}

interface CliRun {
  readonly stdout: string;
  readonly raw: string;
}

/** Runs the CLI until it exits; its exit code only says whether some check failed. */
function runCli(cli: ConformanceCli, args: readonly string[], deadline: number): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [conformanceCliPath(cli), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const output = () => (stderr === '' ? stdout : `${stdout}\n--- stderr ---\n${stderr}`);
    const timer = setTimeout(
      () => {
        child.kill('SIGKILL');
        reject(new ConformanceRunError(`conformance ${args.join(' ')} timed out`, output()));
      },
      Math.max(deadline - Date.now(), 0),
    );
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new ConformanceRunError(`could not start the conformance CLI: ${error.message}`, output()));
    });
    child.once('close', () => {
      clearTimeout(timer);
      resolvePromise({ stdout, raw: output() });
    });
  });
}

const cliPaths = new Map<ConformanceCli, string>();

/**
 * Absolute path of a CLI's entry (`bin.conformance` of the installed package). Both
 * packages name their bin `conformance`, so `npx conformance` may run either; this does not.
 */
export function conformanceCliPath(cli: ConformanceCli = 'legacy'): string {
  let path = cliPaths.get(cli);
  if (path === undefined) {
    const packageJson = createRequire(import.meta.url).resolve(`${CONFORMANCE_CLIS[cli]}/package.json`);
    const { bin } = JSON.parse(readFileSync(packageJson, 'utf8')) as { bin: Record<string, string> };
    path = join(dirname(packageJson), bin.conformance ?? 'dist/index.js');
    cliPaths.set(cli, path);
  }
  return path;
}
