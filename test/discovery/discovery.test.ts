// Discovery for large catalogs through the built broker, with real SDK upstreams and clients of
// both eras: the anchor's meta-tools (discover_tools, select_tools, list_tags,
// filter_tools_by_tags), search_tools, the --discovery-tools-enabled and
// --discovery-tool-threshold flags, and a selection that narrows tools/list and is announced
// to the session that made it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  connectSdkClient,
  startGateway,
  startSdkUpstream,
  type RunningGateway,
  type SdkUpstream,
} from '../harness/index.ts';
import { connectWatchingClient } from '../gateway-calls/watching-client.ts';
import { waitFor } from '../gateway-calls/helpers.ts';

const META_TOOLS = ['discover_tools', 'select_tools', 'search_tools', 'list_tags', 'filter_tools_by_tags'];
const BULK = 1_000;
const DOMAINS = [
  'invoice',
  'ticket',
  'order',
  'shipment',
  'contract',
  'payment',
  'refund',
  'survey',
  'badge',
  'ledger',
];
const VERBS = ['create', 'archive', 'export', 'audit', 'merge', 'split', 'tag', 'restore', 'summarize', 'validate'];

function weather(server: McpServer): void {
  server.registerTool(
    'forecast',
    {
      description: 'Weather forecast for a city for the next days',
      inputSchema: { city: z.string(), days: z.number() },
    },
    ({ city }) => ({ content: [{ type: 'text', text: `sunny in ${city}` }] }),
  );
  server.registerTool(
    'alerts',
    { description: 'Active severe weather alerts for a region', inputSchema: { region: z.string() } },
    () => ({ content: [{ type: 'text', text: 'none' }] }),
  );
}

function github(server: McpServer): void {
  server.registerTool(
    'create_issue',
    { description: 'Open a new issue in a GitHub repository', inputSchema: { repo: z.string(), title: z.string() } },
    ({ title }) => ({ content: [{ type: 'text', text: `opened ${title}` }] }),
  );
  server.registerTool(
    'list_repos',
    { description: 'List the repositories of a GitHub organization', inputSchema: { org: z.string() } },
    () => ({ content: [{ type: 'text', text: '[]' }] }),
  );
}

/** 1 000 tools: every verb on every domain, ten times over, each with its own words. */
function bulk(server: McpServer): void {
  for (let i = 0; i < BULK; i++) {
    const verb = VERBS[i % VERBS.length] as string;
    const domain = DOMAINS[Math.floor(i / VERBS.length) % DOMAINS.length] as string;
    server.registerTool(
      `${verb}_${domain}_${i}`,
      { description: `${verb} a ${domain} record number ${i} in the back office`, inputSchema: { id: z.string() } },
      () => ({ content: [{ type: 'text', text: `${verb} ${domain} ${i}` }] }),
    );
  }
}

function config(upstreams: Record<string, SdkUpstream>): string {
  return `servers:
  - name: weather
    url: ${JSON.stringify(upstreams['weather']!.url)}
    prefix: w_
    category: [Weather, public-data]
    hint: Forecasts and alerts
    tags: [public]
  - name: github
    url: ${JSON.stringify(upstreams['github']!.url)}
    prefix: g_
    category: [code]
    hint: Issues and repositories
    tags: [vcs, public]
  - name: backoffice
    url: ${JSON.stringify(upstreams['bulk']!.url)}
    prefix: k_
    category: [operations]
`;
}

/** The JSON a meta-tool answered, from its text content. */
function answer(result: unknown): Record<string, unknown> {
  const [first] = (result as { content: { type: string; text: string }[] }).content;
  return JSON.parse(first!.text) as Record<string, unknown>;
}

