import { describe, expect, it } from 'vitest';
import type { UpstreamSnapshot, UpstreamTool } from './types.ts';
import { EMPTY_ITEMS, isVisibleChange, partitionItems } from './upstream-snapshot.ts';

describe('partitionItems', () => {
  it('marks nameless items, later duplicates and validator failures invalid', () => {
    const { valid, invalid } = partitionItems<UpstreamTool>(
      [{ name: 'a' }, { title: 'no name' }, { name: 'a' }, { name: 'b' }, { name: 'c' }],
      (item) => {
        if (item['name'] === 'b') return ['b is not allowed'];
        if (item['name'] === 'c') throw new Error('validator broke');
        return [];
      },
    );

    expect(valid).toEqual([{ name: 'a' }]);
    expect(invalid).toEqual([
      { name: '', errors: ['name must be a non-empty string'] },
      { name: 'a', errors: ['duplicate name: an earlier item of this upstream has it'] },
      { name: 'b', errors: ['b is not allowed'] },
      { name: 'c', errors: ['validation failed: validator broke'] },
    ]);
  });
});

describe('isVisibleChange', () => {
  const base: UpstreamSnapshot = {
    server: 's',
    ready: true,
    message: 'ok',
    capabilities: {},
    consecutiveFailures: 0,
    ...EMPTY_ITEMS,
  };

  it('ignores the failure counter and the validation time', () => {
    expect(isVisibleChange(base, { ...base, consecutiveFailures: 2, lastValidated: '2026-01-01T00:00:00.000Z' })).toBe(
      false,
    );
  });

  it('sees a changed tool, message or readiness', () => {
    expect(isVisibleChange(base, { ...base, tools: [{ name: 't', inputSchema: { type: 'object' } }] })).toBe(true);
    expect(isVisibleChange(base, { ...base, message: 'other' })).toBe(true);
    expect(isVisibleChange(base, { ...base, ready: false })).toBe(true);
  });
});
