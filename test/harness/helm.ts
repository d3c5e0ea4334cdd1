import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { kubeBinaries } from './kube-binaries.ts';

const run = promisify(execFile);

export interface RenderChartOptions {
  /** Values merged over the chart's values.yaml (written to a file and passed with `-f`). */
  values?: object;
  /** `--namespace`; default `default`. */
  namespace?: string;
  /** The release name; default `test`. */
  releaseName?: string;
}

export interface RenderedChart {
  /** Each non-empty rendered document, parsed. */
  manifests: object[];
  /** helm's output as it printed it. */
  raw: string;
}

/** Rendered charts larger than this are refused; a test chart renders to a few kB. */
const MAX_RENDERED_BYTES = 16 * 1024 * 1024;

/**
 * Runs `helm template` (the helm `.ci/provision-kube` built) on `chartDir` with no cluster,
 * and parses the documents it prints. helm's cache, config and data directories are a temp
 * directory, so nothing under the user's home is read or written.
 * @throws Error with helm's stderr when the chart does not render.
 */
export async function renderChart(chartDir: string, options: RenderChartOptions = {}): Promise<RenderedChart> {
  const helm = kubeBinaries().helm;
  const home = await mkdtemp(join(tmpdir(), 'mcpgw-helm-'));
  try {
    const args = ['template', options.releaseName ?? 'test', chartDir, '--namespace', options.namespace ?? 'default'];
    if (options.values !== undefined) {
      const valuesPath = join(home, 'values.json');
      // JSON is YAML: helm reads it as a values file.
      await writeFile(valuesPath, JSON.stringify(options.values));
      args.push('--values', valuesPath);
    }
    const env = {
      ...process.env,
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
    };
    let raw: string;
    try {
      ({ stdout: raw } = await run(helm, args, { env, maxBuffer: MAX_RENDERED_BYTES, timeout: 60_000 }));
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr?.trim();
      throw new Error(`renderChart: helm template ${chartDir} failed${stderr ? `: ${stderr}` : ''}`, { cause: error });
    }
    return { manifests: parseRendered(raw), raw };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

function parseRendered(raw: string): object[] {
  const manifests: object[] = [];
  for (const document of parseAllDocuments(raw)) {
    if (document.errors.length > 0) {
      throw new Error(`renderChart: helm printed invalid YAML: ${document.errors[0]!.message}`);
    }
    const value: unknown = document.toJS();
    if (value !== null && typeof value === 'object') manifests.push(value);
  }
  return manifests;
}
