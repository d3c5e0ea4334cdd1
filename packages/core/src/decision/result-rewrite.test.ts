import { describe, expect, it } from 'vitest';
import { fakeServer } from '../catalog/catalog.fixtures.ts';
import { jsonCallAnswer } from '../calls/call-answer.ts';
import { NOOP_LOGGER } from '../logger.ts';
import { createCallScope } from '../relay/call-scope.ts';
import { resultRewriteFor } from './result-rewrite.ts';

describe('resultRewriteFor', () => {
  it('needs no rewrite without a prefix, or for a method whose result names no resource', () => {
    expect(resultRewriteFor('tools/call', '')).toBeUndefined();
    expect(resultRewriteFor('completion/complete', 'w_')).toBeUndefined();
  });

  it('prefixes resource links, embedded resources and the MCP Apps resourceUri of a tool result', () => {
    const rewrite = resultRewriteFor('tools/call', 'w_')!;
    const result = rewrite({
      content: [
        { type: 'text', text: 'hi' },
        { type: 'resource_link', uri: 'test://a', name: 'a' },
        { type: 'resource', resource: { uri: 'file:///b', text: 'b' } },
      ],
      _meta: { ui: { resourceUri: 'ui://panel' } },
    });
    expect(result).toEqual({
      content: [
        { type: 'text', text: 'hi' },
        { type: 'resource_link', uri: 'test://w_a', name: 'a' },
        { type: 'resource', resource: { uri: 'file://w_/b', text: 'b' } },
      ],
      _meta: { ui: { resourceUri: 'ui://w_panel' } },
    });
  });

  it('returns the very same result when nothing in it names a resource', () => {
    const tool = { content: [{ type: 'text', text: 'hi' }], structuredContent: { n: 1 } };
    expect(resultRewriteFor('tools/call', 'w_')!(tool)).toBe(tool);
    const prompt = { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }] };
    expect(resultRewriteFor('prompts/get', 'w_')!(prompt)).toBe(prompt);
    const read = { contents: [{ text: 'no uri' }] };
    expect(resultRewriteFor('resources/read', 'w_')!(read)).toBe(read);
  });

  it('leaves the items it does not change as they were', () => {
    const text = { type: 'text', text: 'hi' };
    const result = resultRewriteFor('prompts/get', 'w_')!({
      messages: [
        { role: 'user', content: text },
        { role: 'user', content: { type: 'resource_link', uri: 'test://a', name: 'a' } },
      ],
    });
    const messages = result['messages'] as { content: unknown }[];
    expect(messages[0]!.content).toBe(text);
    expect(messages[1]!.content).toEqual({ type: 'resource_link', uri: 'test://w_a', name: 'a' });
  });
});

describe('jsonCallAnswer', () => {
  const server = fakeServer('weather', 'w_');
  const answer = (body: string) =>
    jsonCallAnswer(
      new Response(body, { headers: { 'content-type': 'application/json' } }),
      createCallScope({ requestId: 7, params: {} }),
      server,
      7,
      resultRewriteFor('tools/call', 'w_'),
      NOOP_LOGGER,
    );

  it("passes the upstream's bytes through when the rewrite changes nothing", async () => {
    const body = '{"jsonrpc":"2.0","id":7,"result":{"content":[],"structuredContent":{"t":20.0}}}';
    expect(await (await answer(body)).text()).toBe(body);
  });

  it('serialises the rewritten answer when a link was prefixed', async () => {
    const body = '{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"resource_link","uri":"test://a","name":"a"}]}}';
    expect(JSON.parse(await (await answer(body)).text())).toEqual({
      jsonrpc: '2.0',
      id: 7,
      result: { content: [{ type: 'resource_link', uri: 'test://w_a', name: 'a' }] },
    });
  });

  it('answers with an error when the declared body is larger than an answer may be', async () => {
    const response = await jsonCallAnswer(
      new Response('{}', { headers: { 'content-length': String(64 * 1024 * 1024) } }),
      createCallScope({ requestId: 7, params: {} }),
      server,
      7,
      undefined,
      NOOP_LOGGER,
    );
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/larger than/);
  });
});
