import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSdkUpstream, type RunningGateway, type SdkUpstream } from '../harness/index.ts';
import { connectWhenListed, fetchStatus, requestsOf, startGatewayFor, toolNames, waitFor } from './helpers.ts';
import { startLowLevelUpstream, type LowLevelUpstream } from './low-level-upstream.ts';

function textTools(label: string, ...names: string[]) {
  return (server: McpServer) => {
    for (const name of names) {
      server.registerTool(name, {}, () => ({ content: [{ type: 'text', text: `${label}.${name}` }] }));
    }
  };
}

describe('a served name exposed by two servers', () => {
  let first: SdkUpstream;
  let second: SdkUpstream;
  let gateway: RunningGateway;

  beforeAll(async () => {
    first = await startSdkUpstream({ setup: textTools('first', 'dup') });
    // Prefix x_d + tool up = x_dup: the same served name as x_ + dup.
    second = await startSdkUpstream({ setup: textTools('second', 'up', 'other') });
    gateway = await startGatewayFor([
      { name: 'first', url: first.url, prefix: 'x_' },
      { name: 'second', url: second.url, prefix: 'x_d' },
    ]);
  });

  afterAll(async () => {
    await gateway?.stop();
    await first?.stop();
    await second?.stop();
  });

  it("serves only the first configured server's tool under the contested name", async () => {
    const { client, close } = await connectWhenListed(gateway, ['x_dup', 'x_dother']);
    try {
      expect(await toolNames(client)).toEqual(['x_dother', 'x_dup']);
      const result = await client.callTool({ name: 'x_dup', arguments: {} });

      expect(result.content).toEqual([{ type: 'text', text: 'first.dup' }]);
      expect(requestsOf(second.requests, 'tools/call')).toHaveLength(0);
    } finally {
      await close();
    }
  });

  it('reports the conflict in /status on the server whose tool is not served', async () => {
    const status = await waitFor('both servers ready in /status', async () => {
      const report = await fetchStatus(gateway);
      return report.servers.every((server) => server.ready) ? report : undefined;
    });

    expect(status.toolConflicts).toBeGreaterThan(0);
    const [firstEntry, secondEntry] = status.servers;
    expect(firstEntry?.conflicts).toBeUndefined();
    expect(secondEntry?.name).toBe('second');
    expect(secondEntry?.conflicts?.tools).toEqual(['x_dup']);
    expect(secondEntry?.message).toContain('x_dup');
    expect(secondEntry?.totalTools).toBe(1);
  });
});

describe('an upstream tool with an invalid input schema', () => {
  let upstream: LowLevelUpstream;
  let gateway: RunningGateway;

  beforeAll(async () => {
    upstream = await startLowLevelUpstream({
      capabilities: { tools: {} },
      setup(server) {
        server.setRequestHandler(ListToolsRequestSchema, () => ({
          tools: [
            // Deliberately invalid: MCP requires an object schema for tool input.
            { name: 'bad', inputSchema: { type: 'string' } as unknown as { type: 'object' } },
            { name: 'good', inputSchema: { type: 'object' as const } },
          ],
        }));
        server.setRequestHandler(CallToolRequestSchema, (request) => ({
          content: [{ type: 'text', text: `called ${request.params.name}` }],
        }));
      },
    });
    gateway = await startGatewayFor([{ name: 'mixed', url: upstream.url, prefix: 'v_' }]);
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  it('lists only the valid tool and refuses a call to the invalid one', async () => {
    const { client, close } = await connectWhenListed(gateway, ['v_good']);
    try {
      expect(await toolNames(client)).toEqual(['v_good']);
      expect((await client.callTool({ name: 'v_good', arguments: {} })).content).toEqual([
        { type: 'text', text: 'called good' },
      ]);
      await expect(client.callTool({ name: 'v_bad', arguments: {} })).rejects.toThrow(/v_bad/);
      expect(upstream.methods.filter((method) => method === 'tools/call')).toHaveLength(1);
    } finally {
      await close();
    }
  });

  it('lists the invalid tool with its problem in /status', async () => {
    const status = await waitFor('the server ready in /status', async () => {
      const report = await fetchStatus(gateway);
      return report.servers[0]?.ready === true ? report : undefined;
    });
    const [entry] = status.servers;

    expect(entry?.totalTools).toBe(1);
    expect(entry?.invalidTools).toBe(1);
    expect(entry?.invalidToolList?.map((item) => item.name)).toEqual(['bad']);
    expect(entry?.invalidToolList?.[0]?.errors.join('\n')).toMatch(/inputSchema/);
  });
});
