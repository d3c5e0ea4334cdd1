import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { connectSdkClient, startSdkUpstream, type RunningGateway, type SdkUpstream } from '../harness/index.ts';
import { requestsOf, startGatewayFor, waitForTools } from './helpers.ts';

/** The same names on both upstreams, so only the prefix tells where a call must go. */
function routedSetup(label: string, completions: readonly string[]) {
  return (server: McpServer) => {
    server.registerTool(
      'echo',
      { inputSchema: { text: z.string(), nested: z.unknown(), numbers: z.array(z.number()) } },
      (args) => ({ content: [{ type: 'text', text: `${label}:${JSON.stringify(args)}` }] }),
    );
    server.registerPrompt(
      'greet',
      {
        argsSchema: {
          name: z.string(),
          language: completable(z.string(), (value) => completions.filter((option) => option.startsWith(value))),
        },
      },
      ({ name, language }) => ({
        messages: [{ role: 'user', content: { type: 'text', text: `${label} greets ${name} in ${language}` } }],
      }),
    );
    server.registerResource('readme', 'docs://readme', {}, (uri) => ({
      contents: [{ uri: uri.href, text: `${label} readme` }],
    }));
    server.registerResource(
      'note',
      new ResourceTemplate('note://notes/{id}', { list: undefined }),
      {},
      (uri, { id }) => ({ contents: [{ uri: uri.href, text: `${label} note ${String(id)}` }] }),
    );
  };
}

describe('routing of calls to the owning upstream', () => {
  let upstreamA: SdkUpstream;
  let upstreamB: SdkUpstream;
  let gateway: RunningGateway;

  beforeAll(async () => {
    upstreamA = await startSdkUpstream({ name: 'a', setup: routedSetup('A', ['typescript', 'tcl', 'rust']) });
    upstreamB = await startSdkUpstream({ name: 'b', setup: routedSetup('B', ['bash', 'basic', 'go']) });
    gateway = await startGatewayFor([
      { name: 'server-a', url: upstreamA.url, prefix: 'a_' },
      { name: 'server-b', url: upstreamB.url, prefix: 'b_' },
    ]);
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstreamA?.stop();
    await upstreamB?.stop();
  });

  for (const version of [1, 2] as const) {
    it(`passes a ${version}.x client's tool call to its upstream under the upstream's name with the arguments untouched`, async () => {
      const connected =
        version === 1
          ? await connectSdkClient(gateway.url, { version: 1 })
          : await connectSdkClient(gateway.url, { version: 2 });
      const marker = `call-from-${version}.x`;
      const args = {
        text: `héllo — 世界 🌍 ${marker}`,
        nested: { deep: { list: [1, 'two', { three: null }], flag: false }, 'key with spaces': '\u0000\u001f"\\' },
        numbers: [0, -1, 0.1, 1e21, -2.5e-7, 9007199254740991],
      };
      try {
        await waitForTools(connected.client, ['a_echo', 'b_echo']);
        const bCallsBefore = requestsOf(upstreamB.requests, 'tools/call').length;
        const result = await connected.client.callTool({ name: 'a_echo', arguments: args });

        expect(result.content).toEqual([{ type: 'text', text: `A:${JSON.stringify(args)}` }]);
        const call = requestsOf(upstreamA.requests, 'tools/call').find((request) =>
          JSON.stringify(request.params).includes(marker),
        );
        const params = call?.params as { name: string; arguments: unknown };
        expect(params.name).toBe('echo');
        expect(JSON.stringify(params.arguments)).toBe(JSON.stringify(args));
        expect(requestsOf(upstreamB.requests, 'tools/call')).toHaveLength(bCallsBefore);
      } finally {
        await connected.close();
      }
    });
  }

  it('routes prompts/get to the prompt owner under its upstream name', async () => {
    const { client, close } = await connectSdkClient(gateway.url, { version: 1 });
    try {
      await waitForTools(client, ['a_echo', 'b_echo']);
      const result = await client.getPrompt({ name: 'b_greet', arguments: { name: 'Ada', language: 'go' } });

      expect(result.messages).toEqual([{ role: 'user', content: { type: 'text', text: 'B greets Ada in go' } }]);
      const received = requestsOf(upstreamB.requests, 'prompts/get').at(-1);
      expect(received?.params).toEqual({ name: 'greet', arguments: { name: 'Ada', language: 'go' } });
      expect(requestsOf(upstreamA.requests, 'prompts/get')).toHaveLength(0);
    } finally {
      await close();
    }
  });

  it("reads a listed resource from its owner and returns it under the gateway's URI", async () => {
    const { client, close } = await connectSdkClient(gateway.url, { version: 1 });
    try {
      await waitForTools(client, ['a_echo', 'b_echo']);
      const result = await client.readResource({ uri: 'docs://a_readme' });

      expect(result.contents).toEqual([{ uri: 'docs://a_readme', text: 'A readme' }]);
      expect(requestsOf(upstreamA.requests, 'resources/read').at(-1)?.params).toEqual({ uri: 'docs://readme' });
    } finally {
      await close();
    }
  });

  it("reads a URI of a resource template from its owner and returns it under the gateway's URI", async () => {
    const { client, close } = await connectSdkClient(gateway.url, { version: 2 });
    try {
      await waitForTools(client, ['a_echo', 'b_echo']);
      const result = await client.readResource({ uri: 'note://b_notes/42' });

      expect(result.contents).toEqual([{ uri: 'note://b_notes/42', text: 'B note 42' }]);
      expect(requestsOf(upstreamB.requests, 'resources/read').at(-1)?.params).toEqual({ uri: 'note://notes/42' });
      expect(requestsOf(upstreamA.requests, 'resources/read').map((request) => request.params)).not.toContainEqual({
        uri: 'note://notes/42',
      });
    } finally {
      await close();
    }
  });

  it("completes a prompt argument with the values of the prompt's own upstream", async () => {
    const { client, close } = await connectSdkClient(gateway.url, { version: 1 });
    try {
      await waitForTools(client, ['a_echo', 'b_echo']);
      const fromA = await client.complete({
        ref: { type: 'ref/prompt', name: 'a_greet' },
        argument: { name: 'language', value: 't' },
      });
      const fromB = await client.complete({
        ref: { type: 'ref/prompt', name: 'b_greet' },
        argument: { name: 'language', value: 'ba' },
      });

      expect(fromA.completion.values).toEqual(['typescript', 'tcl']);
      expect(fromB.completion.values).toEqual(['bash', 'basic']);
      expect(requestsOf(upstreamA.requests, 'completion/complete').map((request) => request.params)).toEqual([
        { ref: { type: 'ref/prompt', name: 'greet' }, argument: { name: 'language', value: 't' } },
      ]);
      expect(requestsOf(upstreamB.requests, 'completion/complete').map((request) => request.params)).toEqual([
        { ref: { type: 'ref/prompt', name: 'greet' }, argument: { name: 'language', value: 'ba' } },
      ]);
    } finally {
      await close();
    }
  });
});
