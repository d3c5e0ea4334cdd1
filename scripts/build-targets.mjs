// What `node scripts/build.mjs` bundles: each deployable's entry, output file and esbuild
// options. Kept apart from the build itself so that test/scripts/build-targets.test.ts can read
// the list without building.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { WORKERD_BUNDLE_OPTIONS } from '../packages/edge-broker/build/workerd-bundle.mjs';

/**
 * Optional native add-ons that some dependencies try to load at run time. They are
 * never installed here, so they stay as imports the dependency guards with try/catch.
 */
const OPTIONAL_NATIVE = ['bufferutil', 'utf-8-validate', 'cpu-features', 'pino-pretty', '*.node'];

/**
 * Bundled CommonJS dependencies call `require`, which an ESM bundle lacks: the banner
 * defines it (esbuild renames any bundled top-level `require` out of the way).
 * `__dirname`/`__filename` are rewritten by `define` instead of declared in the banner,
 * because a banner declaration would clash with an ESM source declaring its own.
 */
const NODE_BANNER =
  "import { createRequire as __mcpgwCreateRequire } from 'node:module'; const require = __mcpgwCreateRequire(import.meta.url);";

/** @type {import('esbuild').BuildOptions} */
const nodeBundle = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  sourcemap: true,
  external: OPTIONAL_NATIVE,
  banner: { js: NODE_BANNER },
  define: { __dirname: 'import.meta.dirname', __filename: 'import.meta.filename' },
  legalComments: 'none',
};

/**
 * The bundles, entries and outputs relative to the repository root. The Envoy ext_proc router
 * has no bundle of its own: the gateway CLI runs it (`--mcp-router-address`).
 * @type {ReadonlyArray<import('./build-targets.d.mts').BuildTarget>}
 */
export const TARGETS = [
  {
    name: 'gateway cli',
    entry: 'packages/gateway/src/cli.ts',
    outfile: 'packages/gateway/dist/cli.js',
    options: nodeBundle,
  },
  {
    name: 'edge worker',
    entry: 'packages/edge-broker/src/entries/workerd.ts',
    outfile: 'packages/edge-broker/dist/worker.js',
    // node:* stays an import (workerd serves it under nodejs_compat); CommonJS requires of
    // built-ins (ioredis) become such imports too.
    options: WORKERD_BUNDLE_OPTIONS,
  },
  {
    name: 'controller',
    entry: 'packages/controller/src/main.ts',
    outfile: 'packages/controller/dist/controller.js',
    options: nodeBundle,
  },
];

/** The targets among `targets` whose entry file does not exist under `root`. */
export function missingEntries(root, targets = TARGETS) {
  return targets.filter((target) => !existsSync(resolve(root, target.entry)));
}
