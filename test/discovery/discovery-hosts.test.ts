// The same discovery behind a real Envoy (the router leaves meta-tool calls to the broker and
// routes the selected tools' calls) and in the built worker in workerd (its selection in the
// Durable Object).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { startExtProcStack, type ExtProcStack } from '../envoy/extproc-stack.ts';
import { connectSdkClient, startSdkUpstream, type SdkUpstream } from '../harness/index.ts';
import { readRpcMessage } from '../workerd/read-rpc-message.ts';
import { startWorker, type RunningWorker } from '../workerd/start-worker.ts';

function tools(server: McpServer): void {
  server.registerTool(
    'create_issue',
    { description: 'Open a new issue in a GitHub repository', inputSchema: { title: z.string() } },
    ({ title }) => ({ content: [{ type: 'text', text: `opened ${title}` }] }),
  );
  server.registerTool(
    'forecast',
    { description: 'Weather forecast for a city', inputSchema: { city: z.string() } },
    ({ city }) => ({ content: [{ type: 'text', text: `sunny in ${city}` }] }),
  );
}

function textOf(result: unknown): string {
  return (result as { content: { text: string }[] }).content[0]!.text;
}

describe('discovery behind a real Envoy with the ext_proc router', () => {
  let stack: ExtProcStack;

  beforeAll(async () => {
    stack = await startExtProcStack({ setup: tools, gatewayArgs: ['--discovery-tools-enabled'] });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('answers the meta-tools through Envoy and routes the selected tools to their upstream', async () => {
    const connected = await connectSdkClient(stack.mcpUrl, { version: 1 });
    try {
      const found = JSON.parse(
        textOf(await connected.client.callTool({ name: 'search_tools', arguments: { query: 'weather in a city' } })),
      ) as { tools: { name: string }[] };
      expect(
        found.tools
          .map((tool) => tool.name)
          .slice(0, 2)
          .sort(),
      ).toEqual(['s1_forecast', 's2_forecast']);
      const discovered = JSON.parse(
        textOf(await connected.client.callTool({ name: 'discover_tools', arguments: {} })),
      ) as { servers: { name: string; tools: string[] }[] };
      expect(discovered.servers.map((server) => server.name)).toEqual(['server1', 'server2']);
      await connected.client.callTool({ name: 'select_tools', arguments: { tools: ['s2_forecast'] } });
      const { tools: listed } = await connected.client.listTools();
      expect(listed.map((tool) => tool.name)).toEqual([
        's2_forecast',
        'discover_tools',
        'select_tools',
        'search_tools',
      ]);
      const before = stack.upstreams[1].requests.filter((request) => request.method === 'tools/call').length;
      expect(textOf(await connected.client.callTool({ name: 's2_forecast', arguments: { city: 'Oslo' } }))).toBe(
        'sunny in Oslo',
      );
      expect(stack.upstreams[1].requests.filter((request) => request.method === 'tools/call')).toHaveLength(before + 1);
    } finally {
      await connected.close();
    }
  });
});

describe('discovery in the built worker', () => {
  let upstream: SdkUpstream;
  let worker: RunningWorker;

  beforeAll(async () => {
    upstream = await startSdkUpstream({ name: 'tools', setup: tools });
    worker = await startWorker([{ name: 'tools', prefix: 't_', url: upstream.url }], {
      bindings: { DISCOVERY_TOOLS_ENABLED: 'true', DISCOVERY_TOOL_THRESHOLD: '1' },
    });
  });

  afterAll(async () => {
    await worker?.dispose();
    await upstream?.stop();
  });

  async function list(sessionId: string, id: number): Promise<string[]> {
    const response = await worker.post({ jsonrpc: '2.0', id, method: 'tools/list' }, sessionId);
    const { result } = await readRpcMessage(response, id);
    return (result as { tools: { name: string }[] }).tools.map((tool) => tool.name);
  }

  it('lists only the meta-tools above the threshold, and the selection kept in the Durable Object after', async () => {
    const sessionId = await worker.initialize();
    expect(await list(sessionId, 1)).toEqual(['discover_tools', 'select_tools', 'search_tools']);
    const searched = await worker.post(
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'search_tools', arguments: { query: 'issue' } } },
      sessionId,
    );
    expect(JSON.parse(textOf((await readRpcMessage(searched, 2)).result)).tools[0].name).toBe('t_create_issue');
    const selected = await worker.post(
      {
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 'select_tools', arguments: { tools: ['t_create_issue'] } },
      },
      sessionId,
    );
    expect(JSON.parse(textOf((await readRpcMessage(selected, 3)).result))).toEqual({
      status: 'scope set to 1 tools',
      tools: ['t_create_issue'],
    });
    expect(await list(sessionId, 4)).toEqual(['t_create_issue', 'discover_tools', 'select_tools', 'search_tools']);
    expect(await list(await worker.initialize(), 5)).toEqual(['discover_tools', 'select_tools', 'search_tools']);
  });

  it('refuses a threshold that is not a number, naming the binding', async () => {
    const broken = await startWorker([{ name: 'tools', prefix: 't_', url: upstream.url }], {
      bindings: { DISCOVERY_TOOL_THRESHOLD: 'many' },
    });
    try {
      const response = await broken.fetch('/mcp', { method: 'POST', body: '{}' });
      expect(response.status).toBe(500);
      expect(await response.text()).toMatch(/DISCOVERY_TOOL_THRESHOLD must be a whole number/);
    } finally {
      await broken.dispose();
    }
  });
});
