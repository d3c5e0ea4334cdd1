// Pinned tool definitions kept in a real Redis: they survive a gateway restart and are shared by
// three replicas (a replica started after the upstream changed quarantines what another pinned),
// an approval in one replica's config or by `mcp-gateway pins approve` releases the quarantine on
// all of them, and while Redis is down the pinned server fails closed (its tools not served, a
// call told that the pin store is unavailable) while an unpinned server's tools stay listed to a
// 2026-07-28 client (which needs no session store to list); it recovers once Redis is back.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  connectSdkClient,
  GATEWAY_CLI,
  startGateway,
  startRedis,
  startSdkUpstream,
  type SdkUpstream,
  type RunningGateway,
  type RunningRedis,
} from '../harness/index.ts';
import { waitFor } from '../gateway-calls/helpers.ts';
import {
  CHANGED_DESCRIPTION,
  FIRST_DESCRIPTION,
  pinnedConfig,
  quarantineOf,
  startFilesUpstream,
  waitForStatus,
  type FilesUpstream,
} from './pins-fixture.ts';

const run = promisify(execFile);
const THIRD_DESCRIPTION = 'Reads a file (third edition)';

/** The served description of f_read_file on a replica, for a 2.x client speaking 2026-07-28. */
async function readFileDescription(replica: RunningGateway): Promise<string | undefined> {
  const connected = await connectSdkClient(replica.url, { version: 2, negotiation: 'auto' });
  try {
    return (await connected.client.listTools()).tools.find((tool) => tool.name === 'f_read_file')?.description;
  } finally {
    await connected.close();
  }
}

describe('pinned tool definitions on three replicas sharing one Redis', () => {
  let redis: RunningRedis;
  let files: FilesUpstream;
  let plain: SdkUpstream;
  let config: string;
  const replicas: RunningGateway[] = [];
  // The default check interval (60 s): within a test, only the bus tells a replica of an approval.
  const startReplica = async (args: readonly string[] = []) => {
    const replica = await startGateway({ config, env: { CACHE_CONNECTION_STRING: redis.url }, args });
    replicas.push(replica);
    return replica;
  };

  beforeAll(async () => {
    redis = await startRedis();
    files = await startFilesUpstream();
    plain = await startSdkUpstream({
      name: 'plain',
      setup: (server) =>
        server.registerTool('shout', { inputSchema: { text: z.string() } }, ({ text }) => ({
          content: [{ type: 'text', text: text.toUpperCase() }],
        })),
    });
    config = pinnedConfig(files.upstream.url, { plainUrl: plain.url });
  });

  afterAll(async () => {
    await Promise.allSettled(replicas.map((replica) => replica.stop()));
    await files?.stop();
    await plain?.stop();
    await redis?.stop();
  });

  it('keeps the pins across a restart and shares them: replicas started after a change quarantine it', async () => {
    const first = await startReplica();
    await waitForStatus(first.baseUrl, 'the first listing pinned', (status) => status.pinning?.pinned === 2);
    await first.stop();
    replicas.length = 0;
    files.describe(CHANGED_DESCRIPTION);

    for (let i = 0; i < 3; i++) await startReplica();
    for (const replica of replicas) {
      const status = await waitForStatus(
        replica.baseUrl,
        'read_file quarantined',
        (s) => !!quarantineOf(s, 'read_file'),
      );
      expect(quarantineOf(status, 'read_file')).toMatchObject({ change: 'changed' });
      expect(status.pinning).toMatchObject({ pinned: 2, storeAvailable: true });
      expect(await readFileDescription(replica)).toBe(FIRST_DESCRIPTION);
    }
  });

  it('serves an approval written in one replica config on all three', async () => {
    const status = await waitForStatus(
      replicas[0]!.baseUrl,
      'read_file quarantined',
      (s) => !!quarantineOf(s, 'read_file'),
    );
    const digest = quarantineOf(status, 'read_file')!.currentDigest;

    await replicas[0]!.writeConfig(pinnedConfig(files.upstream.url, { plainUrl: plain.url, approve: [digest] }));

    for (const replica of replicas) {
      await waitFor('the approved description on every replica', async () =>
        (await readFileDescription(replica)) === CHANGED_DESCRIPTION ? true : undefined,
      );
      await waitForStatus(replica.baseUrl, 'no quarantine', (s) => s.pinning?.quarantined.length === 0);
    }
  });

  it('releases a quarantine on every running replica with mcp-gateway pins approve', async () => {
    files.describe(THIRD_DESCRIPTION);
    for (const replica of replicas) {
      await waitForStatus(replica.baseUrl, 'read_file quarantined', (s) => !!quarantineOf(s, 'read_file'));
    }
    const env = { ...process.env, CACHE_CONNECTION_STRING: redis.url };

    const approved = await run(
      process.execPath,
      [GATEWAY_CLI, 'pins', 'approve', '--server', 'files', '--tool', 'read_file'],
      { env },
    );

    const { digest } = JSON.parse(approved.stdout) as { digest: string };
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    for (const replica of replicas) {
      await waitFor('the CLI-approved description on every replica', async () =>
        (await readFileDescription(replica)) === THIRD_DESCRIPTION ? true : undefined,
      );
    }
    const listed = await run(process.execPath, [GATEWAY_CLI, 'pins', 'list', '--server', 'files'], { env });
    const record = JSON.parse(listed.stdout) as { tools: Record<string, { digest: string }>; quarantined: object };
    expect(record.tools['read_file']?.digest).toBe(digest);
    expect(record.quarantined).toEqual({});
  });

  it('fails closed for the pinned server while Redis is down, keeps listing the unpinned one, and recovers', async () => {
    // A fourth replica that re-lists every second, so that it notices the store gone within the test.
    const replica = await startReplica(['--mcp-check-interval', '1']);
    await waitForStatus(replica.baseUrl, 'the files server served', (s) => s.totalTools === 2);
    await redis.stop();
    try {
      const status = await waitForStatus(
        replica.baseUrl,
        'the pin store unavailable',
        (s) => s.pinning?.storeAvailable === false,
      );
      expect(status.totalTools).toBe(0);
      expect(status.message).toMatch(/pin store unavailable/);
      const connected = await connectSdkClient(replica.url, { version: 2, negotiation: 'auto' });
      try {
        const names = (await connected.client.listTools()).tools.map((tool) => tool.name);
        expect(names).toEqual(['p_shout']);
        await expect(connected.client.callTool({ name: 'f_read_file', arguments: { path: 'x' } })).rejects.toThrow(
          /pin store of server files is unavailable/,
        );
        // A call of p_shout needs the backend session the store keeps (legacy upstream): 503 like any call.
      } finally {
        await connected.close();
      }
    } finally {
      await redis.restart();
    }
    await waitForStatus(replica.baseUrl, 'the pin store back', (s) => s.pinning?.storeAvailable === true);
    await waitFor('read_file served again', async () => ((await readFileDescription(replica)) ? true : undefined));
  });

  it('refuses pins approve without a shared store and says where approvals go instead', async () => {
    const env = { ...process.env, CACHE_CONNECTION_STRING: '' };
    const failed = await run(
      process.execPath,
      [GATEWAY_CLI, 'pins', 'approve', '--server', 'files', '--tool', 'read_file'],
      {
        env,
      },
    ).catch((error: { code: number; stderr: string }) => error);

    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr).toMatch(
      /needs the shared session store .*without it approve in the config file \(servers\[\]\.pinning\.approve\)/,
    );
  });
});
