import { describe, expect, it } from 'vitest';
import { computeBackoff, sleep } from './backoff.ts';

describe('computeBackoff', () => {
  it('doubles from one second up to the cap', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7].map((attempt) => computeBackoff(attempt, { capMs: 60_000 }));

    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000]);
  });

  it('spreads each delay by at most the jitter either way', () => {
    const low = computeBackoff(3, { capMs: 60_000, jitter: 0.1, random: () => 0 });
    const high = computeBackoff(3, { capMs: 60_000, jitter: 0.1, random: () => 0.999_999 });

    expect(low).toBe(3600);
    expect(high).toBe(4400);
  });

  it('caps before jitter, so a small health interval bounds the retries', () => {
    expect(computeBackoff(10, { capMs: 200, jitter: 0.1, random: () => 0.5 })).toBe(200);
  });
});

describe('sleep', () => {
  it('rejects with the abort reason as soon as the signal aborts', async () => {
    const abort = new AbortController();
    const slept = sleep(60_000, abort.signal);

    abort.abort(new Error('stopped'));

    await expect(slept).rejects.toThrow('stopped');
  });
});
