// Response rewriting through a real Envoy: the processor takes a routed call's response body
// (mode override) only when something in it must be rewritten: an SSE answer that may carry
// requests to the client (elicitation ids mapped to gateway ids, so the client's answer reaches
// the broker and then the upstream that asked), or a resources/read result whose URIs get the
// server's prefix back. Other answers never pass through the processor.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ElicitRequestSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoAndGreet, onSession, openSession, post, request } from '../gateway-http/helpers.ts';
import { connectSdkClient, type RunningEnvoy, type SdkUpstream } from '../harness/index.ts';
import { envoyStat, settledEnvoyStat, startExtProcStack, toolCalls, type ExtProcStack } from './extproc-stack.ts';

/** Messages Envoy sent the processor, over all streams. */
const EXT_PROC_MESSAGES = 'http.mcp.ext_proc.stream_msgs_sent';

const elicited: unknown[] = [];

function setup(server: McpServer): void {
  echoAndGreet(server);
  server.registerTool('ask', {}, async (extra) => {
    const answer = await server.server.elicitInput(
      {
        message: 'Which colour?',
        requestedSchema: { type: 'object', properties: { colour: { type: 'string' } }, required: ['colour'] },
      },
      { relatedRequestId: extra.requestId },
    );
    elicited.push(answer);
    return { content: [{ type: 'text', text: `colour: ${String(answer.content?.['colour'])}` }] };
  });
  server.registerResource('report', 'file:///reports/today.txt', { mimeType: 'text/plain' }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'all good' }],
  }));
}

describe('Envoy with the processor checking and rewriting routed answers', () => {
  let stack: ExtProcStack;
  let envoy: RunningEnvoy;
  let server1: SdkUpstream;

  beforeAll(async () => {
    stack = await startExtProcStack({ setup });
    ({ envoy } = stack);
    [server1] = stack.upstreams;
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('lets an upstream elicit during a call Envoy routed straight to it, and gives it the client’s answer', async () => {
    const { client, close } = await connectSdkClient(stack.mcpUrl, {
      version: 1,
      capabilities: { elicitation: { form: {} } },
    });
    const answer: ElicitResult = { action: 'accept', content: { colour: 'green' } };
    const asked: unknown[] = [];
    client.setRequestHandler(ElicitRequestSchema, (req) => {
      asked.push(req.params.message);
      return answer;
    });
    try {
      const result = await client.callTool({ name: 's1_ask', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'colour: green' }]);
      expect(asked).toEqual(['Which colour?']);
      expect(elicited.at(-1)).toEqual(answer);
      // The call went from Envoy straight to server1's virtual host, not through the broker.
      expect(toolCalls(server1).at(-1)?.headers.host).toBe('server1.mcp.local');
      // The upstream's own id never reached the client: its answer came back under that id.
      const delivered = server1.requests.filter((r) => r.method === undefined).at(-1);
      expect(delivered?.message).toMatchObject({ result: answer });
    } finally {
      await close();
    }
  });

  it('restores the prefix of the URIs in a routed resources/read result', async () => {
    const sessionId = await openSession(stack.mcpUrl);
    const reply = await post(
      stack.mcpUrl,
      request('resources/read', { uri: 'file://s1_/reports/today.txt' }),
      onSession(sessionId),
    );
    expect(reply.status).toBe(200);
    expect(reply.json?.result).toEqual({
      contents: [{ uri: 'file://s1_/reports/today.txt', mimeType: 'text/plain', text: 'all good' }],
    });
    const read = server1.requests.filter((r) => r.method === 'resources/read').at(-1);
    expect(read?.params).toMatchObject({ uri: 'file:///reports/today.txt' });
  });

  it('checks the body of an answer with nothing to rewrite in one more message', async () => {
    // A session whose client declared nothing the upstream could ask it.
    const sessionId = await openSession(stack.mcpUrl);
    const call = () =>
      post(stack.mcpUrl, request('tools/call', { name: 's1_echo', arguments: { text: 'x' } }), onSession(sessionId));
    expect((await call()).status).toBe(200); // opens the backend session
    const before = await settledEnvoyStat(envoy, EXT_PROC_MESSAGES);
    const reply = await call();
    expect(reply.json?.result).toEqual({ content: [{ type: 'text', text: 'echo: x' }] });
    // Request headers, request body, response headers, and the answer's body: an upstream is
    // trusted only to answer the call it was sent. Envoy streams one message per body chunk it
    // reads, and on a loaded machine the upstream's one SSE event can arrive in two reads: the
    // body is one message, or two, never a buffered or repeated exchange.
    const messages = (await settledEnvoyStat(envoy, EXT_PROC_MESSAGES)) - before;
    expect(messages).toBeGreaterThanOrEqual(4);
    expect(messages).toBeLessThanOrEqual(5);
  });

  it('ends its stream after the request body of a request the broker answers', async () => {
    const sessionId = await openSession(stack.mcpUrl);
    const before = await settledEnvoyStat(envoy, EXT_PROC_MESSAGES);
    for (let i = 0; i < 20; i++) {
      const reply = await post(stack.mcpUrl, request('tools/list'), onSession(sessionId));
      expect((reply.json?.result as { tools?: unknown[] } | undefined)?.tools?.length).toBeGreaterThan(0);
    }
    // Request headers and body, then the processor ends the stream; Envoy sends the response
    // headers only when the broker answers before that end reaches it (a race on this machine),
    // and then does not wait for an answer. Never more than three messages a request.
    expect(await envoyStat(envoy, EXT_PROC_MESSAGES)).toBeLessThanOrEqual(before + 3 * 20);
  });
});
