// Pinned tool definitions in the built worker in workerd (Miniflare), pins kept in the Durable
// Object: the same table as on the broker, with the worker re-listing an upstream at most once a
// second (MCP_CHECK_INTERVAL) inside requests. A changed description is served as approved with
// the diff in /status; under withhold the changed tool is not listed and a call is told why; a
// renamed tool is reported as renamed and served under neither name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRpcMessage } from '../workerd/read-rpc-message.ts';
import { startWorker, type RunningWorker } from '../workerd/start-worker.ts';
import { waitFor } from '../gateway-calls/helpers.ts';
import {
  CHANGED_DESCRIPTION,
  FIRST_DESCRIPTION,
  quarantineOf,
  startFilesUpstream,
  type FilesUpstream,
  type PinnedServerStatus,
} from './pins-fixture.ts';

const pinning = (onChange: string, approve: readonly string[] = []) =>
  `    pinning:\n      onChange: ${onChange}\n      approve: ${JSON.stringify(approve)}\n`;

function filesServer(files: FilesUpstream, onChange: string, approve: readonly string[] = []) {
  return [{ name: 'files', prefix: 'f_', url: files.upstream.url, yaml: pinning(onChange, approve) }];
}

async function pinnedWorker(files: FilesUpstream, onChange: string): Promise<RunningWorker> {
  return startWorker(filesServer(files, onChange), { bindings: { MCP_CHECK_INTERVAL: '1' } });
}

async function listed(worker: RunningWorker, sessionId: string): Promise<Record<string, string | undefined>> {
  const answer = await readRpcMessage(await worker.post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, sessionId), 1);
  const tools = (answer.result as { tools: { name: string; description?: string }[] }).tools;
  return Object.fromEntries(tools.map((tool) => [tool.name, tool.description]));
}

async function status(worker: RunningWorker): Promise<PinnedServerStatus> {
  const body = (await (await worker.fetch('/status')).json()) as { servers: PinnedServerStatus[] };
  return body.servers[0]!;
}

/** Lists (which re-lists the upstream when its snapshot is over a second old) until /status satisfies `predicate`. */
function listUntil(
  worker: RunningWorker,
  sessionId: string,
  what: string,
  predicate: (s: PinnedServerStatus) => boolean,
) {
  return waitFor(what, async () => {
    await listed(worker, sessionId);
    const current = await status(worker);
    return predicate(current) ? current : undefined;
  });
}

describe('pinned tool definitions in the built worker (serveApproved)', () => {
  let files: FilesUpstream;
  let worker: RunningWorker;
  let sessionId: string;

  beforeAll(async () => {
    files = await startFilesUpstream();
    worker = await pinnedWorker(files, 'serveApproved');
    sessionId = await worker.initialize();
  });

  afterAll(async () => {
    await worker?.dispose();
    await files?.stop();
  });

  it('pins the first listing in the Durable Object and serves it', async () => {
    expect(await listed(worker, sessionId)).toEqual({
      f_read_file: FIRST_DESCRIPTION,
      f_delete_file: 'Deletes a file',
    });
    expect((await status(worker)).pinning).toEqual({
      onChange: 'serveApproved',
      pinned: 2,
      digests: {
        read_file: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        delete_file: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      },
      storeAvailable: true,
      quarantined: [],
    });
  });

  it('serves the approved description after the upstream changed it, and shows the diff', async () => {
    files.describe(CHANGED_DESCRIPTION);

    const current = await listUntil(worker, sessionId, 'read_file quarantined', (s) => !!quarantineOf(s, 'read_file'));
    expect(quarantineOf(current, 'read_file')).toMatchObject({ change: 'changed' });
    expect(quarantineOf(current, 'read_file')?.diff).toContain(`-  "description": "${FIRST_DESCRIPTION}",`);
    expect(quarantineOf(current, 'read_file')?.diff).toContain(`+  "description": "${CHANGED_DESCRIPTION}",`);
    expect((await listed(worker, sessionId))['f_read_file']).toBe(FIRST_DESCRIPTION);
  });

  it('keeps the pins across a redeploy, and serves the new description once the config approves it', async () => {
    // A redeploy restarts workerd: a fresh gateway finds the record in the Durable Object (were it
    // lost, its first listing would be trusted and the changed description served).
    await worker.reconfigure(filesServer(files, 'serveApproved'));
    const redeployed = await worker.initialize();
    expect((await listed(worker, redeployed))['f_read_file']).toBe(FIRST_DESCRIPTION);
    const digest = quarantineOf(await status(worker), 'read_file')!.currentDigest;

    await worker.reconfigure(filesServer(files, 'serveApproved', [digest]));

    const session = await worker.initialize();
    expect((await listed(worker, session))['f_read_file']).toBe(CHANGED_DESCRIPTION);
    expect((await status(worker)).pinning).toMatchObject({ pinned: 2, quarantined: [] });
  });
});

describe('pinned tool definitions in the built worker (withhold)', () => {
  let files: FilesUpstream;
  let worker: RunningWorker;
  let sessionId: string;

  beforeAll(async () => {
    files = await startFilesUpstream();
    worker = await pinnedWorker(files, 'withhold');
    sessionId = await worker.initialize();
    await listed(worker, sessionId);
  });

  afterAll(async () => {
    await worker?.dispose();
    await files?.stop();
  });

  it('does not list a changed tool and tells a caller why', async () => {
    files.describe(CHANGED_DESCRIPTION);

    await listUntil(worker, sessionId, 'read_file quarantined', (s) => !!quarantineOf(s, 'read_file'));
    expect(Object.keys(await listed(worker, sessionId))).toEqual(['f_delete_file']);
    const called = await worker.post(
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'f_read_file', arguments: { path: 'a' } } },
      sessionId,
    );
    expect((await readRpcMessage(called, 2)).error).toMatchObject({
      message: expect.stringMatching(/f_read_file is not served: its definition on server files changed/),
    });
  });

  it('reports a renamed tool as renamed and serves it under neither name', async () => {
    files.renameDelete('remove_file');

    const current = await listUntil(
      worker,
      sessionId,
      'remove_file quarantined',
      (s) => !!quarantineOf(s, 'remove_file'),
    );
    expect(quarantineOf(current, 'remove_file')).toMatchObject({ change: 'renamed', renamedFrom: 'delete_file' });
    expect(await listed(worker, sessionId)).toEqual({});
  });
});
