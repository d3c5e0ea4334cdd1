import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSdkClient, PYTHON_MCP_VERSION, startPythonUpstream, type PythonUpstream } from './index.ts';

describe('startPythonUpstream', () => {
  let upstream: PythonUpstream;

  beforeAll(async () => {
    upstream = await startPythonUpstream({ script: 'echo_server.py' });
  });
  afterAll(async () => {
    await upstream?.stop();
  });

  it('runs a FastMCP script that a TS SDK client lists and calls directly', async () => {
    const connected = await connectSdkClient(upstream.url, { version: 1 });
    try {
      expect(connected.client.getServerVersion()).toEqual({ name: 'python-echo', version: PYTHON_MCP_VERSION });
      const { tools } = await connected.client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(['echo']);
      const result = await connected.client.callTool({ name: 'echo', arguments: { text: 'hi' } });
      expect(result.content).toEqual([{ type: 'text', text: 'echo: hi' }]);
    } finally {
      await connected.close();
    }
  });

  it('stops the server and frees its port', async () => {
    const other = await startPythonUpstream({ script: 'echo_server.py' });
    await other.stop();
    await expect(fetch(`http://127.0.0.1:${other.port}/healthz`)).rejects.toThrow();
    await other.stop();
  });
});
