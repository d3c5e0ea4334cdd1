import { describe, expect, it } from 'vitest';
import {
  admitCallTo,
  assertCallAdmission,
  fromStoredCallQuota,
  releaseCallFrom,
  type StoredCallQuota,
} from './call-quota.ts';

const NOW = Date.UTC(2026, 0, 1);

describe('assertCallAdmission', () => {
  it('names the first field out of bounds and the value it got', () => {
    expect(() => assertCallAdmission('k', { requests: { limit: 5, windowSeconds: 0 } }, 'l')).toThrow(
      expect.objectContaining({
        code: 'INVALID_PARAMS',
        message: 'requests.windowSeconds must be a whole number from 1 to 86400, not 0',
      }),
    );
  });

  it('accepts limits with neither check', () => {
    expect(() => assertCallAdmission('k', {}, 'l')).not.toThrow();
  });
});

describe('admitCallTo', () => {
  const slots = { concurrent: { limit: 2, leaseSeconds: 10 } };

  it('renews the expiry of a lease admitted again, holding one slot', () => {
    const first = admitCallTo(undefined, slots, 'a', NOW).next;
    const again = admitCallTo(first, slots, 'a', NOW + 5_000).next;

    expect(again?.leases).toEqual([['a', NOW + 15_000]]);
    expect(again?.expiresAt).toBe(NOW + 15_000);
  });

  it('leaves the record alone when it refuses', () => {
    const stored: StoredCallQuota = {
      leases: [
        ['a', NOW + 1],
        ['b', NOW + 2],
      ],
      expiresAt: NOW + 2,
    };

    expect(admitCallTo(stored, slots, 'c', NOW)).toEqual({
      admission: { admitted: false, reason: 'concurrent', retryAfterMs: 1 },
    });
  });

  it('keeps the window a call without a request limit finds', () => {
    const window = { count: 3, endsAt: NOW + 60_000 };
    const next = admitCallTo({ window, leases: [], expiresAt: window.endsAt }, slots, 'a', NOW).next;

    expect(next).toEqual({ window, leases: [['a', NOW + 10_000]], expiresAt: NOW + 60_000 });
  });
});

describe('releaseCallFrom', () => {
  it('drops the record once neither a live window nor a live lease is left', () => {
    const stored: StoredCallQuota = {
      leases: [
        ['a', NOW + 10],
        ['b', NOW],
      ],
      expiresAt: NOW + 10,
    };

    expect(releaseCallFrom(stored, 'a', NOW)).toBeUndefined();
    expect(releaseCallFrom(stored, 'b', NOW)).toEqual({ leases: [['a', NOW + 10]], expiresAt: NOW + 10 });
  });
});

describe('fromStoredCallQuota', () => {
  it('returns a live record as it is', () => {
    const stored = { window: { count: 1, endsAt: NOW + 5 }, leases: [['a', NOW + 9]], expiresAt: NOW + 9 };
    expect(fromStoredCallQuota(stored, NOW)).toBe(stored);
  });

  it.each([
    ['an expired record', { leases: [], expiresAt: NOW }],
    ['null', null],
    ['a string', 'quota'],
    ['a missing deadline', { leases: [] }],
    ['a deadline that is not a number', { leases: [], expiresAt: String(NOW + 1) }],
    ['leases that are not a list', { leases: { a: NOW + 1 }, expiresAt: NOW + 1 }],
    ['a lease that is not a pair', { leases: [['a']], expiresAt: NOW + 1 }],
    ['a lease whose expiry is not a number', { leases: [['a', 'soon']], expiresAt: NOW + 1 }],
    [
      'a window whose count is not a whole number',
      { window: { count: 0.5, endsAt: NOW + 1 }, leases: [], expiresAt: NOW + 1 },
    ],
    ['a window without its end', { window: { count: 1 }, leases: [], expiresAt: NOW + 1 }],
  ])('reads %s as no calls made', (_, value) => {
    expect(fromStoredCallQuota(value, NOW)).toBeUndefined();
  });
});
