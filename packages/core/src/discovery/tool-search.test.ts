import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { JsonObject } from '../upstream/types.ts';
import { MAX_SEARCH_LIMIT, createToolIndex, toolIndexFor, type ToolMatch } from './tool-search.ts';

/** A tool as the catalog serves it: `params` maps each top-level property to its description. */
function tool(name: string, description: string, params: Record<string, string> = {}, extra: JsonObject = {}) {
  const properties = Object.fromEntries(
    Object.entries(params).map(([param, about]) => [param, { type: 'string', description: about }]),
  );
  return { name, description, inputSchema: { type: 'object', properties }, ...extra };
}

const TOOLS: readonly JsonObject[] = [
  tool('weather_get_forecast', 'Get the weather forecast for a location for the next few days.', {
    location: 'City name or "lat,lon" coordinates',
    days: 'Number of days to forecast, 1 to 10',
    units: 'metric or imperial',
  }),
  tool('weather_get_alerts', 'Get active severe weather alerts (warnings and watches) for a US state.', {
    state: 'Two-letter US state code, e.g. CA',
  }),
  tool('weather_current_conditions', 'Current temperature, humidity and wind speed at a location.', {
    location: 'City name or coordinates',
  }),
  tool('github_create_issue', 'Create a new issue in a GitHub repository.', {
    owner: 'Repository owner',
    repo: 'Repository name',
    title: 'Issue title',
    body: 'Issue body in Markdown',
    labels: 'Labels to apply',
  }),
  tool('github_list_issues', 'List issues in a GitHub repository, filtered by state and labels.', {
    owner: 'Repository owner',
    repo: 'Repository name',
    state: 'open, closed or all',
    labels: 'Only issues with these labels',
  }),
  tool('github_create_pull_request', 'Open a pull request to merge a head branch into a base branch.', {
    owner: 'Repository owner',
    repo: 'Repository name',
    head: 'Branch with the changes',
    base: 'Branch to merge into',
    title: 'Pull request title',
  }),
  tool('github_add_issue_comment', 'Add a comment to an existing issue or pull request.', {
    owner: 'Repository owner',
    repo: 'Repository name',
    issue_number: 'Number of the issue',
    body: 'Comment text',
  }),
  tool('github_search_code', "Search code across GitHub repositories with GitHub's code search syntax.", {
    query: 'Search query',
    per_page: 'Results per page, at most 100',
  }),
  tool('calendar_create_event', "Schedule a new event on the user's calendar and invite attendees.", {
    calendarId: 'Calendar to add the event to',
    summary: 'Event title',
    startTime: 'Start, RFC 3339',
    endTime: 'End, RFC 3339',
    attendees: 'Email addresses to invite',
  }),
  tool('calendar_list_events', 'List upcoming events between two dates.', {
    calendarId: 'Calendar to read',
    timeMin: 'Earliest start',
    timeMax: 'Latest start',
  }),
  tool('calendar_find_free_slots', 'Find times when all attendees are available to meet.', {
    attendees: 'Email addresses',
    durationMinutes: 'Length of the slot',
  }),
  tool('fs_read_file', 'Read the complete contents of a file from the file system.', {
    path: 'Path of the file',
    encoding: 'Text encoding, utf-8 by default',
  }),
  tool('fs_write_file', 'Create a new file or overwrite an existing file with new content.', {
    path: 'Path of the file',
    content: 'Text to write',
  }),
  tool('fs_list_directory', 'List files and subdirectories in a directory.', {
    path: 'Directory path',
    recursive: 'Descend into subdirectories',
  }),
  tool('postgres_query', 'Run a read-only SQL query against the PostgreSQL database.', { sql: 'The statement' }),
  tool('postgresListTables', 'List the tables and their columns in a database schema.', { schemaName: 'Schema' }),
  tool('redisSetKey', 'Store a value with an optional expiry.', {
    key: 'Key name',
    value: 'Value',
    ttlSeconds: 'Time to live',
  }),
];

const index = createToolIndex(TOOLS);
const names = (matches: readonly ToolMatch[]) => matches.map((match) => match.name);
const search = (query: string, limit = 10) => index.search(query, { limit });

