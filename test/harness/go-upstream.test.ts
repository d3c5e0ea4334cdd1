import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSdkClient, GO_BUILD_TIMEOUT_MS, startGoUpstream, type GoUpstream } from './index.ts';

describe('startGoUpstream', () => {
  let upstream: GoUpstream;

  beforeAll(async () => {
    upstream = await startGoUpstream();
  }, GO_BUILD_TIMEOUT_MS);
  afterAll(async () => {
    await upstream?.stop();
  });

  it('runs the Go SDK server, which a TS SDK client lists and calls directly', async () => {
    const connected = await connectSdkClient(upstream.url, { version: 1 });
    try {
      expect(connected.client.getServerVersion()).toMatchObject({ name: 'go-upstream' });
      const { tools } = await connected.client.listTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual(['echo', 'links', 'roots_outside', 'sample_outside']);
      const result = await connected.client.callTool({ name: 'echo', arguments: { text: 'hi' } });
      expect(result.content).toEqual([{ type: 'text', text: 'echo: hi' }]);
    } finally {
      await connected.close();
    }
  });

  it('serves a 2026-07-28 client when started stateless, and stops', async () => {
    const stateless = await startGoUpstream({ stateless: true });
    try {
      const connected = await connectSdkClient(stateless.url, { version: 2, negotiation: 'auto' });
      try {
        const { tools } = await connected.client.listTools();
        expect(tools.map((tool) => tool.name)).toContain('echo');
        expect(connected.sessionId()).toBeUndefined();
      } finally {
        await connected.close();
      }
    } finally {
      await stateless.stop();
    }
    await expect(fetch(`http://127.0.0.1:${stateless.port}/healthz`)).rejects.toThrow();
  });
});
