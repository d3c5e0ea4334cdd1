import type { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startSdkUpstream, type RunningGateway, type SdkUpstream } from '../harness/index.ts';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';
import { connectWhenListed, createGate, requestsOf, startGatewayFor, toolNames, waitFor, within } from './helpers.ts';

/** Holds every blocked tool until the suite ends. */
const release = createGate();

/** Registers `echo` and tools that report progress once and then block until the suite ends. */
function faultySetup(...blocking: string[]) {
  return (server: McpServer) => {
    server.registerTool('echo', { inputSchema: { text: z.string() } }, ({ text }) => ({
      content: [{ type: 'text', text }],
    }));
    for (const name of blocking) {
      server.registerTool(name, {}, async (extra) => {
        const progressToken = extra._meta?.progressToken;
        if (progressToken !== undefined) {
          await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress: 1 } });
        }
        await release.promise;
        return { content: [{ type: 'text', text: `${name} finished` }] };
      });
    }
  };
}

/**
 * Starts a call and resolves once its first progress notification arrived (its stream is
 * flowing) with the call's pending outcome, wrapped so that awaiting this does not await the call.
 */
async function callUntilProgress(client: ClientV1, name: string): Promise<{ outcome: Promise<unknown> }> {
  const firstProgress = createGate();
  const outcome = client.callTool({ name, arguments: {} }, undefined, { onprogress: () => firstProgress.open() });
  // Keep a rejection from being unhandled while the test is still busy elsewhere.
  outcome.catch(() => {});
  await within(firstProgress.promise, `the first progress notification of ${name}`);
  return { outcome };
}

describe('upstream faults during a call (--upstream-timeout 1)', () => {
  let behindProxy: SdkUpstream;
  let proxy: FaultProxy;
  let steady: SdkUpstream;
  let doomed: SdkUpstream;
  let gateway: RunningGateway;
  const allTools = ['f_drop', 'f_echo', 'f_hang', 's_echo', 's_stall', 'd_work'];

  beforeAll(async () => {
    behindProxy = await startSdkUpstream({ setup: faultySetup('hang', 'drop') });
    proxy = await startFaultProxy({
      target: behindProxy.url,
      faultFor: (tool) => (tool === 'hang' ? 'hang' : tool === 'drop' ? 'drop' : undefined),
    });
    steady = await startSdkUpstream({ setup: faultySetup('stall') });
    doomed = await startSdkUpstream({ setup: faultySetup('work') });
    gateway = await startGatewayFor(
      [
        { name: 'faulty', url: proxy.url, prefix: 'f_' },
        { name: 'steady', url: steady.url, prefix: 's_' },
        { name: 'doomed', url: doomed.url, prefix: 'd_' },
      ],
      ['--upstream-timeout', '1'],
    );
  });

  afterAll(async () => {
    release.open();
    await gateway?.stop();
    await proxy?.stop();
    await behindProxy?.stop();
    await steady?.stop();
    await doomed?.stop();
  });

  async function expectStillServing(client: ClientV1) {
    expect(await toolNames(client)).toEqual(expect.arrayContaining(['f_echo', 's_echo']));
    expect((await client.callTool({ name: 's_echo', arguments: { text: 'alive' } })).content).toEqual([
      { type: 'text', text: 'alive' },
    ]);
  }

  it('answers with an error when the upstream never answers the call, and serves other calls meanwhile', async () => {
    const { client, close } = await connectWhenListed(gateway, allTools);
    try {
      const hanging = client.callTool({ name: 'f_hang', arguments: {} });
      hanging.catch(() => {});
      // The same upstream still answers other calls while one hangs.
      expect((await client.callTool({ name: 'f_echo', arguments: { text: 'meanwhile' } })).content).toEqual([
        { type: 'text', text: 'meanwhile' },
      ]);

      await expect(hanging).rejects.toThrow(/upstream faulty/);
      expect(proxy.held()).toBe(1);
      await expectStillServing(client);
    } finally {
      await close();
    }
  });

  it('answers with an error when the upstream goes silent in the middle of a streamed call, and cancels it upstream', async () => {
    const { client, close } = await connectWhenListed(gateway, allTools);
    try {
      const stalled = await callUntilProgress(client, 's_stall');
      const callId = requestsOf(steady.requests, 'tools/call').at(-1)?.id;

      await expect(stalled.outcome).rejects.toThrow(/upstream steady/);
      const cancel = await waitFor('the upstream receiving notifications/cancelled for the abandoned call', () =>
        requestsOf(steady.requests, 'notifications/cancelled').find(
          (r) => (r.params as { requestId?: unknown } | undefined)?.requestId === callId,
        ),
      );
      expect((cancel.params as { reason?: string }).reason).toContain('1000 ms');
      await expectStillServing(client);
    } finally {
      await close();
    }
  });

  it("answers with an error when the upstream's connection drops in the middle of a call", async () => {
    const { client, close } = await connectWhenListed(gateway, allTools);
    try {
      const cut = await callUntilProgress(client, 'f_drop');

      await expect(cut.outcome).rejects.toThrow(/upstream faulty/);
      expect(proxy.dropped()).toBeGreaterThan(0);
      await expectStillServing(client);
    } finally {
      await close();
    }
  });

  it('answers with an error when the upstream shuts down in the middle of a call', async () => {
    const { client, close } = await connectWhenListed(gateway, allTools);
    try {
      const interrupted = await callUntilProgress(client, 'd_work');

      await doomed.stop();

      await expect(interrupted.outcome).rejects.toThrow(/upstream doomed/);
      await expectStillServing(client);
    } finally {
      await close();
    }
  });
});
