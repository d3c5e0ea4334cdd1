// Tool overrides in every host, with real SDK upstreams and clients: a renamed tool is listed and
// called under its new name and reaches the upstream under its own, a parameter the gateway fills
// in is gone from the served schema and arrives with its fixed value whatever the client sent, a
// description is replaced and extended, annotations are merged, a hidden tool is neither listed
// nor callable; through the broker (clients of both eras), a real Envoy with the router, and the
// worker in workerd.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { startExtProcStack, type ExtProcStack } from '../envoy/extproc-stack.ts';
import {
  connectSdkClient,
  startGateway,
  startSdkUpstream,
  type RunningGateway,
  type SdkUpstream,
} from '../harness/index.ts';
import { readRpcMessage } from '../workerd/read-rpc-message.ts';
import { startWorker, type RunningWorker } from '../workerd/start-worker.ts';
import { waitFor } from '../gateway-calls/helpers.ts';

function tracker(server: McpServer): void {
  server.registerTool(
    'create_issue',
    {
      description: 'Open a new issue',
      inputSchema: { owner: z.string(), repo: z.string(), title: z.string() },
      annotations: { readOnlyHint: false },
    },
    ({ owner, repo, title }) => ({ content: [{ type: 'text', text: `${owner}/${repo}: ${title}` }] }),
  );
  server.registerTool(
    'delete_repo',
    { description: 'Deletes a repository', inputSchema: { repo: z.string() } },
    ({ repo }) => ({
      content: [{ type: 'text', text: `deleted ${repo}` }],
    }),
  );
  server.registerTool('list_repos', { description: 'Lists repositories', inputSchema: {} }, () => ({
    content: [{ type: 'text', text: '[]' }],
  }));
}

const OVERRIDES = `    toolOverrides:
      - tool: create_issue
        name: open_ticket
        description: Open a ticket in the acme tracker.
        descriptionSuffix: Tickets are public.
        fixedArguments: {owner: acme, repo: tracker}
      - tool: delete_repo
        annotations: {destructiveHint: true}
      - tool: list_repos
        hidden: true
      - tool: archive_repo
        description: no longer listed upstream
`;

function textOf(result: unknown): string {
  return (result as { content: { text: string }[] }).content[0]!.text;
}

function callsOf(upstream: SdkUpstream) {
  return upstream.requests.filter((request) => request.method === 'tools/call');
}

