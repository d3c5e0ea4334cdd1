import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startSdkUpstream, type RunningGateway, type SdkUpstream } from '../harness/index.ts';
import { configYaml, startGatewayFor, waitFor, type ServerEntry } from './helpers.ts';
import { connectWatchingClient, type WatchingClient } from './watching-client.ts';

function registerText(server: McpServer, name: string) {
  server.registerTool(name, { inputSchema: { text: z.string() } }, ({ text }) => ({
    content: [{ type: 'text', text: `${name}: ${text}` }],
  }));
}

/** Everything a test started, stopped afterwards whatever happened. */
const started: { stop(): Promise<unknown> }[] = [];
const clients: WatchingClient[] = [];

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((client) => client.close()));
  for (const part of started.splice(0).reverse()) await part.stop();
});

async function upstreamWith(...tools: string[]): Promise<SdkUpstream> {
  const upstream = await startSdkUpstream({ setup: (server) => tools.forEach((tool) => registerText(server, tool)) });
  started.push(upstream);
  return upstream;
}

async function gatewayFor(servers: ServerEntry[], args: string[] = []): Promise<RunningGateway> {
  const gateway = await startGatewayFor(servers, args);
  started.push(gateway);
  return gateway;
}

async function watcher(gateway: RunningGateway, version: 1 | 2, tools: string[]): Promise<WatchingClient> {
  const client = await connectWatchingClient(gateway.url, version);
  clients.push(client);
  await waitFor(`tools ${tools.join(', ')}`, async () => {
    const listed = await client.toolNames();
    return tools.every((tool) => listed.includes(tool)) ? true : undefined;
  });
  return client;
}

describe('tools/list_changed on the GET stream', () => {
  it('tells 1.x and 2.x clients when an upstream registers a new tool, which then is listed and callable', async () => {
    let withLateTool = false;
    const upstream = await startSdkUpstream({
      setup(server) {
        registerText(server, 'early');
        if (withLateTool) registerText(server, 'late');
      },
    });
    started.push(upstream);
    const gateway = await gatewayFor([{ name: 'growing', url: upstream.url, prefix: 'g_' }]);
    const v1 = await watcher(gateway, 1, ['g_early']);
    const v2 = await watcher(gateway, 2, ['g_early']);
    const since = [v1.notifications(), v2.notifications()] as const;

    withLateTool = true;
    for (const server of upstream.servers()) registerText(server, 'late');

    const hasLate = (names: readonly string[]) => names.includes('g_late');
    expect(await v1.waitForNotifiedList('g_late is listed', since[0], hasLate)).toEqual(['g_early', 'g_late']);
    expect(await v2.waitForNotifiedList('g_late is listed', since[1], hasLate)).toEqual(['g_early', 'g_late']);
    expect(await v1.callTool('g_late', { text: 'hi' })).toEqual([{ type: 'text', text: 'late: hi' }]);
    expect(await v2.callTool('g_late', { text: 'hi' })).toEqual([{ type: 'text', text: 'late: hi' }]);
  });

  it('tells clients when a server is added to the config file and lists its tools', async () => {
    const first = await upstreamWith('one');
    const second = await upstreamWith('two');
    const servers: ServerEntry[] = [{ name: 'first', url: first.url, prefix: 'f_' }];
    const gateway = await gatewayFor(servers);
    const client = await watcher(gateway, 1, ['f_one']);
    const since = client.notifications();

    await gateway.writeConfig(configYaml([...servers, { name: 'second', url: second.url, prefix: 's_' }]));

    const names = await client.waitForNotifiedList('s_two is listed', since, (listed) => listed.includes('s_two'));
    expect(names).toEqual(['f_one', 's_two']);
    expect(await client.callTool('s_two', { text: 'new' })).toEqual([{ type: 'text', text: 'two: new' }]);
  });

  it('tells clients when a server is removed from the config file and stops listing its tools', async () => {
    const first = await upstreamWith('one');
    const second = await upstreamWith('two');
    const firstEntry: ServerEntry = { name: 'first', url: first.url, prefix: 'f_' };
    const gateway = await gatewayFor([firstEntry, { name: 'second', url: second.url, prefix: 's_' }]);
    const client = await watcher(gateway, 1, ['f_one', 's_two']);
    const since = client.notifications();

    await gateway.writeConfig(configYaml([firstEntry]), { atomic: true });

    const names = await client.waitForNotifiedList('s_two is gone', since, (listed) => !listed.includes('s_two'));
    expect(names).toEqual(['f_one']);
  });

  it('tells clients when an upstream goes down and its tools are withdrawn, and again when it comes back and serves calls', async () => {
    const flaky = await upstreamWith('fragile');
    const steady = await upstreamWith('solid');
    const gateway = await gatewayFor(
      [
        { name: 'flaky', url: flaky.url, prefix: 'x_' },
        { name: 'steady', url: steady.url, prefix: 'y_' },
      ],
      ['--mcp-check-interval', '1'],
    );
    const client = await watcher(gateway, 1, ['x_fragile', 'y_solid']);
    expect(await client.callTool('x_fragile', { text: 'before' })).toEqual([{ type: 'text', text: 'fragile: before' }]);
    const beforeDown = client.notifications();

    await flaky.stop();

    const whileDown = await client.waitForNotifiedList(
      'x_fragile is withdrawn',
      beforeDown,
      (names) => !names.includes('x_fragile'),
    );
    expect(whileDown).toEqual(['y_solid']);
    const beforeBack = client.notifications();

    await flaky.restart();

    const afterBack = await client.waitForNotifiedList('x_fragile is back', beforeBack, (names) =>
      names.includes('x_fragile'),
    );
    expect(afterBack).toEqual(['x_fragile', 'y_solid']);
    // The client's old backend session died with the upstream; the call goes through on a new one.
    expect(await client.callTool('x_fragile', { text: 'after' })).toEqual([{ type: 'text', text: 'fragile: after' }]);
  });
});
