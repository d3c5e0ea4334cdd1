import { describe, expect, it } from 'vitest';
import { DEFAULT_MEMORY_MAX_SELECTIONS, createMemorySessionStore } from './memory-session-store.ts';
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
});
