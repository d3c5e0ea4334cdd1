import { describe, expect, it } from 'vitest';
import type { ProcessingResponse } from './ext-proc-messages.ts';
import { createResponseBodyTranslator, type ResponseBodyDeps } from './translate-response-body.ts';
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

function bodyOf(response: ProcessingResponse): string | undefined {
  if (!('response_body' in response)) throw new Error('expected a response_body answer');
  const mutation = response.response_body.response?.body_mutation;
  return mutation === undefined ? undefined : text(mutation.body);
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
    expect(bodyOf(await translator.translate({ body: encode(ask), end_of_stream: false }))).toBe(
      sse({ jsonrpc: '2.0', id: 'gateway-id', method: 'elicitation/create', params: {} }),
    );
    expect(effects.relayed).toEqual([['b-1', 3]]);
    const result = sse({ jsonrpc: '2.0', id: 7, result: { uri: 'x' } });
    expect(bodyOf(await translator.translate({ body: encode(result), end_of_stream: true }))).toBe(
      sse({ jsonrpc: '2.0', id: 7, result: { uri: 'weather_x' } }),
    );
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
    const out = await translator.translate({
      body: encode(foreign.map(sse).join('') + sse(own)),
      end_of_stream: false,
    });
    expect(bodyOf(out)).toBe(sse(own));
    expect(effects.warnings).toHaveLength(3);
    expect(effects.warnings.join('\n')).not.toContain('stolen');
  });

  it('ends a stream that closes without the answer with a JSON-RPC error for the call', async () => {
    const translator = createResponseBodyTranslator(route, 'sse', deps());
    const out = bodyOf(
      await translator.translate({ body: encode(sse({ jsonrpc: '2.0', id: 8, result: {} })), end_of_stream: true }),
    );
    const message = JSON.parse((out ?? '').replace(/^event: message\ndata: /, '')) as Record<string, unknown>;
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
    const out = bodyOf(await translator.translate({ body: encode(answer + late), end_of_stream: true }));
    expect(out).toBe(sse({ jsonrpc: '2.0', id: 7, result: { uri: 'weather_undefined' } }));
  });

  it('holds a JSON answer to its end and sends the answer alone, rewritten', async () => {
    const translator = createResponseBodyTranslator(route, 'json', deps());
    const batch = '[{"jsonrpc":"2.0","id":8,"result":{}},{"jsonrpc":"2.0","id":7,"result":{"uri":"x"}}]';
    expect(bodyOf(await translator.translate({ body: encode(batch.slice(0, 5)), end_of_stream: false }))).toBe('');
    expect(bodyOf(await translator.translate({ body: encode(batch.slice(5)), end_of_stream: true }))).toBe(
      '{"jsonrpc":"2.0","id":7,"result":{"uri":"weather_x"}}',
    );
  });

  it('answers a JSON body without the answer with a JSON-RPC error for the call', async () => {
    const { rewriteResult: _unused, ...plain } = route;
    const translator = createResponseBodyTranslator(plain, 'json', deps());
    const out = bodyOf(
      await translator.translate({ body: encode('{"jsonrpc":"2.0","id":8,"result":{}}'), end_of_stream: true }),
    );
    expect(JSON.parse(out ?? '')).toMatchObject({ id: 7, error: { code: -32603 } });
  });

  it('answers a buffered JSON body in one message with its new content-length', async () => {
    const translator = createResponseBodyTranslator(route, 'json-buffered', deps());
    const response = await translator.translate({
      body: encode('{"jsonrpc":"2.0","id":7,"result":{"uri":"x"}}'),
      end_of_stream: true,
    });
    const expected = '{"jsonrpc":"2.0","id":7,"result":{"uri":"weather_x"}}';
    expect(bodyOf(response)).toBe(expected);
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
    expect(bodyOf(await translator.translate({ body: encode(body), end_of_stream: true }))).toBe(body);
  });
});
