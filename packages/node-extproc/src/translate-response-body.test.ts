import { describe, expect, it } from 'vitest';
import type { ProcessingResponse } from './ext-proc-messages.ts';
import { createResponseBodyTranslator } from './translate-response-body.ts';
import type { UpstreamRoute } from './translate-response-headers.ts';

const encode = (value: string) => new TextEncoder().encode(value);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const route: UpstreamRoute = {
  gatewaySessionId: 'gateway-token',
  jti: 'jti-1',
  server: 'ns/weather',
  backendSessionId: 'b-1',
  requestId: 7,
  relayServerRequests: true,
  rewriteResult: (result) => ({ ...result, uri: `weather_${String(result['uri'])}` }),
};

function bodyOf(response: ProcessingResponse) {
  if (!('response_body' in response)) throw new Error('expected a response_body answer');
  const common = response.response_body.response;
  return {
    body: common?.body_mutation === undefined ? undefined : text(common.body_mutation.body),
    set: common?.header_mutation?.set_headers?.map((o) => [o.header.key, text(o.header.raw_value)]),
  };
}

describe('createResponseBodyTranslator', () => {
  it('gives a server request in a streamed answer the gateway id the store remembers', async () => {
    const relayed: [string, unknown][] = [];
    const translator = createResponseBodyTranslator(route, 'STREAMED', {
      relayServerRequest: async (r, message) => {
        relayed.push([r.backendSessionId, message['id']]);
        return { ...message, id: 'gateway-id' };
      },
    });
    const ask = 'data: {"jsonrpc":"2.0","id":3,"method":"elicitation/create","params":{}}\n\n';
    const answer = bodyOf(await translator.translate({ body: encode(ask), end_of_stream: false }));
    expect(answer.body).toBe('data: {"jsonrpc":"2.0","id":"gateway-id","method":"elicitation/create","params":{}}\n\n');
    expect(relayed).toEqual([['b-1', 3]]);
    const result = 'data: {"jsonrpc":"2.0","id":7,"result":{"uri":"x"}}\n\n';
    expect(bodyOf(await translator.translate({ body: encode(result), end_of_stream: true })).body).toBe(
      'data: {"jsonrpc":"2.0","id":7,"result":{"uri":"weather_x"}}\n\n',
    );
  });

  it('rewrites a buffered JSON result and sets its new content-length', async () => {
    const translator = createResponseBodyTranslator(route, 'BUFFERED', {
      relayServerRequest: async (_r, message) => message,
    });
    const answer = bodyOf(
      await translator.translate({
        body: encode('{"jsonrpc":"2.0","id":7,"result":{"uri":"x"}}'),
        end_of_stream: true,
      }),
    );
    expect(answer.body).toBe('{"jsonrpc":"2.0","id":7,"result":{"uri":"weather_x"}}');
    expect(answer.set).toEqual([['content-length', String(answer.body?.length)]]);
  });
});
