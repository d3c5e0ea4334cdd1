import { describe, expect, it } from 'vitest';
import { RecentKeys } from './recent-keys.ts';

describe('RecentKeys', () => {
  it('counts each key once within the window and drops keys not seen since', () => {
    const keys = new RecentKeys(60_000, 10);
    keys.touch('a', 0);
    keys.touch('b', 30_000);
    keys.touch('a', 54_000);
    expect(keys.count(54_000)).toBe(2);
    // b was last seen at 30 s, a at 54 s: at 90 s only a is within the last minute.
    expect(keys.count(90_001)).toBe(1);
    expect(keys.count(114_001)).toBe(0);
  });

  it('notes a key again at most once a second', () => {
    const keys = new RecentKeys(60_000, 10);
    keys.touch('a', 0);
    keys.touch('a', 500);
    // The touch at 0.5 s was not recorded: a counts as last seen at 0.
    expect(keys.count(60_400)).toBe(0);
    keys.touch('b', 0);
    keys.touch('b', 1_000);
    expect(keys.count(60_400)).toBe(1);
  });

  it('forgets a key it is told to, and holds at most max keys, the least recently seen going first', () => {
    const keys = new RecentKeys(60_000, 3);
    for (const [i, key] of ['a', 'b', 'c'].entries()) keys.touch(key, i * 2_000);
    keys.touch('a', 6_000);
    keys.touch('d', 8_000);
    keys.forget('c');
    expect(keys.count(10_000)).toBe(2);
    // b was the least recently seen when d came: it is the one forgotten.
    keys.touch('b', 12_000);
    keys.touch('e', 14_000);
    expect(keys.count(16_000)).toBe(3);
  });
});
