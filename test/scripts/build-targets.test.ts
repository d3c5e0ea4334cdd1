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
});
