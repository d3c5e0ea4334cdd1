// Pins that survive a restart without a shared store: a broker on a memory store reports its
// approved digests in /status; a fresh broker (empty memory store) whose config carries them as
// pinning.pinned, started against an upstream that changed a tool meanwhile, quarantines that tool
// instead of trusting it, withholds it even under serveApproved (nothing approved to serve), keeps
// serving the unchanged tool, and serves the new definition once the operator approves it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSdkClient, startGateway, type RunningGateway } from '../harness/index.ts';
import { waitFor } from '../gateway-calls/helpers.ts';
import {
  CHANGED_DESCRIPTION,
  pinnedConfig,
  quarantineOf,
  startFilesUpstream,
  waitForStatus,
  type FilesUpstream,
  type PinnedServerStatus,
} from './pins-fixture.ts';

async function descriptions(url: string): Promise<Record<string, string | undefined>> {
  const connected = await connectSdkClient(url, { version: 2 });
  try {
    const { tools } = await connected.client.listTools();
    return Object.fromEntries(tools.map((tool) => [tool.name, tool.description]));
  } finally {
    await connected.close();
  }
}

describe('pins seeded from pinning.pinned on a broker with an empty memory store', () => {
  let files: FilesUpstream;
  let gateway: RunningGateway | undefined;
  let digests: Record<string, string> = {};
  let seeded: PinnedServerStatus;

  beforeAll(async () => {
    files = await startFilesUpstream();
    // The previous run: trust on first use, then its /status digests are what a controller keeps.
    const previous = await startGateway({ config: pinnedConfig(files.upstream.url) });
    try {
      const status = await waitForStatus(previous.baseUrl, 'both tools pinned', (s) => s.pinning?.pinned === 2);
      digests = status.pinning?.digests ?? {};
    } finally {
      await previous.stop();
    }
    // While no gateway runs, the upstream changes read_file.
    files.describe(CHANGED_DESCRIPTION);
    gateway = await startGateway({ config: pinnedConfig(files.upstream.url, { pinned: digests }) });
    seeded = await waitForStatus(gateway.baseUrl, 'the first listing decided', (s) => s.pinning?.digests !== undefined);
  });

  afterAll(async () => {
    await gateway?.stop();
    await files?.stop();
  });

  it('reports the approved digests of both tools in the previous run', () => {
    expect(Object.keys(digests).sort()).toEqual(['delete_file', 'read_file']);
  });

  it('quarantines the tool changed while no gateway ran, with the seeded digest and no approved definition', () => {
    const entry = quarantineOf(seeded, 'read_file');
    expect(entry).toMatchObject({
      change: 'changed',
      approvedDigest: digests['read_file'],
      approvedDefinitionUnknown: true,
    });
    expect(entry?.currentDigest).not.toBe(digests['read_file']);
    expect(entry?.diff).toContain(`+  "description": "${CHANGED_DESCRIPTION}",`);
    expect(seeded.message).toMatch(/quarantined until approved: \[read_file \(changed\)\]/);
    expect(seeded.pinning?.digests).toEqual(digests);
    expect(seeded.pinning?.onChange).toBe('serveApproved');
  });

  it('withholds the changed tool even under serveApproved and serves the unchanged one', async () => {
    expect(Object.keys(await descriptions(gateway!.url))).toEqual(['f_delete_file']);
    const connected = await connectSdkClient(gateway!.url, { version: 2 });
    try {
      await expect(connected.client.callTool({ name: 'f_read_file', arguments: { path: 'a' } })).rejects.toThrow(
        /f_read_file.*changed and awaits the operator's approval/,
      );
      expect((await connected.client.callTool({ name: 'f_delete_file', arguments: { path: 'a' } })).content).toEqual([
        { type: 'text', text: 'deleted a' },
      ]);
    } finally {
      await connected.close();
    }
  });

  it('serves the new definition once the operator approves its digest', async () => {
    const current = quarantineOf(seeded, 'read_file')!.currentDigest;
    await gateway!.writeConfig(pinnedConfig(files.upstream.url, { pinned: digests, approve: [current] }));

    await waitFor('the new description served', async () =>
      (await descriptions(gateway!.url))['f_read_file'] === CHANGED_DESCRIPTION ? true : undefined,
    );
    const status = await waitForStatus(
      gateway!.baseUrl,
      'the quarantine gone',
      (s) => s.pinning?.quarantined.length === 0,
    );
    expect(status.pinning?.digests).toEqual({ ...digests, read_file: current });
  });
});
