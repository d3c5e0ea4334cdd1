import type { BuildOptions } from 'esbuild';

/** One bundle of `node scripts/build.mjs` (see build-targets.mjs). */
export interface BuildTarget {
  readonly name: string;
  /** The entry source, relative to the repository root. */
  readonly entry: string;
  /** The bundle, relative to the repository root. */
  readonly outfile: string;
  readonly options: BuildOptions;
}

/** The bundles the build writes. */
export declare const TARGETS: readonly BuildTarget[];
/** The targets among `targets` (default TARGETS) whose entry file does not exist under `root`. */
export declare function missingEntries(root: string, targets?: readonly BuildTarget[]): BuildTarget[];
