import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startSdkUpstream, type RunningGateway, type SdkUpstream } from '../harness/index.ts';
import { connectWhenListed, startGatewayFor } from './helpers.ts';

/** A tool that returns `size` bytes of base64 image data, as screenshot tools do. */
function imageSetup(server: McpServer) {
  server.registerTool('screenshot', { inputSchema: { size: z.number() } }, ({ size }) => ({
    content: [{ type: 'image', data: 'A'.repeat(size), mimeType: 'image/png' }],
  }));
}

describe('large results', () => {
  let upstream: SdkUpstream;
  let gateway: RunningGateway;

  beforeAll(async () => {
    upstream = await startSdkUpstream({ setup: imageSetup });
    gateway = await startGatewayFor([{ name: 'shots', url: upstream.url, prefix: 'x_' }]);
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  it('relays a 3 MiB tool result whole over the upstream SSE stream', async () => {
    const { client, close } = await connectWhenListed(gateway, ['x_screenshot']);
    try {
      const size = 3 * 1024 * 1024;
      const result = await client.callTool({ name: 'x_screenshot', arguments: { size } });
      const [content] = result.content as { type: string; data: string }[];
      expect(content?.type).toBe('image');
      expect(content?.data.length).toBe(size);
    } finally {
      await close();
    }
  });
});
