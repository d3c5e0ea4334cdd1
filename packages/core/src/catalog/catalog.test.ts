import { afterEach, describe, expect, it, vi } from 'vitest';
import type { UpstreamSnapshot } from '../upstream/types.ts';
import { buildCatalog, diffCatalogs } from './catalog.ts';
import { fakeServer as server, fakeSnapshot as snapshot } from './catalog.fixtures.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

const tool = (name: string, description = `${name} tool`) => ({ name, description, inputSchema: { type: 'object' } });
const prompt = (name: string) => ({ name, description: `${name} prompt` });
const resource = (uri: string, name = uri) => ({ uri, name });
const template = (uriTemplate: string) => ({ uriTemplate, name: uriTemplate });

function snapshots(...list: UpstreamSnapshot[]): Map<string, UpstreamSnapshot> {
  return new Map(list.map((s) => [s.server, s]));
}

const names = (items: readonly { [key: string]: unknown }[]) => items.map((item) => item['name']);

describe('buildCatalog', () => {
  it('serves the union of all servers with each server prefix applied', () => {
    const catalog = buildCatalog(
      [server('weather', 'w_'), server('news', 'n_')],
      snapshots(
        snapshot('weather', {
          tools: [tool('forecast')],
          prompts: [prompt('summary')],
          resources: [resource('test://stations', 'stations')],
          resourceTemplates: [template('test://station/{id}')],
        }),
        snapshot('news', { tools: [tool('headlines')], prompts: [prompt('digest')] }),
      ),
    );

    expect(catalog.tools).toEqual([
      { name: 'n_headlines', description: 'headlines tool', inputSchema: { type: 'object' } },
      { name: 'w_forecast', description: 'forecast tool', inputSchema: { type: 'object' } },
    ]);
    expect(names(catalog.prompts)).toEqual(['n_digest', 'w_summary']);
    expect(catalog.resources).toEqual([{ uri: 'test://w_stations', name: 'stations' }]);
    expect(catalog.resourceTemplates).toEqual([{ uriTemplate: 'test://w_station/{id}', name: 'test://station/{id}' }]);
    expect(catalog.conflicts.size).toBe(0);
  });

  it('lists items sorted by served name whatever order upstreams list them in', () => {
    const catalog = buildCatalog(
      [server('b', 'b_'), server('a', 'a_')],
      snapshots(
        snapshot('b', { tools: [tool('zeta'), tool('alpha')], resources: [resource('x://2'), resource('x://1')] }),
        snapshot('a', { tools: [tool('mid')], resourceTemplates: [template('y://{z}'), template('x://{z}')] }),
      ),
    );

    expect(names(catalog.tools)).toEqual(['a_mid', 'b_alpha', 'b_zeta']);
    expect(catalog.resources.map((r) => r['uri'])).toEqual(['x://b_1', 'x://b_2']);
    expect(catalog.resourceTemplates.map((t) => t['uriTemplate'])).toEqual(['x://a_{z}', 'y://a_{z}']);
  });

  it('leaves out servers that are not ready, disabled or without a snapshot', () => {
    const catalog = buildCatalog(
      [server('down', 'd_'), server('off', 'o_', { enabled: false }), server('new', 'x_'), server('up', 'u_')],
      snapshots(
        snapshot('down', { ready: false, tools: [tool('t')], prompts: [prompt('p')], resources: [resource('a://b')] }),
        snapshot('off', { tools: [tool('t')], prompts: [prompt('p')], capabilities: { resources: {} } }),
        snapshot('up', { tools: [tool('t')] }),
      ),
    );

    expect(names(catalog.tools)).toEqual(['u_t']);
    expect(catalog.prompts).toEqual([]);
    expect(catalog.resources).toEqual([]);
    expect(catalog.findTool('d_t')).toBeUndefined();
    expect(catalog.findTool('o_t')).toBeUndefined();
    expect(catalog.resolveResourceUri('a://d_b')).toBeUndefined();
    expect(catalog.resolveResourceUri('a://o_b')).toBeUndefined();
  });

  it('keeps a clashing name for the first server in config order and reports it for the later one', () => {
    const servers = [server('first', ''), server('second', '')];
    // Snapshots arrive in the other order: config order decides, not arrival.
    const catalog = buildCatalog(
      servers,
      snapshots(
        snapshot('second', {
          tools: [tool('search', 'second'), tool('only-second')],
          prompts: [prompt('ask')],
          resources: [resource('docs://readme', 'second readme')],
        }),
        snapshot('first', {
          tools: [tool('search', 'first')],
          prompts: [prompt('ask')],
          resources: [resource('docs://readme', 'first readme')],
        }),
      ),
    );

    expect(catalog.tools.find((t) => t['name'] === 'search')?.['description']).toBe('first');
    expect(catalog.findTool('search')).toEqual({ server: 'first', name: 'search' });
    expect(catalog.findTool('only-second')).toEqual({ server: 'second', name: 'only-second' });
    expect(catalog.findPrompt('ask')).toEqual({ server: 'first', name: 'ask' });
    expect(catalog.resolveResourceUri('docs://readme')).toEqual({ server: 'first', name: 'docs://readme' });
    expect(catalog.resources).toEqual([{ uri: 'docs://readme', name: 'first readme' }]);
    expect([...catalog.conflicts.keys()]).toEqual(['second']);
    expect(catalog.conflicts.get('second')).toEqual({
      tools: ['search'],
      prompts: ['ask'],
      resources: ['docs://readme'],
    });
  });

  it('maps served tool and prompt names back to their server and upstream name', () => {
    const catalog = buildCatalog(
      [server('weather', 'w_'), server('plain', '')],
      snapshots(
        snapshot('weather', { tools: [tool('forecast')], prompts: [prompt('summary')] }),
        snapshot('plain', { tools: [tool('echo')], prompts: [prompt('hello')] }),
      ),
    );

    expect(catalog.findTool('w_forecast')).toEqual({ server: 'weather', name: 'forecast' });
    expect(catalog.findTool('echo')).toEqual({ server: 'plain', name: 'echo' });
    expect(catalog.findPrompt('w_summary')).toEqual({ server: 'weather', name: 'summary' });
    expect(catalog.findPrompt('hello')).toEqual({ server: 'plain', name: 'hello' });
    expect(catalog.findTool('forecast')).toBeUndefined();
    expect(catalog.findTool('w_summary')).toBeUndefined();
    expect(catalog.findPrompt('w_forecast')).toBeUndefined();
  });

  describe('resolveResourceUri', () => {
    it('maps a listed resource back to its server and upstream URI', () => {
      const catalog = buildCatalog(
        [server('files', 'f_')],
        snapshots(snapshot('files', { resources: [resource('file:///etc/motd')] })),
      );

      expect(catalog.resources.map((r) => r['uri'])).toEqual(['file://f_/etc/motd']);
      expect(catalog.resolveResourceUri('file://f_/etc/motd')).toEqual({ server: 'files', name: 'file:///etc/motd' });
    });

    it('maps a URI expanded from a template to the server with the longest matching prefix', () => {
      const catalog = buildCatalog(
        [server('short', 'a_'), server('long', 'a_b_')],
        snapshots(
          snapshot('short', { resourceTemplates: [template('test://{path}')] }),
          snapshot('long', { resourceTemplates: [template('test://{path}')] }),
        ),
      );

      expect(catalog.resolveResourceUri('test://a_b_item/1')).toEqual({ server: 'long', name: 'test://item/1' });
      expect(catalog.resolveResourceUri('test://a_item/1')).toEqual({ server: 'short', name: 'test://item/1' });
      expect(catalog.resolveResourceUri('test://zz_item/1')).toBeUndefined();
    });

    it('maps an unlisted URI of a server that declares the resources capability', () => {
      const catalog = buildCatalog(
        [server('dynamic', 'd_')],
        snapshots(snapshot('dynamic', { capabilities: { resources: {} } })),
      );

      expect(catalog.resolveResourceUri('mem://d_note/7')).toEqual({ server: 'dynamic', name: 'mem://note/7' });
    });

    it('sends URIs no prefixed server claims to an unprefixed server unchanged', () => {
      const catalog = buildCatalog(
        [server('plain', ''), server('prefixed', 'p_')],
        snapshots(
          snapshot('plain', { resources: [resource('file:///a.txt')] }),
          snapshot('prefixed', { resourceTemplates: [template('file:///{name}')] }),
        ),
      );

      expect(catalog.resolveResourceUri('file:///a.txt')).toEqual({ server: 'plain', name: 'file:///a.txt' });
      expect(catalog.resolveResourceUri('file:///b.txt')).toEqual({ server: 'plain', name: 'file:///b.txt' });
      expect(catalog.resolveResourceUri('file://p_/c.txt')).toEqual({ server: 'prefixed', name: 'file:///c.txt' });
    });

    it('does not route resources to a server that offers none', () => {
      const catalog = buildCatalog(
        [server('tools-only', '')],
        snapshots(snapshot('tools-only', { tools: [tool('t')] })),
      );

      expect(catalog.resolveResourceUri('file:///a.txt')).toBeUndefined();
    });
  });

  describe('listResultJson', () => {
    const catalog = () =>
      buildCatalog(
        [server('weather', 'w_')],
        snapshots(
          snapshot('weather', {
            tools: [tool('forecast'), tool('alerts')],
            prompts: [prompt('summary')],
            resources: [resource('test://stations')],
            resourceTemplates: [template('test://station/{id}')],
          }),
        ),
      );

    it('is the JSON of each list result under its own key', () => {
      const built = catalog();

      expect(JSON.parse(built.listResultJson('tools') as string)).toEqual({ tools: built.tools });
      expect(JSON.parse(built.listResultJson('prompts') as string)).toEqual({ prompts: built.prompts });
      expect(JSON.parse(built.listResultJson('resources') as string)).toEqual({ resources: built.resources });
      expect(JSON.parse(built.listResultJson('resourceTemplates') as string)).toEqual({
        resourceTemplates: built.resourceTemplates,
      });
    });

    it('serializes each list once per catalog', () => {
      const built = catalog();
      const stringify = vi.spyOn(JSON, 'stringify');

      const first = built.listResultJson('tools');
      const again = built.listResultJson('tools');

      expect(again).toBe(first);
      expect(stringify).toHaveBeenCalledTimes(1);
    });

    it('lists an empty catalog as empty lists', () => {
      const empty = buildCatalog([], new Map());

      expect(empty.listResultJson('tools')).toBe('{"tools":[]}');
      expect(empty.listResultJson('resourceTemplates')).toBe('{"resourceTemplates":[]}');
    });
  });

  describe('filteredListJson', () => {
    const servers = [server('weather', 'w_'), server('maps', '')];
    const snaps = snapshots(
      snapshot('weather', {
        tools: [tool('forecast'), tool('alerts')],
        resources: [resource('test://stations')],
        resourceTemplates: [{ uriTemplate: 'test://station/{id}', name: 'station' }],
      }),
      snapshot('maps', { tools: [tool('route')] }),
    );
    const catalog = buildCatalog(servers, snaps);
    const parse = (json: string) => JSON.parse(json) as Record<string, { name?: string; uriTemplate?: string }[]>;

    it('keeps the items the predicate accepts, in list order, and shows it what each item is', () => {
      const seen: unknown[] = [];
      const body = catalog.filteredListJson('tools', (subject) => {
        seen.push(subject);
        return subject.name !== 'alerts';
      });

      expect(names(parse(body)['tools'] ?? [])).toEqual(['route', 'w_forecast']);
      expect(seen).toContainEqual({ kind: 'tool', server: 'weather', name: 'alerts', servedName: 'w_alerts' });
      expect(seen).toContainEqual({ kind: 'tool', server: 'maps', name: 'route', servedName: 'route' });
    });

    it('gives the same JSON as the full list when every item is kept', () => {
      expect(catalog.filteredListJson('tools', () => true)).toBe(catalog.listResultJson('tools'));
      expect(catalog.filteredListJson('resources', () => true)).toBe(catalog.listResultJson('resources'));
    });

    it('names resource templates by their upstream template', () => {
      const seen: unknown[] = [];
      const body = catalog.filteredListJson('resourceTemplates', (subject) => {
        seen.push(subject);
        return false;
      });

      expect(parse(body)['resourceTemplates']).toEqual([]);
      expect(seen).toEqual([
        { kind: 'resource', server: 'weather', name: 'test://station/{id}', servedName: 'test://w_station/{id}' },
      ]);
    });
  });
});

