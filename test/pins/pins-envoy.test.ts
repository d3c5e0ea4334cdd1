// Pinned tool definitions behind a real Envoy with the ext_proc router: the same table as on the
// broker, through Envoy. A changed description is served as approved with no tools/list_changed
// and its diff in /status; under withhold the router refuses a call of the changed tool exactly as
// the broker does (never forwarded); an approval in the config releases it with a tools/list_changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVERS, startExtProcStack, toolCalls, type ExtProcStack } from '../envoy/extproc-stack.ts';
import { connectSdkClient } from '../harness/index.ts';
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

  it('refuses a call of a withheld tool in the router, never forwarding it', async () => {
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
