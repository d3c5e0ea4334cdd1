import { resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';
import { TARGETS, missingEntries } from '../../scripts/build-targets.mjs';
import { REPO_ROOT } from '../harness/index.ts';

describe('the build targets', () => {
  it('all have an entry that exists, so the build bundles every one', () => {
    expect(missingEntries(REPO_ROOT).map((target) => target.entry)).toEqual([]);
  });

  it('finds a target whose entry does not exist, which fails the build', () => {
    const [first] = TARGETS;
    const missing = { ...first!, name: 'removed', entry: 'packages/removed/src/main.ts' };
    expect(missingEntries(REPO_ROOT, [...TARGETS, missing])).toEqual([missing]);
  });

  it('write each bundle to a file of its own', () => {
    const outfiles = TARGETS.map((target) => target.outfile);
    expect(new Set(outfiles).size).toBe(outfiles.length);
  });

  it('bundles the gateway with one copy of grpc-js, which the OTLP/gRPC exporter uses too', async () => {
    const gateway = TARGETS.find((target) => target.name === 'gateway cli');
    const result = await esbuild.build({
      ...gateway!.options,
      absWorkingDir: REPO_ROOT,
      entryPoints: [resolve(REPO_ROOT, gateway!.entry)],
      outfile: resolve(REPO_ROOT, gateway!.outfile),
      sourcemap: false,
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles.map((file) => file.text).join('\n');
    // The banner's require (bundled CommonJS code loads Node built-ins with it) and no other: a
    // dependency's own createRequire loads packages from node_modules, beside the bundled copy.
    expect(code.match(/\w*[cC]reateRequire\(import\.meta\.url\)/g)).toEqual(['__mcpgwCreateRequire(import.meta.url)']);
  });
});
