import { describe, expect, it } from 'vitest';
import type { JsonObject } from './types.ts';
import { MAX_LIST_PAGES, listAllPages } from './upstream-list.ts';

describe('listAllPages', () => {
  it('treats an empty nextCursor as the last page', async () => {
    const calls: (JsonObject | undefined)[] = [];

    const items = await listAllPages('s', 'prompts', async (_method, params) => {
      calls.push(params);
      return { prompts: [{ name: 'p' }], nextCursor: '' };
    });

    expect(items).toEqual([{ name: 'p' }]);
    expect(calls).toEqual([undefined]);
  });

  it('stops after the page limit', async () => {
    let pages = 0;

    const listing = listAllPages('s', 'tools', async () => {
      pages += 1;
      return { tools: [], nextCursor: `c${pages}` };
    });

    await expect(listing).rejects.toMatchObject({
      code: 'UPSTREAM_PROTOCOL_ERROR',
      message: `upstream s returned more than ${MAX_LIST_PAGES} pages of tools/list`,
    });
    expect(pages).toBe(MAX_LIST_PAGES);
  });

  it('rejects a result without the item array', async () => {
    await expect(listAllPages('s', 'resourceTemplates', async () => ({ templates: [] }))).rejects.toMatchObject({
      code: 'UPSTREAM_PROTOCOL_ERROR',
      message: 'upstream s answered resources/templates/list without a "resourceTemplates" array',
    });
  });

  it('drops items that are not objects and reports how many', async () => {
    const dropped: number[] = [];

    const items = await listAllPages(
      's',
      'resources',
      async () => ({ resources: [{ uri: 'a:b', name: 'b' }, 'x', null] }),
      (n) => dropped.push(n),
    );

    expect(items).toEqual([{ uri: 'a:b', name: 'b' }]);
    expect(dropped).toEqual([2]);
  });
});
