// scripts/summary-reporter.mjs on vitest's own report: each test runs the real vitest CLI on one
// fixture module (fixtures/summary-reporter/) with the summary reporter alone and reads its line.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../harness/index.ts';

const FIXTURES = join(REPO_ROOT, 'test/scripts/fixtures/summary-reporter');
const VITEST = join(REPO_ROOT, 'node_modules/vitest/vitest.mjs');

/** Runs vitest on the fixture module `name`; resolves with the summary line and the exit code. */
function summaryOf(name: string): Promise<{ line: string; code: number | null }> {
  // This run's own vitest variables would make the inner vitest think it is a worker.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST')));
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [VITEST, 'run', '--root', FIXTURES, `${name}.fixture.ts`],
      { env, timeout: 30_000 },
      (error, stdout) => {
        if (error !== null && typeof error.code !== 'number') return reject(error);
        resolve({ line: stdout.trim().split('\n').at(-1) ?? '', code: child.exitCode });
      },
    );
  });
}

describe('the summary reporter', () => {
  it('counts the tests of a module whose beforeAll throws as failed, and keeps skip and todo skipped', async () => {
    expect(await summaryOf('module-before-all-throws')).toEqual({ line: '0 passed, 3 failed, 2 skipped', code: 1 });
  });

  it('counts the tests of a describe whose beforeAll throws as failed, beside a describe that runs', async () => {
    expect(await summaryOf('suite-before-all-throws')).toEqual({ line: '1 passed, 2 failed, 1 skipped', code: 1 });
  });

  it('counts a describe whose afterAll throws after its tests passed as one failure', async () => {
    expect(await summaryOf('after-all-throws')).toEqual({ line: '1 passed, 1 failed, 0 skipped', code: 1 });
  });

  it('counts a module that fails to load as one failure', async () => {
    expect(await summaryOf('fails-to-load')).toEqual({ line: '0 passed, 1 failed, 0 skipped', code: 1 });
  });

  it('counts passed, failed and skipped tests as vitest reports them', async () => {
    expect(await summaryOf('plain-results')).toEqual({ line: '1 passed, 1 failed, 2 skipped', code: 1 });
  });

  it('adds the errors vitest caught outside any test', async () => {
    expect(await summaryOf('unhandled-rejection')).toEqual({
      line: '1 passed, 0 failed, 0 skipped, 1 unhandled error',
      code: 1,
    });
  });
});
