import { ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { connectSdkClient, startSdkUpstream, type RunningGateway, type SdkUpstream } from '../harness/index.ts';
import { startGatewayFor, toolNames, waitForTools, type ServerEntry } from './helpers.ts';
import { startLowLevelUpstream, type LowLevelUpstream } from './low-level-upstream.ts';

/** Registers tools, a prompt, a resource and a template, tools in the order given (not sorted). */
function catalogSetup(label: string, toolOrder: readonly string[]) {
  return (server: McpServer) => {
    for (const name of toolOrder) {
      server.registerTool(name, { description: `${label} ${name}`, inputSchema: { text: z.string() } }, ({ text }) => ({
        content: [{ type: 'text', text }],
      }));
    }
    server.registerPrompt('greet', { description: `${label} greeting` }, () => ({
      messages: [{ role: 'user', content: { type: 'text', text: `hello from ${label}` } }],
    }));
    server.registerResource('readme', 'docs://readme', { mimeType: 'text/plain' }, (uri) => ({
      contents: [{ uri: uri.href, text: `${label} readme` }],
    }));
    server.registerResource(
      'note',
      new ResourceTemplate('note://notes/{id}', { list: undefined }),
      { mimeType: 'text/plain' },
      (uri) => ({ contents: [{ uri: uri.href, text: `${label} note` }] }),
    );
  };
}

describe('aggregation of two upstreams', () => {
  let upstreamA: SdkUpstream;
  let upstreamB: SdkUpstream;
  let gateway: RunningGateway;
  let servers: ServerEntry[];

  const expectedTools = ['a_alpha', 'a_mid', 'a_zeta', 'b_alpha', 'b_beta'];

  beforeAll(async () => {
    upstreamA = await startSdkUpstream({ name: 'a', setup: catalogSetup('A', ['zeta', 'alpha', 'mid']) });
    upstreamB = await startSdkUpstream({ name: 'b', setup: catalogSetup('B', ['beta', 'alpha']) });
    servers = [
      { name: 'server-a', url: upstreamA.url, prefix: 'a_' },
      { name: 'server-b', url: upstreamB.url, prefix: 'b_' },
    ];
    gateway = await startGatewayFor(servers);
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstreamA?.stop();
    await upstreamB?.stop();
  });

  for (const version of [1, 2] as const) {
    it(`lists both upstreams' tools under their prefixes, sorted by served name, to a ${version}.x client`, async () => {
      const connected =
        version === 1
          ? await connectSdkClient(gateway.url, { version: 1 })
          : await connectSdkClient(gateway.url, { version: 2 });
      try {
        await waitForTools(connected.client, expectedTools);
        const { tools } = await connected.client.listTools();
        expect(tools.map((tool) => tool.name)).toEqual(expectedTools);
        expect(tools.find((tool) => tool.name === 'b_beta')?.description).toBe('B beta');
        expect(tools.find((tool) => tool.name === 'a_alpha')?.inputSchema).toMatchObject({
          type: 'object',
          properties: { text: { type: 'string' } },
        });
      } finally {
        await connected.close();
      }
    });
  }

  it('lists tools in the same order on repeated calls and whatever order the servers are configured in', async () => {
    const reversed = await startGatewayFor([...servers].reverse());
    const first = await connectSdkClient(gateway.url, { version: 1 });
    const second = await connectSdkClient(reversed.url, { version: 1 });
    try {
      await waitForTools(first.client, expectedTools);
      await waitForTools(second.client, expectedTools);
      const repeated = [await toolNames(first.client), await toolNames(first.client), await toolNames(first.client)];
      expect(repeated).toEqual([expectedTools, expectedTools, expectedTools]);
      expect(await toolNames(second.client)).toEqual(expectedTools);
    } finally {
      await first.close();
      await second.close();
      await reversed.stop();
    }
  });

  it('lists both upstreams prompts, resources and resource templates in the gateway namespace', async () => {
    const { client, close } = await connectSdkClient(gateway.url, { version: 1 });
    try {
      await waitForTools(client, expectedTools);
      const { prompts } = await client.listPrompts();
      expect(prompts.map((prompt) => [prompt.name, prompt.description])).toEqual([
        ['a_greet', 'A greeting'],
        ['b_greet', 'B greeting'],
      ]);
      const { resources } = await client.listResources();
      expect(resources.map((resource) => [resource.uri, resource.name])).toEqual([
        ['docs://a_readme', 'readme'],
        ['docs://b_readme', 'readme'],
      ]);
      const { resourceTemplates } = await client.listResourceTemplates();
      expect(resourceTemplates.map((template) => template.uriTemplate)).toEqual([
        'note://a_notes/{id}',
        'note://b_notes/{id}',
      ]);
    } finally {
      await close();
    }
  });
});

describe('aggregation of a paginating upstream', () => {
  const PAGES = [['page1_b', 'page1_a'], ['page2_a'], ['page3_a', 'page3_b']];
  let upstream: LowLevelUpstream;
  let gateway: RunningGateway;

  beforeAll(async () => {
    upstream = await startLowLevelUpstream({
      capabilities: { tools: {} },
      setup(server) {
        server.setRequestHandler(ListToolsRequestSchema, (request) => {
          const page = request.params?.cursor === undefined ? 0 : Number(request.params.cursor);
          const names = PAGES[page] ?? [];
          return {
            tools: names.map((name) => ({ name, inputSchema: { type: 'object' as const } })),
            ...(page + 1 < PAGES.length ? { nextCursor: String(page + 1) } : {}),
          };
        });
      },
    });
    gateway = await startGatewayFor([{ name: 'paged', url: upstream.url, prefix: 'p_' }]);
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  it("serves every page of an upstream's tools/list as one list", async () => {
    const { client, close } = await connectSdkClient(gateway.url, { version: 1 });
    try {
      const expected = PAGES.flat()
        .map((name) => `p_${name}`)
        .sort();
      await waitForTools(client, expected);
      const result = await client.listTools();
      expect(result.tools.map((tool) => tool.name)).toEqual(expected);
      expect(result.nextCursor).toBeUndefined();
      expect(upstream.methods.filter((method) => method === 'tools/list').length).toBeGreaterThanOrEqual(PAGES.length);
    } finally {
      await close();
    }
  });
});
