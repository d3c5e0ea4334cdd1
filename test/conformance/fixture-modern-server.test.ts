import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModernConformanceFixture, type ModernConformanceFixture } from './fixture-modern-server.ts';

let fixture: ModernConformanceFixture;

beforeAll(async () => {
  fixture = await startModernConformanceFixture();
});
afterAll(async () => {
  await fixture.stop();
});

describe('modern conformance fixture', () => {
  it('serves a legacy-era SDK 1.x client statelessly, tools and MRTR tools alike', async () => {
    const client = new Client({ name: 'legacy-client', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(fixture.url)));
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(
        expect.arrayContaining(['test_simple_text', 'test_x_mcp_header', 'test_input_required_result_elicitation']),
      );
      await expect(client.callTool({ name: 'test_simple_text', arguments: {} })).resolves.toEqual({
        content: [{ type: 'text', text: 'This is a simple text response for testing.' }],
      });
    } finally {
      await client.close();
    }
  });

  it('answers a 2026-07-28 tools/call that needs input with an InputRequiredResult', async () => {
    const response = await fetch(fixture.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'test_input_required_result_elicitation',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: {
          name: 'test_input_required_result_elicitation',
          arguments: {},
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientCapabilities': { elicitation: {} },
          },
        },
      }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { result: Record<string, unknown> };
    expect(body.result).toMatchObject({
      resultType: 'input_required',
      inputRequests: { user_name: { method: 'elicitation/create' } },
    });
  });

  it('refuses a request from a foreign Origin with 403 (DNS rebinding)', async () => {
    const response = await fetch(fixture.url, {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(403);
    await response.body?.cancel();
  });
});
