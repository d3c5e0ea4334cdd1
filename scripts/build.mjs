#!/usr/bin/env node
// Bundles each deployable into one file with esbuild. Runs on `npm ci` (prepare),
// `npm run build` and before `npm test`. An entry whose source does not exist yet is
// skipped with a notice, so a partly written workspace still builds what it can.
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { WORKERD_BUNDLE_OPTIONS } from '../packages/edge-broker/build/workerd-bundle.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

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

/** @type {Array<{ name: string; entry: string; outfile: string; options: import('esbuild').BuildOptions }>} */
const TARGETS = [
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
    name: 'ext_proc',
    entry: 'packages/node-extproc/src/entries/node.ts',
    outfile: 'packages/node-extproc/dist/extproc.js',
    options: nodeBundle,
  },
  {
    name: 'controller',
    entry: 'packages/controller/src/main.ts',
    outfile: 'packages/controller/dist/controller.js',
    options: nodeBundle,
  },
];

function formatSize(bytes) {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MB` : `${(bytes / 1024).toFixed(1)} kB`;
}

async function buildTarget(target) {
  const entry = resolve(root, target.entry);
  if (!existsSync(entry)) {
    return { target, skipped: true };
  }
  const started = performance.now();
  const result = await esbuild.build({
    ...target.options,
    absWorkingDir: root,
    entryPoints: [entry],
    outfile: resolve(root, target.outfile),
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.entries(result.metafile.outputs).filter(([file]) => !file.endsWith('.map'));
  const bytes = outputs.reduce((sum, [, output]) => sum + output.bytes, 0);
  return { target, skipped: false, bytes, ms: performance.now() - started };
}

const results = await Promise.allSettled(TARGETS.map(buildTarget));

let failed = 0;
for (const [index, result] of results.entries()) {
  const target = TARGETS[index];
  if (result.status === 'rejected') {
    failed += 1;
    // esbuild already printed the located errors (logLevel 'warning').
    const count = result.reason?.errors?.length;
    console.error(
      `build: ${target.name} FAILED${count ? ` (${count} error${count === 1 ? '' : 's'})` : `: ${result.reason}`}`,
    );
  } else if (result.value.skipped) {
    console.log(`build: ${target.name} skipped: ${target.entry} does not exist yet`);
  } else {
    const { bytes, ms } = result.value;
    console.log(
      `build: ${target.name.padEnd(12)} ${relative(root, resolve(root, target.outfile)).padEnd(40)} ${formatSize(bytes).padStart(10)}  ${Math.round(ms)} ms`,
    );
  }
}

if (failed > 0) {
  process.exitCode = 1;
}
