import { describe, expect, it } from 'vitest';
import { conditionHolds, setCondition } from './conditions.ts';

const ready = { type: 'Ready', status: 'True', reason: 'Ready', message: 'ok' } as const;
const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T01:00:00Z');

describe('conditions', () => {
  it('stamps a new condition with the time and the generation', () => {
    expect(setCondition(undefined, ready, 3, t0)).toEqual([
      { ...ready, observedGeneration: 3, lastTransitionTime: t0.toISOString() },
    ]);
  });

  it('keeps lastTransitionTime while the status stays the same', () => {
    const first = setCondition(undefined, ready, 1, t0);
    const second = setCondition(first, { ...ready, message: 'still ok' }, 2, t1);
    expect(second[0]).toMatchObject({
      message: 'still ok',
      observedGeneration: 2,
      lastTransitionTime: t0.toISOString(),
    });
  });

  it('moves lastTransitionTime when the status changes', () => {
    const first = setCondition(undefined, ready, 1, t0);
    const second = setCondition(first, { ...ready, status: 'False', reason: 'NotReady' }, 1, t1);
    expect(second[0]?.lastTransitionTime).toBe(t1.toISOString());
  });

  it('keeps conditions of other types', () => {
    const other = {
      type: 'Programmed',
      status: 'True',
      reason: 'X',
      message: '',
      lastTransitionTime: t0.toISOString(),
    } as const;
    expect(setCondition([other], ready, 1, t1).map((c) => c.type)).toEqual(['Programmed', 'Ready']);
  });

  it('holds only when status, reason, message and generation all match', () => {
    const list = setCondition(undefined, ready, 1, t0);
    expect(conditionHolds(list, ready, 1)).toBe(true);
    expect(conditionHolds(list, ready, 2)).toBe(false);
    expect(conditionHolds(list, { ...ready, message: 'changed' }, 1)).toBe(false);
    expect(conditionHolds(undefined, ready, 1)).toBe(false);
  });
});
