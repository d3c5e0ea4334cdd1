import { describe, expect, it } from 'vitest';
import type { ProcessingResponse } from './ext-proc-messages.ts';
import {
  createResponseBodyTranslator,
  type ResponseBodyDeps,
  type ResponseBodyTranslator,
} from './translate-response-body.ts';
import type { UpstreamRoute } from './upstream-route.ts';

const encode = (value: string) => new TextEncoder().encode(value);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const route: UpstreamRoute = {
  gatewaySessionId: 'gateway-token',
  jti: 'jti-1',
  server: 'ns/weather',
  backendSessionId: 'b-1',
  requestId: 7,
  params: { name: 'forecast', _meta: { progressToken: 'p' } },
  rewriteResult: (result) => ({ ...result, uri: `weather_${String(result['uri'])}` }),
};

/** The bytes Envoy sends on for `sent`: the answer's body mutation, else what it sent as it was. */
function bodyOf(response: ProcessingResponse, sent: string): string {
  if (!('response_body' in response)) throw new Error('expected a response_body answer');
  const mutation = response.response_body.response?.body_mutation;
  return mutation === undefined ? sent : text(mutation.body);
}

/** Sends one chunk through the translator; the text Envoy sends on in its place. */
async function sendOn(translator: ResponseBodyTranslator, body: string, endOfStream: boolean): Promise<string> {
  return bodyOf(await translator.translate({ body: encode(body), end_of_stream: endOfStream }), body);
}

function deps(): ResponseBodyDeps & { relayed: [string, unknown][]; warnings: string[] } {
  const relayed: [string, unknown][] = [];
  const warnings: string[] = [];
  return {
    relayed,
    warnings,
    relayServerRequest: async (r, message) => {
      relayed.push([r.backendSessionId, message['id']]);
      return { ...message, id: 'gateway-id' };
    },
    logger: {
      debug: () => {},
      info: () => {},
      warn: (message, fields) => void warnings.push(`${message} ${JSON.stringify(fields)}`),
      error: () => {},
      child() {
        return this;
      },
    },
  };
}

const sse = (message: unknown) => `data: ${JSON.stringify(message)}\n\n`;

