import { describe, expect, it } from 'vitest';
import { liveRecord, newRecord, terminated, withBackend } from './session-record.ts';

describe('session records', () => {
  it('are live strictly before their deadline', () => {
    const record = newRecord(1_000);

    expect(liveRecord(record, 999)).toBe(record);
    expect(liveRecord(record, 1_000)).toBeUndefined();
    expect(liveRecord(undefined, 0)).toBeUndefined();
  });

  it('store a first backend session and extend the deadline, keeping the one already held', () => {
    const stored = withBackend(newRecord(1_000), 'weather', 'b1', 5_000);
    expect(stored).toEqual({ record: { ...newRecord(5_000), backends: { weather: 'b1' } }, id: 'b1', changed: true });

    expect(withBackend(stored.record, 'weather', 'b2', 9_000)).toEqual({
      record: stored.record,
      id: 'b1',
      changed: false,
    });
  });

  it('store nothing in a terminated session and hand the caller its own id', () => {
    const ended = terminated(newRecord(1_000), 2_000);

    expect(withBackend(ended, 'weather', 'b1', 5_000)).toEqual({ record: ended, id: 'b1', changed: false });
  });

  it('keep a termination until the later of both deadlines, without backends', () => {
    const held = withBackend(newRecord(9_000), 'weather', 'b1', 9_000).record;

    expect(terminated(held, 2_000)).toEqual({ expiresAt: 9_000, terminated: true, backends: {} });
    expect(terminated(undefined, 2_000)).toEqual({ expiresAt: 2_000, terminated: true, backends: {} });
  });
});
