import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where `.ci/provision-kube` caches its builds; `MCPGW_KUBE_CACHE` moves it. */
export function kubeCacheDir(): string {
  return process.env.MCPGW_KUBE_CACHE || join(homedir(), '.cache', 'mcpgw-kube');
}

/** The binaries and CRD directory the Kubernetes test harness runs. */
export interface KubeBinaries {
  readonly apiserver: string;
  readonly etcd: string;
  readonly helm: string;
  /** Gateway API standard CRDs and the Istio EnvoyFilter CRD, one or more YAML files each. */
  readonly crdDir: string;
}

const PROVISION_HINT = 'run .ci/provision-kube (it builds them once into ~/.cache/mcpgw-kube; .ci/run calls it)';

/** Each path and the variable that overrides the one `.ci/provision-kube` recorded. */
const OVERRIDES = {
  apiserver: 'MCPGW_KUBE_APISERVER',
  etcd: 'MCPGW_ETCD',
  helm: 'MCPGW_HELM',
  crdDir: 'MCPGW_KUBE_CRD_DIR',
} as const satisfies Record<keyof KubeBinaries, string>;

let cached: KubeBinaries | undefined;

/**
 * The kube-apiserver, etcd and helm binaries and the CRD directory: each from its
 * environment override (MCPGW_KUBE_APISERVER, MCPGW_ETCD, MCPGW_HELM, MCPGW_KUBE_CRD_DIR)
 * when set, else from the `paths.json` that `.ci/provision-kube` writes into its cache.
 * @throws Error naming `.ci/provision-kube` when a path is missing or not usable (no skipping).
 */
export function kubeBinaries(): KubeBinaries {
  if (cached !== undefined) return cached;
  const recorded = readRecordedPaths();
  const resolve = (key: keyof KubeBinaries): string => {
    const path = process.env[OVERRIDES[key]] || recorded?.[key];
    if (path === undefined || path === '') {
      throw new Error(
        `kubeBinaries: no ${key} path: ${join(kubeCacheDir(), 'paths.json')} is missing and ${OVERRIDES[key]} is unset; ${PROVISION_HINT}`,
      );
    }
    assertUsable(key, path);
    return path;
  };
  cached = { apiserver: resolve('apiserver'), etcd: resolve('etcd'), helm: resolve('helm'), crdDir: resolve('crdDir') };
  return cached;
}

function readRecordedPaths(): Partial<Record<keyof KubeBinaries, string>> | undefined {
  let text: string;
  try {
    text = readFileSync(join(kubeCacheDir(), 'paths.json'), 'utf8');
  } catch {
    return undefined;
  }
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null) {
    throw new Error(`kubeBinaries: ${join(kubeCacheDir(), 'paths.json')} is not a JSON object; ${PROVISION_HINT}`);
  }
  const paths: Partial<Record<keyof KubeBinaries, string>> = {};
  for (const key of Object.keys(OVERRIDES) as (keyof KubeBinaries)[]) {
    const value = (parsed as Record<string, unknown>)[key];
    if (typeof value === 'string') paths[key] = value;
  }
  return paths;
}

function assertUsable(key: keyof KubeBinaries, path: string): void {
  try {
    if (key === 'crdDir') {
      if (!statSync(path).isDirectory()) throw new Error('not a directory');
    } else {
      accessSync(path, constants.X_OK);
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`kubeBinaries: ${key} at ${path} is not usable (${reason}); ${PROVISION_HINT}`, { cause: error });
  }
}
