// Pinned tool definitions on the broker, with a real SDK upstream that changes its own tools at
// runtime and real 1.x and 2.x SDK clients: the first listing is pinned; a changed description is
// quarantined (served as approved, no tools/list_changed, the diff in /status); an approval in the
// config releases it with a tools/list_changed; withhold hides a changed tool and a call is told
// why; a renamed tool is reported as renamed and not served until approved.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSdkClient, startGateway, startSdkUpstream, type RunningGateway } from '../harness/index.ts';
import { waitFor } from '../gateway-calls/helpers.ts';
import { connectWatchingClient, type WatchingClient } from '../gateway-calls/watching-client.ts';
import {
  CHANGED_DESCRIPTION,
  FIRST_DESCRIPTION,
  filesStatus,
  pinnedConfig,
  quarantineOf,
  startFilesUpstream,
  waitForStatus,
  type FilesUpstream,
} from './pins-fixture.ts';
import type { SdkUpstream } from '../harness/index.ts';
import { z } from 'zod';

/** How long a tools/list_changed that should not come is waited for. */
const QUIET_MS = 1_500;

async function descriptions(url: string, version: 1 | 2): Promise<Record<string, string | undefined>> {
  const connected =
    version === 1 ? await connectSdkClient(url, { version: 1 }) : await connectSdkClient(url, { version: 2 });
  try {
    const { tools } = await connected.client.listTools();
    return Object.fromEntries(tools.map((tool) => [tool.name, tool.description]));
  } finally {
    await connected.close();
  }
}

async function callError(url: string, name: string): Promise<string> {
  const connected = await connectSdkClient(url, { version: 2 });
  try {
    const result = await connected.client.callTool({ name, arguments: { path: '/etc/hosts' } });
    return `no error: ${JSON.stringify(result)}`;
  } catch (error) {
    return String(error);
  } finally {
    await connected.close();
  }
}

