#!/usr/bin/env node
// Bundles each deployable into one file with esbuild (the list is in build-targets.mjs). Runs on
// `npm ci` (prepare), `npm run build` and before `npm test`. A target whose entry does not exist
// fails the build before anything is bundled.
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { TARGETS, missingEntries } from './build-targets.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

function formatSize(bytes) {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MB` : `${(bytes / 1024).toFixed(1)} kB`;
}

async function buildTarget(target) {
  const started = performance.now();
  const result = await esbuild.build({
    ...target.options,
    absWorkingDir: root,
    entryPoints: [resolve(root, target.entry)],
    outfile: resolve(root, target.outfile),
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.entries(result.metafile.outputs).filter(([file]) => !file.endsWith('.map'));
  const bytes = outputs.reduce((sum, [, output]) => sum + output.bytes, 0);
  return { bytes, ms: performance.now() - started };
}

const missing = missingEntries(root);
for (const target of missing) {
  console.error(
    `build: ${target.name} FAILED: its entry ${target.entry} does not exist (see scripts/build-targets.mjs)`,
  );
}
if (missing.length > 0) process.exit(1);

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
