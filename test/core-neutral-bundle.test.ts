import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './harness/index.ts';

describe.each([
  ['main entry', 'packages/core/src/index.ts'],
  ['router entry', 'packages/core/src/router.ts'],
])('packages/core %s', (_name, entry) => {
  it('bundles for a neutral platform without any node: import', async () => {
    const result = await esbuild.build({
      absWorkingDir: REPO_ROOT,
      entryPoints: [join(REPO_ROOT, entry)],
      bundle: true,
      platform: 'neutral',
      format: 'esm',
      mainFields: ['module', 'main'],
      // Left external so that a node: import shows up in the output assertion below
      // with its name, rather than as a resolve error.
      external: ['node:*'],
      write: false,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const [output] = result.outputFiles;
    expect(output?.text.length).toBeGreaterThan(0);
    const nodeImports = output!.text.match(/(?:from\s*|import\s*\(?\s*|require\s*\(\s*)["']node:[^"']+["']/g) ?? [];
    expect(nodeImports).toEqual([]);
  });
});