describe('diffCatalogs', () => {
  const servers = [server('weather', 'w_')];
  const base = {
    tools: [tool('forecast')],
    prompts: [prompt('summary')],
    resources: [resource('test://stations')],
    resourceTemplates: [template('test://station/{id}')],
  };
  const build = (extra: Partial<UpstreamSnapshot> = {}) =>
    buildCatalog(servers, snapshots(snapshot('weather', { ...base, ...extra })));

  it('reports no change between equal catalogs', () => {
    expect(diffCatalogs(build(), build())).toEqual({ tools: false, prompts: false, resources: false });
  });

  it('reports a changed tool list', () => {
    const after = build({ tools: [tool('forecast', 'now with more detail')] });

    expect(diffCatalogs(build(), after)).toEqual({ tools: true, prompts: false, resources: false });
  });

  it('reports a changed prompt list', () => {
    expect(diffCatalogs(build(), build({ prompts: [] }))).toEqual({ tools: false, prompts: true, resources: false });
  });

  it('reports a changed resource list', () => {
    const after = build({ resources: [resource('test://stations'), resource('test://radars')] });

    expect(diffCatalogs(build(), after)).toEqual({ tools: false, prompts: false, resources: true });
  });

  it('reports a changed resource template list as a resource change', () => {
    expect(diffCatalogs(build(), build({ resourceTemplates: [] }))).toEqual({
      tools: false,
      prompts: false,
      resources: true,
    });
  });

  it('reports every list when a server goes down', () => {
    expect(diffCatalogs(build(), build({ ready: false }))).toEqual({ tools: true, prompts: true, resources: true });
  });
});
