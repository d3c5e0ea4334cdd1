import { beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_CALL_LEASE_LENGTH,
  MAX_CALL_LIMIT,
  MAX_CALL_LIMIT_SECONDS,
  MAX_QUOTA_KEY_LENGTH,
  type CallLimits,
} from './call-quota.ts';
import type { SessionStore } from './session-store.ts';

/** What `runSessionStoreCase` gives the quota cases: its store and its clock. */
export interface CallQuotaCaseContext {
  /** The store of the current test. */
  store(): SessionStore;
  /** Moves the store's clock forward by `ms`. */
  advance(ms: number): void;
}

const ADMITTED = { admitted: true };
const refused = (reason: 'requests' | 'concurrent', retryAfterMs: number) => ({
  admitted: false,
  reason,
  retryAfterMs,
});

const ONE_PER_MINUTE: CallLimits = { requests: { limit: 1, windowSeconds: 60 } };

/**
 * The behaviour of `admitCall`, `admitSessionCall` and `releaseCall` every SessionStore must show; registered by
 * `runSessionStoreCase` inside its own describe, so that each implementation runs it.
 */
export function runCallQuotaCase({ store, advance }: CallQuotaCaseContext): void {
  // Fresh per test, so that shared backends (Redis) never see another test's counts.
  let key: string;
  beforeEach(() => {
    key = `quota-${crypto.randomUUID()}`;
  });

  const admit = (limits: CallLimits, lease: string, on = key) => store().admitCall(on, limits, lease);

  it('admits as many calls as the request limit and refuses the next until the window ends', async () => {
    const limits: CallLimits = { requests: { limit: 3, windowSeconds: 60 } };
    for (const lease of ['a', 'b', 'c']) expect(await admit(limits, lease)).toEqual(ADMITTED);
    advance(20_000);

    const refusal = await admit(limits, 'd');
    expect(refusal).toEqual(refused('requests', 40_000));
    advance(39_999);
    expect(await admit(limits, 'd')).toEqual(refused('requests', 1));

    advance(1);
    expect(await admit(limits, 'd')).toEqual(ADMITTED);
  });

  it('starts the next window with the first call after the last one ended', async () => {
    const limits: CallLimits = { requests: { limit: 2, windowSeconds: 60 } };
    await admit(limits, 'a');
    advance(100_000);

    await admit(limits, 'b');
    advance(10_000);
    expect(await admit(limits, 'c')).toEqual(ADMITTED);

    expect(await admit(limits, 'd')).toEqual(refused('requests', 50_000));
  });

  it('admits as many calls at once as the concurrency limit, and one more once one is released', async () => {
    const limits: CallLimits = { concurrent: { limit: 2, leaseSeconds: 30 } };
    expect(await admit(limits, 'a')).toEqual(ADMITTED);
    expect(await admit(limits, 'b')).toEqual(ADMITTED);
    expect(await admit(limits, 'c')).toEqual(refused('concurrent', 30_000));

    await store().releaseCall(key, 'a');

    expect(await admit(limits, 'c')).toEqual(ADMITTED);
    expect(await admit(limits, 'd')).toEqual(refused('concurrent', 30_000));
  });

  it('frees a slot whose lease was not released once its leaseSeconds have passed', async () => {
    // The longer window keeps the key's other state alive past the lease.
    const limits: CallLimits = {
      requests: { limit: 10, windowSeconds: 60 },
      concurrent: { limit: 1, leaseSeconds: 10 },
    };
    await admit(limits, 'a');
    advance(4_000);

    expect(await admit(limits, 'b')).toEqual(refused('concurrent', 6_000));
    advance(5_999);
    expect(await admit(limits, 'b')).toEqual(refused('concurrent', 1));

    advance(1);
    expect(await admit(limits, 'b')).toEqual(ADMITTED);
  });

  it('does not count a call the concurrency limit refused', async () => {
    const limits: CallLimits = {
      requests: { limit: 2, windowSeconds: 60 },
      concurrent: { limit: 1, leaseSeconds: 30 },
    };
    await admit(limits, 'a');
    expect(await admit(limits, 'b')).toEqual(refused('concurrent', 30_000));
    await store().releaseCall(key, 'a');

    expect(await admit(limits, 'c')).toEqual(ADMITTED);
    await store().releaseCall(key, 'c');

    expect(await admit(limits, 'd')).toEqual(refused('requests', 60_000));
  });

  it('does not take a slot for a call the request limit refused', async () => {
    await admit({ requests: { limit: 1, windowSeconds: 60 }, concurrent: { limit: 2, leaseSeconds: 30 } }, 'a');
    const refusal = await admit(
      { requests: { limit: 1, windowSeconds: 60 }, concurrent: { limit: 2, leaseSeconds: 30 } },
      'b',
    );
    expect(refusal).toEqual(refused('requests', 60_000));

    const concurrentOnly: CallLimits = { concurrent: { limit: 2, leaseSeconds: 30 } };
    expect(await admit(concurrentOnly, 'c')).toEqual(ADMITTED);
    expect(await admit(concurrentOnly, 'd')).toEqual(refused('concurrent', 30_000));
  });

  it('refuses for concurrency first when both limits are reached', async () => {
    const limits: CallLimits = {
      requests: { limit: 1, windowSeconds: 60 },
      concurrent: { limit: 1, leaseSeconds: 10 },
    };
    await admit(limits, 'a');

    expect(await admit(limits, 'b')).toEqual(refused('concurrent', 10_000));
    await store().releaseCall(key, 'a');
    expect(await admit(limits, 'b')).toEqual(refused('requests', 60_000));
  });

  it('keeps the counts and slots of different keys apart', async () => {
    const other = `${key}-other`;
    const limits: CallLimits = {
      requests: { limit: 1, windowSeconds: 60 },
      concurrent: { limit: 1, leaseSeconds: 30 },
    };
    expect(await admit(limits, 'a')).toEqual(ADMITTED);

    expect(await admit(limits, 'a', other)).toEqual(ADMITTED);
    expect(await admit(limits, 'b')).toEqual(refused('concurrent', 30_000));
    await store().releaseCall(other, 'a');
    expect(await admit(limits, 'b')).toEqual(refused('concurrent', 30_000));
  });

  it('ignores the release of an unknown lease, of an unknown key, and a second release', async () => {
    const limits: CallLimits = { concurrent: { limit: 2, leaseSeconds: 30 } };
    await store().releaseCall(`${key}-unknown`, 'a');
    await admit(limits, 'a');
    await admit(limits, 'b');

    await store().releaseCall(key, 'unknown');
    expect(await admit(limits, 'c')).toEqual(refused('concurrent', 30_000));

    await store().releaseCall(key, 'a');
    await store().releaseCall(key, 'a');
    expect(await admit(limits, 'c')).toEqual(ADMITTED);
    expect(await admit(limits, 'd')).toEqual(refused('concurrent', 30_000));
  });

  it('admits a call under no limits without counting it', async () => {
    for (const lease of ['a', 'b', 'c']) expect(await admit({}, lease)).toEqual(ADMITTED);

    expect(await admit(ONE_PER_MINUTE, 'd')).toEqual(ADMITTED);
    expect(await admit(ONE_PER_MINUTE, 'e')).toEqual(refused('requests', 60_000));
  });

  it('keeps a quota apart from the session and the selection named by the same string', async () => {
    const name = `jti-${crypto.randomUUID()}`;
    await store().ensureBackendSession(name, 'weather', 3600, async () => 'b1');
    await store().writeSelection(name, ['weather_get'], 3600);
    await admit(ONE_PER_MINUTE, 'a', name);

    expect(await store().terminate(name, 3600)).toEqual({ weather: 'b1' });
    await store().writeSelection(name, [], 3600);

    expect(await admit(ONE_PER_MINUTE, 'b', name)).toEqual(refused('requests', 60_000));
  });

  it('accepts limits, a key and a lease at their bounds', async () => {
    const longKey = `${key}-`.padEnd(MAX_QUOTA_KEY_LENGTH, 'k');
    const longLease = 'l'.repeat(MAX_CALL_LEASE_LENGTH);
    const limits: CallLimits = {
      requests: { limit: MAX_CALL_LIMIT, windowSeconds: MAX_CALL_LIMIT_SECONDS },
      concurrent: { limit: 1, leaseSeconds: MAX_CALL_LIMIT_SECONDS },
    };

    expect(await admit(limits, longLease, longKey)).toEqual(ADMITTED);
    expect(await admit(limits, 'other', longKey)).toEqual(refused('concurrent', MAX_CALL_LIMIT_SECONDS * 1000));
    await store().releaseCall(longKey, longLease);
    expect(await admit(limits, 'other', longKey)).toEqual(ADMITTED);
  });

  describe('admitSessionCall', () => {
    const ONE_AT_ONCE: CallLimits = { concurrent: { limit: 1, leaseSeconds: 30 } };
    let jti: string;
    beforeEach(() => {
      jti = `jti-${crypto.randomUUID()}`;
    });

    it("answers the session's lookup and the call's admission together", async () => {
      await store().ensureBackendSession(jti, 'weather', 3600, async () => 'b1');

      expect(await store().admitSessionCall(jti, 'weather', key, ONE_AT_ONCE, 'a')).toEqual({
        session: { terminated: false, backendSessionId: 'b1' },
        admission: ADMITTED,
      });
      expect(await store().admitSessionCall(jti, 'files', key, ONE_AT_ONCE, 'b')).toEqual({
        session: { terminated: false },
        admission: refused('concurrent', 30_000),
      });
    });

    it('counts against the same quota as admitCall', async () => {
      expect(await admit(ONE_PER_MINUTE, 'a')).toEqual(ADMITTED);

      const answer = await store().admitSessionCall(jti, 'weather', key, ONE_PER_MINUTE, 'b');
      expect(answer).toEqual({ session: { terminated: false }, admission: refused('requests', 60_000) });
      advance(60_000);
      expect((await store().admitSessionCall(jti, 'weather', key, ONE_PER_MINUTE, 'c')).admission).toEqual(ADMITTED);
      expect(await admit(ONE_PER_MINUTE, 'd')).toEqual(refused('requests', 60_000));
    });

    it('admits the call on an ended session too, whose slot releaseCall gives back', async () => {
      await store().ensureBackendSession(jti, 'weather', 3600, async () => 'b1');
      await store().terminate(jti, 3600);

      expect(await store().admitSessionCall(jti, 'weather', key, ONE_AT_ONCE, 'a')).toEqual({
        session: { terminated: true },
        admission: ADMITTED,
      });
      await store().releaseCall(key, 'a');

      expect(await admit(ONE_AT_ONCE, 'b')).toEqual(ADMITTED);
    });

    it('refuses limits out of bounds with INVALID_PARAMS, counting nothing', async () => {
      const limits: CallLimits = { requests: { limit: 0, windowSeconds: 60 } };
      await expect(store().admitSessionCall(jti, 'weather', key, limits, 'a')).rejects.toMatchObject({
        code: 'INVALID_PARAMS',
        message: expect.stringContaining('requests.limit'),
      });
      await expect(store().admitSessionCall(jti, 'weather', '', ONE_PER_MINUTE, 'a')).rejects.toMatchObject({
        code: 'INVALID_PARAMS',
        message: expect.stringContaining('quota key'),
      });

      expect(await admit(ONE_PER_MINUTE, 'b')).toEqual(ADMITTED);
    });
  });

  describe('refuses with INVALID_PARAMS, counting nothing,', () => {
    const valid = { limit: 1, windowSeconds: 60 };
    const slots = { limit: 1, leaseSeconds: 30 };
    it.each<[string, CallLimits, string]>([
      ['a request limit of 0', { requests: { limit: 0, windowSeconds: 60 }, concurrent: slots }, 'requests.limit'],
      ['a negative request limit', { requests: { limit: -1, windowSeconds: 60 } }, 'requests.limit'],
      ['a fractional request limit', { requests: { limit: 1.5, windowSeconds: 60 } }, 'requests.limit'],
      [
        'a request limit above the bound',
        { requests: { limit: MAX_CALL_LIMIT + 1, windowSeconds: 60 } },
        'requests.limit',
      ],
      [
        'a request limit that is not a number',
        { requests: { limit: '3' as unknown as number, windowSeconds: 60 } },
        'requests.limit',
      ],
      ['a window of 0 s', { requests: { limit: 1, windowSeconds: 0 } }, 'requests.windowSeconds'],
      [
        'a window above a day',
        { requests: { limit: 1, windowSeconds: MAX_CALL_LIMIT_SECONDS + 1 } },
        'requests.windowSeconds',
      ],
      ['a concurrency limit of 0', { requests: valid, concurrent: { limit: 0, leaseSeconds: 30 } }, 'concurrent.limit'],
      [
        'a concurrency limit above the bound',
        { requests: valid, concurrent: { limit: MAX_CALL_LIMIT + 1, leaseSeconds: 30 } },
        'concurrent.limit',
      ],
      [
        'a fractional lease time',
        { requests: valid, concurrent: { limit: 1, leaseSeconds: 2.5 } },
        'concurrent.leaseSeconds',
      ],
      [
        'a lease above a day',
        { requests: valid, concurrent: { limit: 1, leaseSeconds: MAX_CALL_LIMIT_SECONDS + 1 } },
        'concurrent.leaseSeconds',
      ],
      ['limits that are not an object', null as unknown as CallLimits, 'call limits'],
      ['requests that are not an object', { requests: 7 as unknown as typeof valid }, 'requests'],
    ])('%s', async (_, limits, named) => {
      await expect(admit(limits, 'a')).rejects.toMatchObject({
        code: 'INVALID_PARAMS',
        message: expect.stringContaining(named),
      });

      expect(await admit(ONE_PER_MINUTE, 'b')).toEqual(ADMITTED);
    });

    it('an empty or too long key or lease, on admission and on release', async () => {
      const longKey = 'k'.repeat(MAX_QUOTA_KEY_LENGTH + 1);
      const longLease = 'l'.repeat(MAX_CALL_LEASE_LENGTH + 1);
      const attempts: [() => Promise<unknown>, string][] = [
        [() => admit(ONE_PER_MINUTE, 'a', ''), 'quota key'],
        [() => admit(ONE_PER_MINUTE, 'a', longKey), 'quota key'],
        [() => admit(ONE_PER_MINUTE, ''), 'lease'],
        [() => admit(ONE_PER_MINUTE, longLease), 'lease'],
        [() => store().releaseCall('', 'a'), 'quota key'],
        [() => store().releaseCall(longKey, 'a'), 'quota key'],
        [() => store().releaseCall(key, ''), 'lease'],
        [() => store().releaseCall(key, longLease), 'lease'],
      ];
      for (const [attempt, named] of attempts) {
        await expect(attempt()).rejects.toMatchObject({
          code: 'INVALID_PARAMS',
          message: expect.stringContaining(named),
        });
      }

      expect(await admit(ONE_PER_MINUTE, 'b')).toEqual(ADMITTED);
    });
  });
}
