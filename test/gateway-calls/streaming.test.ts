import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { connectSdkClient, startSdkUpstream, type RunningGateway, type SdkUpstream } from '../harness/index.ts';
import { createGate, requestsOf, startGatewayFor, waitForTools, within, type Gate } from './helpers.ts';

/** The test opens these, one per step, to let the `steps` tool go on. */
let stepGates: Gate[] = [];
/** Opened by the `wait` tool when it starts, and when its abort signal fires. */
let waitStarted: Gate = createGate();
let waitAborted: Gate = createGate();

function streamingSetup(server: McpServer) {
  server.registerTool('steps', {}, async (extra) => {
    const progressToken = extra._meta?.progressToken;
    if (progressToken === undefined) throw new Error('steps needs a progress token');
    for (const [index, gate] of stepGates.entries()) {
      await extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken, progress: index + 1, total: stepGates.length },
      });
      await gate.promise;
    }
    return { content: [{ type: 'text', text: 'all steps done' }] };
  });
  server.registerTool('chatty', {}, async (extra) => {
    for (const level of ['info', 'warning'] as const) {
      await extra.sendNotification({
        method: 'notifications/message',
        params: { level, logger: 'chatty', data: `${level} from the tool` },
      });
    }
    return { content: [{ type: 'text', text: 'logged' }] };
  });
  server.registerTool('wait', {}, async (extra) => {
    const aborted = new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve()));
    waitStarted.open();
    await aborted;
    waitAborted.open();
    return { content: [{ type: 'text', text: 'aborted' }] };
  });
}

interface CallOptions {
  onprogress?: (progress: { progress: number }) => void;
  signal?: AbortSignal;
}

/** A connected client of either SDK line, reduced to what these tests use (their callTool signatures differ). */
async function connectCaller(url: string, version: 1 | 2) {
  if (version === 1) {
    const connected = await connectSdkClient(url, { version: 1 });
    return {
      client: connected.client,
      close: connected.close,
      call: (name: string, options: CallOptions) =>
        connected.client.callTool({ name, arguments: {} }, undefined, options) as Promise<CallToolResult>,
    };
  }
  const connected = await connectSdkClient(url, { version: 2 });
  return {
    client: connected.client,
    close: connected.close,
    call: (name: string, options: CallOptions) => connected.client.callTool({ name, arguments: {} }, options),
  };
}

describe('streaming of a call', () => {
  let upstream: SdkUpstream;
  let gateway: RunningGateway;

  beforeAll(async () => {
    upstream = await startSdkUpstream({ setup: streamingSetup, capabilities: { logging: {} } });
    gateway = await startGatewayFor([{ name: 'streamer', url: upstream.url, prefix: 's_' }]);
  });

  afterAll(async () => {
    for (const gate of stepGates) gate.open();
    await gateway?.stop();
    await upstream?.stop();
  });

  for (const version of [1, 2] as const) {
    it(`delivers each progress notification to a ${version}.x client while the tool is still running`, async () => {
      const connected = await connectCaller(gateway.url, version);
      stepGates = [createGate(), createGate(), createGate()];
      const received: number[] = [];
      const arrivals = [createGate(), createGate(), createGate()];
      try {
        await waitForTools(connected.client, ['s_steps']);
        let finished = false;
        const onprogress = ({ progress }: { progress: number }) => {
          received.push(progress);
          arrivals[progress - 1]?.open();
        };
        const call = connected.call('s_steps', { onprogress }).finally(() => {
          finished = true;
        });

        for (const [index, arrival] of arrivals.entries()) {
          // The tool is blocked on this step's gate: the notification must already be here.
          await within(arrival.promise, `progress ${index + 1} while the tool waits`);
          expect(finished).toBe(false);
          expect(received).toEqual([1, 2, 3].slice(0, index + 1));
          stepGates[index]?.open();
        }
        const result = await call;
        expect(result.content).toEqual([{ type: 'text', text: 'all steps done' }]);
        expect(received).toEqual([1, 2, 3]);
      } finally {
        for (const gate of stepGates) gate.open();
        await connected.close();
      }
    });
  }

  it("delivers a tool's logging messages to the client", async () => {
    const { client, close } = await connectSdkClient(gateway.url, { version: 1 });
    const messages: unknown[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
      messages.push(notification.params);
    });
    try {
      await waitForTools(client, ['s_chatty']);
      const result = await client.callTool({ name: 's_chatty', arguments: {} });

      expect(result.content).toEqual([{ type: 'text', text: 'logged' }]);
      expect(messages).toEqual([
        { level: 'info', logger: 'chatty', data: 'info from the tool' },
        { level: 'warning', logger: 'chatty', data: 'warning from the tool' },
      ]);
    } finally {
      await close();
    }
  });

  for (const version of [1, 2] as const) {
    it(`passes a ${version}.x client's cancellation on to the upstream, whose tool sees its signal fire`, async () => {
      const connected = await connectCaller(gateway.url, version);
      waitStarted = createGate();
      waitAborted = createGate();
      try {
        await waitForTools(connected.client, ['s_wait']);
        const controller = new AbortController();
        const call = connected.call('s_wait', { signal: controller.signal });
        await waitStarted.promise;

        controller.abort(new Error('the user gave up'));

        await expect(call).rejects.toThrow();
        await within(waitAborted.promise, 'the upstream tool to see its abort signal');
        const callId = requestsOf(upstream.requests, 'tools/call').at(-1)?.id;
        const cancels = requestsOf(upstream.requests, 'notifications/cancelled');
        expect(cancels.map((request) => (request.params as { requestId: unknown }).requestId)).toContain(callId);
      } finally {
        await connected.close();
      }
    });
  }
});
