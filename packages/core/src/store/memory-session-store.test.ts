import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MEMORY_MAX_QUOTAS,
  DEFAULT_MEMORY_MAX_SELECTIONS,
  createMemorySessionStore,
} from './memory-session-store.ts';
import { runSessionStoreCase } from './session-store.case.ts';

describe('createMemorySessionStore', () => {
  runSessionStoreCase(({ now }) => createMemorySessionStore({ now }));

  describe('tool selections', () => {
    it(`keeps at most ${DEFAULT_MEMORY_MAX_SELECTIONS} owners, evicting the one written longest ago`, async () => {
      const store = createMemorySessionStore();
      for (let i = 0; i < DEFAULT_MEMORY_MAX_SELECTIONS; i++) await store.writeSelection(`owner-${i}`, ['t'], 60);

      await store.writeSelection('owner-new', ['t'], 60);

      expect(await store.readSelection('owner-0')).toBeUndefined();
      expect(await store.readSelection('owner-1')).toEqual(['t']);
      expect(await store.readSelection(`owner-${DEFAULT_MEMORY_MAX_SELECTIONS - 1}`)).toEqual(['t']);
      expect(await store.readSelection('owner-new')).toEqual(['t']);
    });

    it('counts a rewrite as the newest write', async () => {
      const store = createMemorySessionStore({ maxSelections: 2 });
      await store.writeSelection('a', ['t1'], 60);
      await store.writeSelection('b', ['t2'], 60);
      await store.writeSelection('a', ['t3'], 60);

      await store.writeSelection('c', ['t4'], 60);

      expect(await store.readSelection('a')).toEqual(['t3']);
      expect(await store.readSelection('b')).toBeUndefined();
      expect(await store.readSelection('c')).toEqual(['t4']);
    });

    it("is not changed by the caller's later changes to the list it wrote", async () => {
      const store = createMemorySessionStore();
      const tools = ['weather_get'];
      await store.writeSelection('a', tools, 60);

      tools.push('news_top');

      expect(await store.readSelection('a')).toEqual(['weather_get']);
    });
  });

  describe('call quotas', () => {
    const onePerMinute = { requests: { limit: 1, windowSeconds: 60 } };

    it(`counts at most ${DEFAULT_MEMORY_MAX_QUOTAS} keys, forgetting the one admitted longest ago`, async () => {
      const store = createMemorySessionStore();
      for (let i = 0; i < DEFAULT_MEMORY_MAX_QUOTAS; i++) await store.admitCall(`key-${i}`, onePerMinute, 'l');

      await store.admitCall('key-new', onePerMinute, 'l');

      expect(await store.admitCall('key-0', onePerMinute, 'l')).toEqual({ admitted: true });
      expect(await store.admitCall('key-2', onePerMinute, 'l')).toMatchObject({ admitted: false });
      expect(await store.admitCall('key-new', onePerMinute, 'l')).toMatchObject({ admitted: false });
    });

    it('forgets the key admitted longest ago, even when calls under it were refused or released since', async () => {
      const store = createMemorySessionStore({ maxQuotas: 2 });
      const limits = { ...onePerMinute, concurrent: { limit: 1, leaseSeconds: 30 } };
      await store.admitCall('a', limits, 'l');
      await store.admitCall('b', limits, 'l');
      expect(await store.admitCall('a', limits, 'm')).toMatchObject({ admitted: false });
      await store.releaseCall('a', 'l');

      await store.admitCall('c', limits, 'l');

      expect(await store.admitCall('b', limits, 'n')).toMatchObject({ admitted: false, reason: 'concurrent' });
      expect(await store.admitCall('a', limits, 'n')).toEqual({ admitted: true });
    });
  });
});
