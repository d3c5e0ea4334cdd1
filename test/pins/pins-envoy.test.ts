// Pinned tool definitions behind a real Envoy with the ext_proc router: the same table as on the
// broker, through Envoy. A changed description is served as approved with no tools/list_changed
// and its diff in /status; under withhold a call of the changed tool is refused (the router does
// not route it to its upstream; the broker answers why), an approval in the config releases it with
// a tools/list_changed; with the pins in a real Redis that stops, the pinned servers fail closed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVERS, startExtProcStack, toolCalls, type ExtProcStack } from '../envoy/extproc-stack.ts';
import { connectSdkClient, startRedis, type RunningRedis } from '../harness/index.ts';
import { waitFor } from '../gateway-calls/helpers.ts';
import { connectWatchingClient, type WatchingClient } from '../gateway-calls/watching-client.ts';
import {
  CHANGED_DESCRIPTION,
  FIRST_DESCRIPTION,
  createFilesTools,
  quarantineOf,
  waitForStatus,
  type FilesTools,
} from './pins-fixture.ts';

const QUIET_MS = 1_500;

function pinningYaml(onChange: 'serveApproved' | 'withhold', approve: readonly string[] = []): string {
  return `    pinning:\n      onChange: ${onChange}\n      approve: ${JSON.stringify(approve)}\n`;
}

/** The stack's config with `serverYaml` under each server (as startExtProcStack writes it). */
function stackConfig(stack: ExtProcStack, serverYaml: string): string {
  const entries = SERVERS.map(
    (server, i) =>
      `  - name: ${server.name}\n    url: ${JSON.stringify(stack.upstreams[i]?.url)}\n    prefix: ${server.prefix}\n    hostname: ${server.hostname}\n${serverYaml}`,
  );
  return `servers:\n${entries.join('')}`;
}

async function descriptions(url: string, version: 1 | 2): Promise<Record<string, string | undefined>> {
  const connected =
    version === 1 ? await connectSdkClient(url, { version: 1 }) : await connectSdkClient(url, { version: 2 });
  try {
    return Object.fromEntries((await connected.client.listTools()).tools.map((tool) => [tool.name, tool.description]));
  } finally {
    await connected.close();
  }
}

describe('pinned tool definitions behind a real Envoy with the ext_proc router', () => {
  let tools: FilesTools;
  let stack: ExtProcStack;
  let watcher: WatchingClient;
  const server1 = SERVERS[0].name;

  beforeAll(async () => {
    tools = createFilesTools();
    stack = await startExtProcStack({
      setup: (server) => tools.setup(server),
      serverYaml: pinningYaml('serveApproved'),
    });
    await waitForStatus(stack.gateway.baseUrl, 'pinned', (s) => s.pinning?.pinned === 2, server1);
    watcher = await connectWatchingClient(stack.mcpUrl, 1);
  }, 60_000);

  afterAll(async () => {
    await watcher?.close();
    await stack?.stop();
  });

  it('serves the approved description through Envoy with no tools/list_changed, and shows the diff', async () => {
    const before = watcher.notifications();
    tools.describe(CHANGED_DESCRIPTION);

    const status = await waitForStatus(
      stack.gateway.baseUrl,
      'read_file quarantined',
      (s) => !!quarantineOf(s, 'read_file'),
      server1,
    );
    expect(quarantineOf(status, 'read_file')?.diff).toContain(`+  "description": "${CHANGED_DESCRIPTION}",`);
    for (const version of [1, 2] as const) {
      const listed = await descriptions(stack.mcpUrl, version);
      expect(listed['s1_read_file']).toBe(FIRST_DESCRIPTION);
    }
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    expect(watcher.notifications()).toBe(before);
    expect(await watcher.callTool('s1_read_file', { path: 'a' })).toEqual([{ type: 'text', text: 'contents of a' }]);
  });

  it('refuses a call of a withheld tool through Envoy, never forwarding it to the upstream', async () => {
    await stack.gateway.writeConfig(stackConfig(stack, pinningYaml('withhold')));
    await waitFor('s1_read_file withheld', async () =>
      's1_read_file' in (await descriptions(stack.mcpUrl, 2)) ? undefined : true,
    );
    const forwarded = toolCalls(stack.upstreams[0]).length;
    const connected = await connectSdkClient(stack.mcpUrl, { version: 1 });
    try {
      await expect(connected.client.callTool({ name: 's1_read_file', arguments: { path: 'a' } })).rejects.toThrow(
        /s1_read_file is not served: its definition on server server1 changed and awaits the operator's approval/,
      );
    } finally {
      await connected.close();
    }
    expect(toolCalls(stack.upstreams[0])).toHaveLength(forwarded);
  });

  it('serves the new description with a tools/list_changed once the config approves it', async () => {
    const status = await waitForStatus(
      stack.gateway.baseUrl,
      'quarantine',
      (s) => !!quarantineOf(s, 'read_file'),
      server1,
    );
    const before = watcher.notifications();

    await stack.gateway.writeConfig(
      stackConfig(stack, pinningYaml('withhold', [quarantineOf(status, 'read_file')!.currentDigest])),
    );

    await watcher.waitForNotifiedList('s1_read_file listed', before, (names) => names.includes('s1_read_file'));
    await waitFor('the new description through Envoy', async () =>
      (await descriptions(stack.mcpUrl, 1))['s1_read_file'] === CHANGED_DESCRIPTION ? true : undefined,
    );
    await waitForStatus(stack.gateway.baseUrl, 'no quarantine', (s) => s.pinning?.quarantined.length === 0, server1);
  });
});

describe('pinned tool definitions behind Envoy when the pin store (Redis) stops', () => {
  let redis: RunningRedis;
  let stack: ExtProcStack;

  beforeAll(async () => {
    redis = await startRedis();
    stack = await startExtProcStack({
      setup: (server) => createFilesTools().setup(server),
      serverYaml: pinningYaml('serveApproved'),
      gatewayEnv: { CACHE_CONNECTION_STRING: redis.url },
      gatewayArgs: ['--mcp-check-interval', '1'],
    });
    await waitForStatus(stack.gateway.baseUrl, 'pinned', (s) => s.pinning?.pinned === 2, SERVERS[0].name);
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    await redis?.stop();
  });

  it('refuses a call through Envoy with the pin store error, never forwarding it, and recovers', async () => {
    await redis.stop();
    try {
      await waitForStatus(
        stack.gateway.baseUrl,
        'store down',
        (s) => s.pinning?.storeAvailable === false,
        SERVERS[0].name,
      );
      const forwarded = toolCalls(stack.upstreams[0]).length;
      // A 2026-07-28 client: no session to look up, so the request reaches the routing decision.
      const connected = await connectSdkClient(stack.mcpUrl, { version: 2, negotiation: 'auto' });
      try {
        expect((await connected.client.listTools()).tools).toEqual([]);
        await expect(connected.client.callTool({ name: 's1_read_file', arguments: { path: 'a' } })).rejects.toThrow(
          /the pin store of server server1 is unavailable/,
        );
      } finally {
        await connected.close();
      }
      expect(toolCalls(stack.upstreams[0])).toHaveLength(forwarded);
    } finally {
      await redis.restart();
    }
    await waitForStatus(stack.gateway.baseUrl, 'store back', (s) => s.totalTools === 2, SERVERS[0].name);
  });
});