describe('discovery meta-tools on the broker', () => {
  const upstreams: Record<string, SdkUpstream> = {};
  let gateway: RunningGateway;
  let thresholded: RunningGateway;
  let disabled: RunningGateway;

  beforeAll(async () => {
    upstreams['weather'] = await startSdkUpstream({ name: 'weather', setup: weather });
    upstreams['github'] = await startSdkUpstream({ name: 'github', setup: github });
    upstreams['bulk'] = await startSdkUpstream({ name: 'bulk', setup: bulk });
    const yaml = config(upstreams);
    [gateway, thresholded, disabled] = await Promise.all([
      startGateway({ config: yaml, args: ['--discovery-tools-enabled'] }),
      startGateway({ config: yaml, args: ['--discovery-tools-enabled', '--discovery-tool-threshold', '100'] }),
      startGateway({ config: yaml, args: ['--discovery-tools-enabled=false'] }),
    ]);
    for (const running of [gateway, thresholded, disabled]) {
      await waitFor('the catalog', async () => {
        const status = (await (await fetch(`${running.baseUrl}/status`)).json()) as { servers: { ready: boolean }[] };
        return status.servers.every((server) => server.ready) ? true : undefined;
      });
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all([gateway, thresholded, disabled].map((running) => running?.stop()));
    await Promise.all(Object.values(upstreams).map((upstream) => upstream.stop()));
  });

  for (const version of [1, 2] as const) {
    it(`lists the meta-tools after the ${BULK + 4} tools and tells a ${version}.x client how to use them`, async () => {
      const connected =
        version === 1
          ? await connectSdkClient(gateway.url, { version: 1 })
          : await connectSdkClient(gateway.url, { version: 2 });
      try {
        const { tools } = await connected.client.listTools();
        expect(tools).toHaveLength(BULK + 4 + META_TOOLS.length);
        expect(tools.slice(-META_TOOLS.length).map((tool) => tool.name)).toEqual(META_TOOLS);
        expect(connected.client.getInstructions()).toMatch(/discover_tools .* select_tools/);
      } finally {
        await connected.close();
      }
    });
  }

  it('discovers servers with their categories, hints and visible tools, filtered by category whatever its case', async () => {
    const connected = await connectSdkClient(gateway.url, { version: 1 });
    try {
      const all = answer(await connected.client.callTool({ name: 'discover_tools', arguments: {} }));
      const servers = all['servers'] as { name: string; categories: string[]; hint?: string; tools: string[] }[];
      expect(servers.map((server) => server.name)).toEqual(['backoffice', 'github', 'weather']);
      expect(servers[1]).toEqual({
        name: 'github',
        categories: ['code'],
        hint: 'Issues and repositories',
        tools: ['g_create_issue', 'g_list_repos'],
      });
      expect(servers[0]?.tools).toHaveLength(BULK);
      const weatherOnly = answer(
        await connected.client.callTool({ name: 'discover_tools', arguments: { category: 'WEATHER' } }),
      );
      expect((weatherOnly['servers'] as { name: string }[]).map((server) => server.name)).toEqual(['weather']);
      const none = answer(await connected.client.callTool({ name: 'discover_tools', arguments: { category: 'x' } }));
      expect(none['servers']).toEqual([]);
    } finally {
      await connected.close();
    }
  });

  it('finds the tool a task needs among a thousand by its name, description and parameters', async () => {
    const connected = await connectSdkClient(gateway.url, { version: 2 });
    try {
      const found = answer(
        await connected.client.callTool({
          name: 'search_tools',
          arguments: { query: 'open an issue in a github repository', limit: 3 },
        }),
      );
      const names = (found['tools'] as { name: string }[]).map((tool) => tool.name);
      expect(names[0]).toBe('g_create_issue');
      expect(names.length).toBeLessThanOrEqual(3);
      const forecast = answer(
        await connected.client.callTool({ name: 'search_tools', arguments: { query: 'weather for a city' } }),
      );
      expect((forecast['tools'] as { name: string }[])[0]?.name).toBe('w_forecast');
    } finally {
      await connected.close();
    }
  });

  it('narrows the list to a selection, announces it to that session only, and clears it on an empty list', async () => {
    const selecting = await connectWatchingClient(gateway.url, 1);
    const other = await connectWatchingClient(gateway.url, 1);
    try {
      const since = selecting.notifications();
      const otherSince = other.notifications();
      const selected = (await selecting.callTool('select_tools', { tools: ['w_forecast', 'g_create_issue'] })) as {
        text: string;
      }[];
      expect(JSON.parse(selected[0]!.text)).toEqual({
        status: 'scope set to 2 tools',
        tools: ['w_forecast', 'g_create_issue'],
      });
      const narrowed = await selecting.waitForNotifiedList('the selection', since, (names) => names.length < 10);
      expect(narrowed).toEqual(['g_create_issue', 'w_forecast', ...META_TOOLS]);
      expect(await selecting.callTool('w_forecast', { city: 'Oslo', days: 1 })).toEqual([
        { type: 'text', text: 'sunny in Oslo' },
      ]);
      expect(other.notifications()).toBe(otherSince);
      expect(await other.toolNames()).toHaveLength(BULK + 4 + META_TOOLS.length);
      await selecting.callTool('select_tools', { tools: [] });
      expect(await selecting.toolNames()).toHaveLength(BULK + 4 + META_TOOLS.length);
    } finally {
      await selecting.close();
      await other.close();
    }
  });

  it('refuses a selection naming a tool that does not exist, all or nothing', async () => {
    const connected = await connectSdkClient(gateway.url, { version: 1 });
    try {
      const refused = await connected.client.callTool({
        name: 'select_tools',
        arguments: { tools: ['w_forecast', 'w_nope'] },
      });
      expect(refused.isError).toBe(true);
      expect(refused.content).toEqual([{ type: 'text', text: 'tool not available: w_nope' }]);
      const { tools } = await connected.client.listTools();
      expect(tools).toHaveLength(BULK + 4 + META_TOOLS.length);
    } finally {
      await connected.close();
    }
  });

  it('lists tags and filters tools by all of the given tags', async () => {
    const connected = await connectSdkClient(gateway.url, { version: 1 });
    try {
      expect(answer(await connected.client.callTool({ name: 'list_tags', arguments: {} }))).toEqual({
        tags: ['public', 'vcs'],
      });
      const both = answer(
        await connected.client.callTool({ name: 'filter_tools_by_tags', arguments: { tags: ['public', 'vcs'] } }),
      );
      expect((both['tools'] as { name: string }[]).map((tool) => tool.name)).toEqual([
        'g_create_issue',
        'g_list_repos',
      ]);
      const refused = await connected.client.callTool({ name: 'filter_tools_by_tags', arguments: { tags: [] } });
      expect(refused.isError).toBe(true);
    } finally {
      await connected.close();
    }
  });

  it('above the threshold lists only the meta-tools until the session selects some', async () => {
    const connected = await connectSdkClient(thresholded.url, { version: 1 });
    try {
      expect((await connected.client.listTools()).tools.map((tool) => tool.name)).toEqual(META_TOOLS);
      await connected.client.callTool({ name: 'select_tools', arguments: { tools: ['k_create_invoice_0'] } });
      expect((await connected.client.listTools()).tools.map((tool) => tool.name)).toEqual([
        'k_create_invoice_0',
        ...META_TOOLS,
      ]);
    } finally {
      await connected.close();
    }
  });

  it('offers no meta-tools with --discovery-tools-enabled=false, and refuses a call of one as an unknown tool', async () => {
    const connected = await connectSdkClient(disabled.url, { version: 1 });
    try {
      const { tools } = await connected.client.listTools();
      expect(tools).toHaveLength(BULK + 4);
      expect(connected.client.getInstructions()).toBeUndefined();
      await expect(connected.client.callTool({ name: 'discover_tools', arguments: {} })).rejects.toThrow(
        /discover_tools/,
      );
    } finally {
      await connected.close();
    }
  });

  it('serves the meta-tools to a 2026-07-28 client, and says a selection needs a session or an identity', async () => {
    const connected = await connectSdkClient(gateway.url, { version: 2, negotiation: 'auto' });
    try {
      expect(connected.sessionId()).toBeUndefined();
      const { tools } = await connected.client.listTools();
      expect(tools.slice(-META_TOOLS.length).map((tool) => tool.name)).toEqual(META_TOOLS);
      const found = answer(
        await connected.client.callTool({ name: 'search_tools', arguments: { query: 'severe weather alerts' } }),
      );
      expect((found['tools'] as { name: string }[])[0]?.name).toBe('w_alerts');
      const refused = await connected.client.callTool({ name: 'select_tools', arguments: { tools: ['w_alerts'] } });
      expect(refused.isError).toBe(true);
      expect(refused.content).toEqual([
        { type: 'text', text: 'select_tools needs a session or a verified identity to keep the selection for' },
      ]);
    } finally {
      await connected.close();
    }
  });
});