describe('createToolIndex ranking', () => {
  it('ranks the create-issue tool first for "create an issue on github"', () => {
    expect(names(search('create an issue on github'))[0]).toBe('github_create_issue');
  });

  it('ranks the forecast tool above the alerts tool for "what\'s the weather forecast"', () => {
    const ranked = names(search("what's the weather forecast"));
    expect(ranked[0]).toBe('weather_get_forecast');
    expect(ranked).toContain('weather_get_alerts');
  });

  it('matches inflected words through stemming ("creating issues", "scheduled meetings")', () => {
    expect(names(search('creating issues'))[0]).toBe('github_create_issue');
    // "Schedule" in one description, "meet" in the other: each query word meets its stem.
    expect(names(search('scheduled meetings')).sort()).toEqual(['calendar_create_event', 'calendar_find_free_slots']);
  });

  it('finds a tool by the name of one of its parameters', () => {
    // "duration", "ttl" and "seconds" occur only in parameter names.
    expect(names(search('duration'))).toEqual(['calendar_find_free_slots']);
    expect(names(search('ttl seconds'))).toEqual(['redisSetKey']);
  });

  it('matches camelCase and snake_case names from plain words', () => {
    expect(names(search('list tables'))[0]).toBe('postgresListTables');
    expect(names(search('set a key'))[0]).toBe('redisSetKey');
    expect(names(search('read file'))[0]).toBe('fs_read_file');
    expect(names(search('postgres_list_tables'))[0]).toBe('postgresListTables');
  });

  it("weighs a word in a tool's name above the same word in another tool's description", () => {
    const tools = [
      tool('aa_restore', 'Restore from a backup.'),
      tool('zz_backup_now', 'Copy everything somewhere safe now.'),
    ];
    expect(names(createToolIndex(tools).search('backup', { limit: 5 }))).toEqual(['zz_backup_now', 'aa_restore']);
  });

  it('weighs a rare query word above a word most tools share', () => {
    const tools = [
      tool('aa_data_reader', 'Reads data.'),
      tool('zz_billing', 'Sends an invoice.'),
      ...['one', 'two', 'three'].map((n) => tool(`data_${n}`, `Data tool ${n}.`)),
    ];
    expect(names(createToolIndex(tools).search('data invoice', { limit: 5 }))[0]).toBe('zz_billing');
  });

  it('weighs a word in a short description above the same word in a long one', () => {
    const long = 'Converts currency amounts between any two of the hundred and fifty supported ISO codes, daily rates.';
    const tools = [tool('aa_long', long), tool('zz_short', 'Converts currency.')];
    expect(names(createToolIndex(tools).search('currency', { limit: 5 }))).toEqual(['zz_short', 'aa_long']);
  });

  it('does not let one word repeated many times outweigh matching more of the query', () => {
    const tools = [tool('aa_spam', 'pdf '.repeat(30)), tool('zz_combine', 'Merge pdf files.')];
    expect(names(createToolIndex(tools).search('merge pdf', { limit: 5 }))).toEqual(['zz_combine', 'aa_spam']);
  });

  it('ranks by title and annotations.title as well as description', () => {
    const tools = [
      tool('a_tool', 'Does something.', {}, { title: 'Translate text' }),
      tool('b_tool', 'Does something.', {}, { annotations: { title: 'Summarize text' } }),
      tool('c_tool', 'Does something else.'),
    ];
    expect(names(createToolIndex(tools).search('translate', { limit: 5 }))).toEqual(['a_tool']);
    expect(names(createToolIndex(tools).search('summarize', { limit: 5 }))).toEqual(['b_tool']);
  });

  it('matches words in other scripts and accents whatever their normalization', () => {
    const tools = [
      ...TOOLS,
      tool('meteo_previsions', 'Prévisions météo pour une ville.', { ville: 'Nom de la ville' }),
      tool('pogoda_seychas', 'Текущая погода в городе.', { город: 'Название города' }),
    ];
    const multilingual = createToolIndex(tools);
    expect(names(multilingual.search('prévisions me\u0301te\u0301o', { limit: 5 }))).toEqual(['meteo_previsions']);
    expect(names(multilingual.search('Погода', { limit: 5 }))).toEqual(['pogoda_seychas']);
    expect(names(multilingual.search('город', { limit: 5 }))).toEqual(['pogoda_seychas']);
  });

  it('orders matches by score, ties by name, with positive rounded scores', () => {
    const tied = createToolIndex([tool('b_copy', 'Convert currency.'), tool('a_copy', 'Convert currency.')]);
    expect(tied.search('convert currency', { limit: 5 }).map((m) => m.name)).toEqual(['a_copy', 'b_copy']);
    for (const query of ['github issue', 'file', 'list', 'weather location', 'calendar events attendees']) {
      const matches = search(query, MAX_SEARCH_LIMIT);
      expect(matches.length).toBeGreaterThan(1);
      for (const [i, match] of matches.entries()) {
        expect(match.score).toBeGreaterThan(0);
        expect(Number(match.score.toPrecision(4))).toBe(match.score);
        const next = matches[i + 1];
        if (next === undefined) continue;
        expect(match.score > next.score || (match.score === next.score && match.name < next.name)).toBe(true);
      }
    }
  });

  it('returns the same matches for a query and for the same query with stop words and punctuation', () => {
    expect(search('Could you please list the files in my directory?!')).toEqual(search('could list files directory'));
  });
});