describe('tool overrides on the broker', () => {
  let upstream: SdkUpstream;
  let gateway: RunningGateway;

  beforeAll(async () => {
    upstream = await startSdkUpstream({ name: 'tracker', setup: tracker });
    gateway = await startGateway({
      config: `servers:\n  - name: tracker\n    url: ${JSON.stringify(upstream.url)}\n    prefix: t_\n${OVERRIDES}`,
    });
    await waitFor('the catalog', async () => {
      const status = (await (await fetch(`${gateway.baseUrl}/status`)).json()) as { servers: { ready: boolean }[] };
      return status.servers[0]?.ready ? true : undefined;
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  for (const version of [1, 2] as const) {
    it(`lists and calls the tools as overridden, for a ${version}.x client`, async () => {
      const connected =
        version === 1
          ? await connectSdkClient(gateway.url, { version: 1 })
          : await connectSdkClient(gateway.url, { version: 2 });
      try {
        const { tools } = await connected.client.listTools();
        expect(tools.map((tool) => tool.name)).toEqual(['open_ticket', 't_delete_repo']);
        const ticket = tools.find((tool) => tool.name === 'open_ticket')!;
        expect(ticket.description).toBe('Open a ticket in the acme tracker. Tickets are public.');
        expect(Object.keys(ticket.inputSchema.properties ?? {})).toEqual(['title']);
        expect(ticket.inputSchema.required).toEqual(['title']);
        expect(tools.find((tool) => tool.name === 't_delete_repo')?.annotations).toMatchObject({
          destructiveHint: true,
        });
        const answer = await connected.client.callTool({
          name: 'open_ticket',
          arguments: { title: 'Broken', owner: 'mallory' },
        });
        expect(textOf(answer)).toBe('acme/tracker: Broken');
        const sent = callsOf(upstream).at(-1)?.params as { name: string; arguments: Record<string, unknown> };
        expect(sent).toMatchObject({
          name: 'create_issue',
          arguments: { owner: 'acme', repo: 'tracker', title: 'Broken' },
        });
        await expect(connected.client.callTool({ name: 't_list_repos', arguments: {} })).rejects.toThrow(
          /t_list_repos/,
        );
        await expect(connected.client.callTool({ name: 't_create_issue', arguments: {} })).rejects.toThrow(
          /t_create_issue/,
        );
      } finally {
        await connected.close();
      }
    });
  }

  it('shows in /status the override whose tool the upstream no longer lists', async () => {
    const status = (await (await fetch(`${gateway.baseUrl}/status`)).json()) as {
      servers: { unmatchedOverrides?: string[]; totalTools: number; message: string }[];
    };
    expect(status.servers[0]).toMatchObject({ unmatchedOverrides: ['archive_repo'], totalTools: 2 });
    expect(status.servers[0]?.message).toMatch(/overrides of tools the server no longer lists: \[archive_repo\]/);
  });

  it('keeps the last good config when an edit brings overrides that collide, and logs why', async () => {
    const bad = `servers:\n  - name: tracker\n    url: ${JSON.stringify(upstream.url)}\n    prefix: t_\n    toolOverrides:\n      - tool: create_issue\n        name: same\n      - tool: delete_repo\n        name: same\n`;
    await gateway.writeConfig(bad);
    await waitFor('the refusal in the log', () => (/both renamed \\?"same/.test(gateway.logs()) ? true : undefined));
    const connected = await connectSdkClient(gateway.url, { version: 1 });
    try {
      expect((await connected.client.listTools()).tools.map((tool) => tool.name)).toEqual([
        'open_ticket',
        't_delete_repo',
      ]);
    } finally {
      await connected.close();
    }
  });
});

describe('tool overrides behind a real Envoy with the ext_proc router', () => {
  let stack: ExtProcStack;

  beforeAll(async () => {
    stack = await startExtProcStack({ setup: tracker, serverYaml: OVERRIDES });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('routes the renamed tool to its upstream under its own name with the fixed arguments', async () => {
    const connected = await connectSdkClient(stack.mcpUrl, { version: 1 });
    try {
      const names = (await connected.client.listTools()).tools.map((tool) => tool.name);
      // Both servers rename create_issue to open_ticket: the first keeps it, the second reports a conflict.
      expect(names).toEqual(['open_ticket', 's1_delete_repo', 's2_delete_repo']);
      const before = callsOf(stack.upstreams[0]).length;
      const answer = await connected.client.callTool({ name: 'open_ticket', arguments: { title: 'Via Envoy' } });
      expect(textOf(answer)).toBe('acme/tracker: Via Envoy');
      expect(callsOf(stack.upstreams[0])).toHaveLength(before + 1);
      expect(callsOf(stack.upstreams[0]).at(-1)?.params).toMatchObject({
        name: 'create_issue',
        arguments: { owner: 'acme', repo: 'tracker', title: 'Via Envoy' },
      });
      await expect(connected.client.callTool({ name: 's2_list_repos', arguments: {} })).rejects.toThrow(
        /s2_list_repos/,
      );
    } finally {
      await connected.close();
    }
  });
});

describe('tool overrides in the built worker', () => {
  let upstream: SdkUpstream;
  let worker: RunningWorker;

  beforeAll(async () => {
    upstream = await startSdkUpstream({ name: 'tracker', setup: tracker });
    worker = await startWorker([{ name: 'tracker', prefix: 'w_', url: upstream.url, yaml: OVERRIDES }]);
  });

  afterAll(async () => {
    await worker?.dispose();
    await upstream?.stop();
  });

  it('lists and calls the tools as overridden', async () => {
    const sessionId = await worker.initialize();
    const listed = await readRpcMessage(
      await worker.post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, sessionId),
      1,
    );
    const tools = (listed.result as { tools: { name: string; inputSchema: { properties: object } }[] }).tools;
    expect(tools.map((tool) => tool.name)).toEqual(['open_ticket', 'w_delete_repo']);
    expect(Object.keys(tools[0]!.inputSchema.properties)).toEqual(['title']);
    const called = await worker.post(
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'open_ticket', arguments: { title: 'Edge' } } },
      sessionId,
    );
    expect(textOf((await readRpcMessage(called, 2)).result)).toBe('acme/tracker: Edge');
    expect(callsOf(upstream).at(-1)?.params).toMatchObject({ name: 'create_issue', arguments: { owner: 'acme' } });
  });
});
