import { describe, expect, it } from 'vitest';
import { RecentKeys } from './recent-keys.ts';

describe('RecentKeys', () => {
  it('counts each key once within the window and drops keys not seen since', () => {
    const keys = new RecentKeys(1_000, 10);
    keys.touch('a', 0);
    keys.touch('b', 500);
    keys.touch('a', 900);
    expect(keys.count(900)).toBe(2);
    // b was last seen at 500, a at 900: at 1 600 only a is within the last second.
    expect(keys.count(1_600)).toBe(1);
    expect(keys.count(1_900)).toBe(0);
  });

  it('forgets a key it is told to, and holds at most max keys, the least recently seen going first', () => {
    const keys = new RecentKeys(60_000, 3);
    for (const [i, key] of ['a', 'b', 'c'].entries()) keys.touch(key, i);
    keys.touch('a', 3);
    keys.touch('d', 4);
    keys.forget('c');
    expect(keys.count(5)).toBe(2);
    // b was the least recently seen when d came: it is the one forgotten.
    keys.touch('b', 6);
    keys.touch('e', 7);
    expect(keys.count(8)).toBe(3);
  });
});
