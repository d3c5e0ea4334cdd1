import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import type * as ExtProc from './index.ts';

const outdir = mkdtempSync(join(tmpdir(), 'mcpgw-extproc-bundle-'));

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

describe('the node-extproc bundle', () => {
  it('loads the ext_proc definitions with no .proto file beside it', async () => {
    const outfile = join(outdir, 'extproc.js');
    await esbuild.build({
      entryPoints: [new URL('./index.ts', import.meta.url).pathname],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      // As scripts/build.mjs bundles Node deployables: bundled CommonJS needs `require`.
      banner: {
        js: "import { createRequire as __mcpgwCreateRequire } from 'node:module'; const require = __mcpgwCreateRequire(import.meta.url);",
      },
      define: { __dirname: 'import.meta.dirname', __filename: 'import.meta.filename' },
      logLevel: 'silent',
    });
    const bundle = (await import(pathToFileURL(outfile).href)) as typeof ExtProc;
    const method = bundle.loadExtProc().service['Process'];
    expect(method?.path).toBe(bundle.EXTERNAL_PROCESSOR_METHOD);
    const wire = method?.responseSerialize(bundle.translateRequestHeaders('mcp.example.com'));
    expect(wire?.byteLength).toBeGreaterThan(0);
  });
});
