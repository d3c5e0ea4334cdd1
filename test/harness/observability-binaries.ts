import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where `.ci/provision-observability` caches its builds; `MCPGW_OBSERVABILITY_CACHE` moves it. */
export function observabilityCacheDir(): string {
  return process.env.MCPGW_OBSERVABILITY_CACHE || join(homedir(), '.cache', 'mcpgw-observability');
}

/** The observability backends the metrics and tracing suites run. */
export interface ObservabilityBinaries {
  /** Prometheus, built with `-tags remove_all_sd` (static and file targets only, no web UI). */
  readonly prometheus: string;
  /** Jaeger's v2 binary (`cmd/jaeger`): an OpenTelemetry Collector with Jaeger's storage and query. */
  readonly jaeger: string;
}

const PROVISION_HINT =
  'run .ci/provision-observability (it builds them once into ~/.cache/mcpgw-observability; .ci/run calls it)';

/** Each path and the variable that overrides the one `.ci/provision-observability` recorded. */
const OVERRIDES = {
  prometheus: 'MCPGW_PROMETHEUS_BIN',
  jaeger: 'MCPGW_JAEGER_BIN',
} as const satisfies Record<keyof ObservabilityBinaries, string>;

const cached: Partial<Record<keyof ObservabilityBinaries, string>> = {};

/**
 * The path of one backend: its environment override (MCPGW_PROMETHEUS_BIN, MCPGW_JAEGER_BIN)
 * when set, else the one in the `paths.json` that `.ci/provision-observability` writes into its
 * cache; checked once per process by running it with `--version`.
 * @throws Error naming `.ci/provision-observability` when the path is missing or does not run (no skipping).
 */
export function observabilityBinary(key: keyof ObservabilityBinaries): string {
  const known = cached[key];
  if (known !== undefined) return known;
  const path = process.env[OVERRIDES[key]] || readRecordedPaths()[key];
  if (path === undefined || path === '') {
    throw new Error(
      `observabilityBinary: no ${key} path: ${recordFile()} is missing and ${OVERRIDES[key]} is unset; ${PROVISION_HINT}`,
    );
  }
  const probe = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.error !== undefined || probe.status !== 0) {
    const reason = probe.error?.message ?? `exited with ${probe.status}: ${probe.stderr.trim()}`;
    throw new Error(`observabilityBinary: ${key} at ${path} does not run (${reason}); ${PROVISION_HINT}`);
  }
  cached[key] = path;
  return path;
}

function recordFile(): string {
  return join(observabilityCacheDir(), 'paths.json');
}

function readRecordedPaths(): Partial<Record<keyof ObservabilityBinaries, string>> {
  let text: string;
  try {
    text = readFileSync(recordFile(), 'utf8');
  } catch {
    return {};
  }
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null) {
    throw new Error(`observabilityBinary: ${recordFile()} is not a JSON object; ${PROVISION_HINT}`);
  }
  const paths: Partial<Record<keyof ObservabilityBinaries, string>> = {};
  for (const key of Object.keys(OVERRIDES) as (keyof ObservabilityBinaries)[]) {
    const value = (parsed as Record<string, unknown>)[key];
    if (typeof value === 'string') paths[key] = value;
  }
  return paths;
}