describe('createToolIndex bounds', () => {
  it('returns nothing for a blank query or one without usable words', () => {
    for (const query of ['', '   ', '?!.,', 'the of a', 'x y z']) expect(search(query)).toEqual([]);
  });

  it('returns at most limit matches, clamped to 1..50', () => {
    const many = createToolIndex(Array.from({ length: 80 }, (_, i) => tool(`widget_${i}`, 'Manage a widget.')));
    expect(many.search('widget', { limit: 3 })).toHaveLength(3);
    expect(many.search('widget', { limit: 0 })).toHaveLength(1);
    expect(many.search('widget', { limit: -5 })).toHaveLength(1);
    expect(many.search('widget', { limit: Number.NaN })).toHaveLength(1);
    expect(many.search('widget', { limit: 1000 })).toHaveLength(MAX_SEARCH_LIMIT);
    expect(many.search('widget', { limit: Infinity })).toHaveLength(MAX_SEARCH_LIMIT);
  });

  it('returns the head of the longer list for every smaller limit', () => {
    fc.assert(
      fc.property(
        fc.subarray(['github', 'issue', 'file', 'list', 'calendar', 'weather', 'create', 'path']),
        (words) => {
          const all = search(words.join(' '), MAX_SEARCH_LIMIT);
          for (let limit = 1; limit <= all.length; limit++)
            expect(search(words.join(' '), limit)).toEqual(all.slice(0, limit));
        },
      ),
    );
  });

  it('reads only the first 512 characters of a 10 000-character query', () => {
    expect(names(search('forecast '.repeat(1112).slice(0, 10_000)))).toEqual(['weather_get_forecast']);
    expect(search(`${'-'.repeat(512)} forecast ${'forecast '.repeat(1000)}`)).toEqual([]);
    expect(names(search(`${'-'.repeat(502)} forecast`))).toEqual(['weather_get_forecast']);
  });

  it('counts only the first 32 distinct terms of a query with 1 000 words', () => {
    const filler = Array.from({ length: 1000 }, (_, i) => `w${i}`);
    expect(search([...filler.slice(0, 32), 'forecast'].join(' '))).toEqual([]);
    expect(names(search([...filler.slice(0, 31), 'forecast'].join(' ')))).toEqual(['weather_get_forecast']);
    // Repeats do not use up the budget: 100 copies of one word are one term.
    expect(names(search(['w0 '.repeat(100), 'forecast'].join(' ')))).toEqual(['weather_get_forecast']);
    expect(names(search(['forecast', ...filler].join(' ')))).toEqual(['weather_get_forecast']);
  });

  it('skips items without a string name and tolerates malformed schemas', () => {
    const odd = createToolIndex([
      { description: 'Nameless forecast' },
      { name: 42, description: 'Numbered forecast' },
      { name: 'odd_forecast', description: 7, inputSchema: { properties: ['not', 'an', 'object'] }, title: null },
      { name: 'odd_days', inputSchema: { properties: { days: 'not a schema' } }, annotations: 'none' },
    ]);
    expect(names(odd.search('forecast', { limit: 5 }))).toEqual(['odd_forecast']);
    expect(names(odd.search('days', { limit: 5 }))).toEqual(['odd_days']);
  });
});

describe('createToolIndex visibility', () => {
  it('never returns a tool the visible filter rejects', () => {
    const hidden = new Set(['github_create_issue', 'github_list_issues']);
    const visible = (name: string) => !hidden.has(name);
    for (const query of ['create an issue on github', 'issues', 'github_create_issue', 'repository owner']) {
      const matches = names(index.search(query, { limit: MAX_SEARCH_LIMIT, visible }));
      expect(matches.length).toBeGreaterThan(0);
      for (const name of hidden) expect(matches).not.toContain(name);
    }
    expect(index.search('github', { limit: 5, visible: () => false })).toEqual([]);
  });

  it('ranks and scores as if only the visible tools were indexed', () => {
    const allNames = TOOLS.map((t) => String(t.name));
    fc.assert(
      fc.property(
        fc.subarray(allNames),
        fc.subarray(['github', 'issue', 'file', 'list', 'calendar', 'weather', 'create', 'location', 'owner']),
        (shown, words) => {
          const visible = new Set(shown);
          const alone = createToolIndex(TOOLS.filter((t) => visible.has(String(t.name))));
          const query = words.join(' ');
          const filtered = index.search(query, { limit: MAX_SEARCH_LIMIT, visible: (name) => visible.has(name) });
          expect(filtered).toEqual(alone.search(query, { limit: MAX_SEARCH_LIMIT }));
        },
      ),
    );
  });
});

describe('toolIndexFor', () => {
  it('builds one index per tools array and a new one for a new array', () => {
    const tools = [...TOOLS];
    expect(toolIndexFor(tools)).toBe(toolIndexFor(tools));
    expect(toolIndexFor([...tools])).not.toBe(toolIndexFor(tools));
  });

  it('does not read the tool objects again when searching', () => {
    let reads = 0;
    const counted = TOOLS.map((t) => ({
      ...t,
      get description() {
        reads++;
        return t.description;
      },
    }));
    const built = toolIndexFor(counted);
    const afterBuild = reads;
    expect(afterBuild).toBe(counted.length);
    built.search('weather forecast', { limit: 5 });
    toolIndexFor(counted).search('github issue', { limit: 5 });
    expect(reads).toBe(afterBuild);
  });
});
