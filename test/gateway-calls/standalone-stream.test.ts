import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ElicitRequestSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSdkClient, startSdkUpstream, type RunningGateway, type SdkUpstream } from '../harness/index.ts';
import { createGate, startGatewayFor, waitForTools, within } from './helpers.ts';

/** Opens once the client has heard a log message sent outside any call's stream. */
const heard = createGate();
let elicited: unknown;

/**
 * Tools that talk to the client the way many servers do: without tying the message to the
 * call (no relatedRequestId), so the upstream sends it on the backend session's own GET stream.
 */
function standaloneSetup(server: McpServer) {
  server.registerTool('log_until_heard', {}, async (extra) => {
    // The gateway attaches to the backend session's stream asynchronously: repeat until heard.
    for (let attempt = 0; attempt < 100; attempt++) {
      await server.sendLoggingMessage(
        { level: 'info', logger: 'standalone', data: 'from outside the call' },
        extra.sessionId,
      );
      const outcome = await Promise.race([heard.promise.then(() => 'heard'), pause(100)]);
      if (outcome === 'heard') return { content: [{ type: 'text', text: `heard after ${attempt + 1}` }] };
    }
    return { content: [{ type: 'text', text: 'never heard' }], isError: true };
  });
  server.registerTool('ask_outside_call', {}, async () => {
    elicited = await server.server.elicitInput({
      message: 'Pick a size',
      requestedSchema: { type: 'object', properties: { size: { type: 'string' } }, required: ['size'] },
    });
    return { content: [{ type: 'text', text: 'asked' }] };
  });
}

function pause(ms: number): Promise<'paused'> {
  return new Promise((resolve) => setTimeout(() => resolve('paused'), ms));
}

describe("an upstream's messages outside any call", () => {
  let upstream: SdkUpstream;
  let gateway: RunningGateway;

  beforeAll(async () => {
    upstream = await startSdkUpstream({ setup: standaloneSetup, capabilities: { logging: {} } });
    gateway = await startGatewayFor([{ name: 'side', url: upstream.url, prefix: 's_' }]);
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  it("reach the client's notification stream, and its answer to an elicitation reaches the upstream", async () => {
    const connected = await connectSdkClient(gateway.url, { version: 1, capabilities: { elicitation: {} } });
    try {
      const { client } = connected;
      const logs: unknown[] = [];
      client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
        logs.push(notification.params.data);
        heard.open();
      });
      client.setRequestHandler(ElicitRequestSchema, async (request) => {
        expect(request.params.message).toBe('Pick a size');
        return { action: 'accept', content: { size: 'large' } };
      });
      await waitForTools(client, ['s_ask_outside_call', 's_log_until_heard']);

      const logged = await client.callTool({ name: 's_log_until_heard', arguments: {} });
      expect(logged.isError).not.toBe(true);
      expect(logs).toContain('from outside the call');

      await within(client.callTool({ name: 's_ask_outside_call', arguments: {} }), 'the elicitation round trip');
      expect(elicited).toEqual({ action: 'accept', content: { size: 'large' } });
    } finally {
      await connected.close();
    }
  });
});
