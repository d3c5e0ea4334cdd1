import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startSdkUpstream, type RunningGateway, type SdkUpstream } from '../harness/index.ts';
import { configYaml, connectWhenListed, startGatewayFor, toolNames, waitFor } from './helpers.ts';

function echoSetup(server: McpServer) {
  server.registerTool('echo', { inputSchema: { text: z.string() } }, ({ text }) => ({
    content: [{ type: 'text', text: `echo: ${text}` }],
  }));
}

/** Log lines written after the first `offset` characters of output. */
function logsSince(gateway: RunningGateway, offset: number): string {
  return gateway.logs().slice(offset);
}

describe('config reload', () => {
  let upstream: SdkUpstream;

  beforeAll(async () => {
    upstream = await startSdkUpstream({ setup: echoSetup });
  });

  afterAll(async () => {
    await upstream?.stop();
  });

  async function expectStillServing(gateway: RunningGateway) {
    const { client, close } = await connectWhenListed(gateway, ['a_echo']);
    try {
      expect(await toolNames(client)).toEqual(['a_echo']);
      const result = await client.callTool({ name: 'a_echo', arguments: { text: 'still here' } });
      expect(result.content).toEqual([{ type: 'text', text: 'echo: still here' }]);
    } finally {
      await close();
    }
  }

  async function expectFixApplied(gateway: RunningGateway) {
    await gateway.writeConfig(configYaml([{ name: 'a', url: upstream.url, prefix: 'fixed_' }]));
    const { client, close } = await connectWhenListed(gateway, ['fixed_echo']);
    try {
      await waitFor('a_echo to go', async () => ((await toolNames(client)).includes('a_echo') ? undefined : true));
      expect(await toolNames(client)).toEqual(['fixed_echo']);
      const result = await client.callTool({ name: 'fixed_echo', arguments: { text: 'fixed' } });
      expect(result.content).toEqual([{ type: 'text', text: 'echo: fixed' }]);
    } finally {
      await close();
    }
  }

  it('keeps the last good config in force after an edit that is not YAML, logs where the file is broken, and applies the fix', async () => {
    const gateway = await startGatewayFor([{ name: 'a', url: upstream.url, prefix: 'a_' }]);
    try {
      await expectStillServing(gateway);
      const offset = gateway.logs().length;

      await gateway.writeConfig('servers:\n  - name: "a\n    url: [unclosed\n');

      const logged = await waitFor('the gateway to report the bad edit', () => {
        const since = logsSince(gateway, offset);
        return /invalid config edit/.test(since) ? since : undefined;
      });
      expect(logged).toContain(gateway.configPath);
      expect(logged).toMatch(/line \d+, column \d+/);
      await expectStillServing(gateway);
      await expectFixApplied(gateway);
    } finally {
      await gateway.stop();
    }
  });

  it('keeps the last good config in force after an edit with an invalid field, logs the field, and applies the fix', async () => {
    const gateway = await startGatewayFor([{ name: 'a', url: upstream.url, prefix: 'a_' }]);
    try {
      await expectStillServing(gateway);
      const offset = gateway.logs().length;

      await gateway.writeConfig(configYaml([{ name: 'a', url: 'not a url', prefix: 'broken_' }]), { atomic: true });

      const logged = await waitFor('the gateway to report the bad edit', () => {
        const since = logsSince(gateway, offset);
        return /invalid config edit/.test(since) ? since : undefined;
      });
      expect(logged).toMatch(/servers\[0\]\.url: must be an absolute http\(s\) URL/);
      await expectStillServing(gateway);
      await expectFixApplied(gateway);
    } finally {
      await gateway.stop();
    }
  });
});