describe('pinned tool definitions on the broker', () => {
  let files: FilesUpstream;
  let plain: SdkUpstream;
  let gateway: RunningGateway;
  const watchers: WatchingClient[] = [];
  let approvedDigest = '';

  beforeAll(async () => {
    files = await startFilesUpstream();
    plain = await startSdkUpstream({
      name: 'plain',
      setup: (server) =>
        server.registerTool('echo', { inputSchema: { text: z.string() } }, ({ text }) => ({
          content: [{ type: 'text', text }],
        })),
    });
    gateway = await startGateway({ config: pinnedConfig(files.upstream.url, { plainUrl: plain.url }) });
    await waitForStatus(gateway.baseUrl, 'the files server pinned', (status) => status.pinning?.pinned === 2);
    watchers.push(await connectWatchingClient(gateway.url, 1), await connectWatchingClient(gateway.url, 2));
  });

  afterAll(async () => {
    for (const watcher of watchers) await watcher.close();
    await gateway?.stop();
    await files?.stop();
    await plain?.stop();
  });

  it('pins every tool of the first listing and shows the pins in /status', async () => {
    const status = await filesStatus(gateway.baseUrl);
    expect(status.pinning).toEqual({
      onChange: 'serveApproved',
      pinned: 2,
      digests: {
        read_file: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        delete_file: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      },
      storeAvailable: true,
      quarantined: [],
    });
    expect(status.totalTools).toBe(2);
    expect((await filesStatus(gateway.baseUrl, 'plain')).pinning).toBeUndefined();
  });

  it('serves the approved description when the upstream changes it, with no tools/list_changed, and shows the diff', async () => {
    const before = watchers.map((watcher) => watcher.notifications());
    files.describe(CHANGED_DESCRIPTION);

    const status = await waitForStatus(gateway.baseUrl, 'read_file quarantined', (s) => !!quarantineOf(s, 'read_file'));
    const entry = quarantineOf(status, 'read_file')!;
    expect(entry).toMatchObject({ change: 'changed', approvedDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(entry.currentDigest).not.toBe(entry.approvedDigest);
    expect(entry.diff).toContain(`-  "description": "${FIRST_DESCRIPTION}",`);
    expect(entry.diff).toContain(`+  "description": "${CHANGED_DESCRIPTION}",`);
    expect(status.message).toMatch(/quarantined until approved: \[read_file \(changed\)\]/);
    for (const version of [1, 2] as const) {
      expect(await descriptions(gateway.url, version)).toMatchObject({ f_read_file: FIRST_DESCRIPTION });
    }
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    expect(watchers.map((watcher) => watcher.notifications())).toEqual(before);
    // Calls still reach the upstream's tool of that name.
    expect(await watchers[0]!.callTool('f_read_file', { path: 'a' })).toEqual([
      { type: 'text', text: 'contents of a' },
    ]);
    approvedDigest = entry.currentDigest;
  });

  it('releases the change when the operator approves its digest in the config, with a tools/list_changed', async () => {
    const before = watchers.map((watcher) => watcher.notifications());
    await gateway.writeConfig(pinnedConfig(files.upstream.url, { plainUrl: plain.url, approve: [approvedDigest] }));

    for (const [index, watcher] of watchers.entries()) {
      await watcher.waitForNotifiedList('read_file listed', before[index]!, (names) => names.includes('f_read_file'));
    }
    await waitFor('the new description served', async () =>
      (await descriptions(gateway.url, 2))['f_read_file'] === CHANGED_DESCRIPTION ? true : undefined,
    );
    expect(await descriptions(gateway.url, 1)).toMatchObject({ f_read_file: CHANGED_DESCRIPTION });
    const status = await waitForStatus(
      gateway.baseUrl,
      'the quarantine gone',
      (s) => s.pinning?.quarantined.length === 0,
    );
    expect(status.pinning?.pinned).toBe(2);
  });

  it('withholds a changed tool under withhold and tells a caller why, while the unpinned server keeps serving', async () => {
    await gateway.writeConfig(
      pinnedConfig(files.upstream.url, { plainUrl: plain.url, onChange: 'withhold', approve: [approvedDigest] }),
    );
    await waitForStatus(gateway.baseUrl, 'withhold in force', (s) => s.pinning?.onChange === 'withhold');
    files.describe('Reads a file, then deletes it');

    await waitForStatus(gateway.baseUrl, 'read_file quarantined', (s) => !!quarantineOf(s, 'read_file'));
    await waitFor('read_file withheld', async () =>
      'f_read_file' in (await descriptions(gateway.url, 2)) ? undefined : true,
    );
    expect(Object.keys(await descriptions(gateway.url, 1)).sort()).toEqual(['f_delete_file', 'p_echo']);
    expect(await callError(gateway.url, 'f_read_file')).toMatch(
      /f_read_file.*changed and awaits the operator's approval/,
    );
    expect(await watchers[1]!.callTool('p_echo', { text: 'still here' })).toEqual([
      { type: 'text', text: 'still here' },
    ]);
  });

  it('reports a tool renamed upstream as renamed and does not serve it under either name until approved', async () => {
    files.renameDelete('remove_file');

    const status = await waitForStatus(
      gateway.baseUrl,
      'remove_file quarantined',
      (s) => !!quarantineOf(s, 'remove_file'),
    );
    expect(quarantineOf(status, 'remove_file')).toMatchObject({ change: 'renamed', renamedFrom: 'delete_file' });
    const served = Object.keys(await descriptions(gateway.url, 2));
    expect(served).not.toContain('f_remove_file');
    expect(served).not.toContain('f_delete_file');
    expect(await callError(gateway.url, 'f_remove_file')).toMatch(/awaits the operator's approval/);

    const digest = quarantineOf(status, 'remove_file')!.currentDigest;
    await gateway.writeConfig(
      pinnedConfig(files.upstream.url, {
        plainUrl: plain.url,
        onChange: 'withhold',
        approve: [approvedDigest, digest],
      }),
    );
    await waitFor('remove_file served', async () =>
      'f_remove_file' in (await descriptions(gateway.url, 2)) ? true : undefined,
    );
  });
});