describe('createResponseBodyTranslator', () => {
  it('gives a server request in a streamed answer the gateway id the store remembers, and rewrites the result', async () => {
    const effects = deps();
    const translator = createResponseBodyTranslator(route, 'sse', effects);
    const ask = sse({ jsonrpc: '2.0', id: 3, method: 'elicitation/create', params: {} });
    expect(await sendOn(translator, ask, false)).toBe(
      sse({ jsonrpc: '2.0', id: 'gateway-id', method: 'elicitation/create', params: {} }),
    );
    expect(effects.relayed).toEqual([['b-1', 3]]);
    const result = sse({ jsonrpc: '2.0', id: 7, result: { uri: 'x' } });
    expect(await sendOn(translator, result, true)).toBe(sse({ jsonrpc: '2.0', id: 7, result: { uri: 'weather_x' } }));
  });

  it("drops and logs what does not belong to the call: another id, another call's progress, list changes", async () => {
    const effects = deps();
    const translator = createResponseBodyTranslator(route, 'sse', effects);
    const foreign = [
      { jsonrpc: '2.0', id: 8, result: { stolen: true } },
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'q', progress: 1 } },
      { jsonrpc: '2.0', method: 'notifications/tools/list_changed' },
    ];
    const own = { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'p', progress: 1 } };
    const out = await sendOn(translator, foreign.map(sse).join('') + sse(own), false);
    expect(out).toBe(sse(own));
    expect(effects.warnings).toHaveLength(3);
    expect(effects.warnings.join('\n')).not.toContain('stolen');
  });

  it('ends a stream that closes without the answer with a JSON-RPC error for the call', async () => {
    const translator = createResponseBodyTranslator(route, 'sse', deps());
    const out = await sendOn(translator, sse({ jsonrpc: '2.0', id: 8, result: {} }), true);
    const message = JSON.parse(out.replace(/^event: message\ndata: /, '')) as Record<string, unknown>;
    expect(message).toMatchObject({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32603, message: expect.stringContaining('ns/weather') },
    });
  });

  it('sends nothing of the upstream stream after the answer', async () => {
    const translator = createResponseBodyTranslator(route, 'sse', deps());
    const answer = sse({ jsonrpc: '2.0', id: 7, result: {} });
    const late = sse({ jsonrpc: '2.0', method: 'notifications/message', params: {} });
    const out = await sendOn(translator, answer + late, true);
    expect(out).toBe(sse({ jsonrpc: '2.0', id: 7, result: { uri: 'weather_undefined' } }));
  });

  it('holds a JSON answer to its end and sends the answer alone, rewritten', async () => {
    const translator = createResponseBodyTranslator(route, 'json', deps());
    const batch = '[{"jsonrpc":"2.0","id":8,"result":{}},{"jsonrpc":"2.0","id":7,"result":{"uri":"x"}}]';
    expect(await sendOn(translator, batch.slice(0, 5), false)).toBe('');
    expect(await sendOn(translator, batch.slice(5), true)).toBe(
      '{"jsonrpc":"2.0","id":7,"result":{"uri":"weather_x"}}',
    );
  });

  it('answers a JSON body without the answer with a JSON-RPC error for the call', async () => {
    const { rewriteResult: _unused, ...plain } = route;
    const translator = createResponseBodyTranslator(plain, 'json', deps());
    const out = await sendOn(translator, '{"jsonrpc":"2.0","id":8,"result":{}}', true);
    expect(JSON.parse(out)).toMatchObject({ id: 7, error: { code: -32603 } });
  });

  it('answers a buffered JSON body in one message with its new content-length', async () => {
    const translator = createResponseBodyTranslator(route, 'json-buffered', deps());
    const body = '{"jsonrpc":"2.0","id":7,"result":{"uri":"x"}}';
    const response = await translator.translate({ body: encode(body), end_of_stream: true });
    const expected = '{"jsonrpc":"2.0","id":7,"result":{"uri":"weather_x"}}';
    expect(bodyOf(response, body)).toBe(expected);
    if (!('response_body' in response)) throw new Error('expected a response_body answer');
    const set = response.response_body.response?.header_mutation?.set_headers ?? [];
    expect(set.map((o) => [o.header.key, text(o.header.raw_value)])).toEqual([
      ['content-length', String(expected.length)],
    ]);
  });

  it('passes a JSON answer byte for byte when nothing in it changes', async () => {
    const { rewriteResult: _unused, ...plain } = route;
    const translator = createResponseBodyTranslator(plain, 'json', deps());
    const body = '{"result":{"content":[]},"jsonrpc":"2.0","id":7}';
    expect(await sendOn(translator, body, true)).toBe(body);
  });

  it('lets whole SSE events that need nothing go on without a body mutation', async () => {
    const { rewriteResult: _unused, ...plain } = route;
    const translator = createResponseBodyTranslator(plain, 'sse', deps());
    const progress = sse({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'p' } });
    const first = await translator.translate({ body: encode(progress), end_of_stream: false });
    expect(first).toEqual({ response_body: {} });
    const answer = sse({ jsonrpc: '2.0', id: 7, result: { content: [] } });
    const last = await translator.translate({ body: encode(answer), end_of_stream: true });
    expect(last).toEqual({ response_body: {} });
  });

  it('sends an event split across chunks once it is whole, and the next chunk as it came', async () => {
    const { rewriteResult: _unused, ...plain } = route;
    const translator = createResponseBodyTranslator(plain, 'sse', deps());
    // A two-byte character cut between the chunks, right after the first event's end.
    const progress = sse({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'p' } });
    const answer = sse({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'é' }] } });
    const bytes = encode(`${progress}${answer}`);
    const cut = encode(progress).byteLength + answer.indexOf('é') + 1;
    const sent: string[] = [];
    for (const [body, end] of [
      [bytes.slice(0, cut), false],
      [bytes.slice(cut), true],
    ] as const) {
      const response = await translator.translate({ body, end_of_stream: end });
      if (!('response_body' in response)) throw new Error('expected a response_body answer');
      const mutation = response.response_body.response?.body_mutation;
      sent.push(mutation === undefined ? text(body) : text(mutation.body));
    }
    expect(sent).toEqual([progress, answer]);
  });

  it('keeps a buffered JSON answer that needs nothing as Envoy holds it, with its length', async () => {
    const { rewriteResult: _unused, ...plain } = route;
    const translator = createResponseBodyTranslator(plain, 'json-buffered', deps());
    const body = '{"jsonrpc":"2.0","id":7,"result":{"n":1.0}}';
    const response = await translator.translate({ body: encode(body), end_of_stream: true });
    if (!('response_body' in response)) throw new Error('expected a response_body answer');
    expect(response.response_body.response?.body_mutation).toBeUndefined();
    const set = response.response_body.response?.header_mutation?.set_headers ?? [];
    expect(set.map((o) => [o.header.key, text(o.header.raw_value)])).toEqual([['content-length', String(body.length)]]);
  });
});
