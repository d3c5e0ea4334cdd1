import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WORKERD_BUNDLE_OPTIONS } from '@mcp-gateway/edge-broker/workerd-bundle';
import * as esbuild from 'esbuild';

/**
 * Bundles a test-only worker (a file under test/workerd/fixtures) exactly as the edge worker is
 * bundled, into a temp directory, and returns the bundle's path for Miniflare's `scriptPath`.
 */
export async function bundleTestWorker(fixture: string): Promise<string> {
  const entry = fileURLToPath(new URL(`./fixtures/${fixture}`, import.meta.url));
  const outfile = join(mkdtempSync(join(tmpdir(), 'mcpgw-test-worker-')), 'worker.js');
  await esbuild.build({ ...WORKERD_BUNDLE_OPTIONS, entryPoints: [entry], outfile, logLevel: 'warning' });
  return outfile;
}
