import { describe, expect, it } from 'vitest';
import type { ProcessingResponse } from './ext-proc-messages.ts';
import { MAX_BUFFERED_ANSWER_BYTES, translateResponseHeaders } from './translate-response-headers.ts';
import type { UpstreamRoute } from './upstream-route.ts';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const route: UpstreamRoute = {
  gatewaySessionId: 'gateway-token',
  jti: 'jti-1',
  server: 'ns/weather',
  backendSessionId: 'b-1',
  requestId: 7,
  params: { name: 'forecast' },
};

function recorder() {
  const evicted: [string, string, string][] = [];
  return {
    evicted,
    deps: {
      evictBackendSession: async (jti: string, server: string, id: string) => {
        evicted.push([jti, server, id]);
      },
    },
  };
}

const answer = (entries: [string, string][], endOfStream = false) => ({ headers: new Map(entries), endOfStream });

function headersOf(response: ProcessingResponse) {
  if (!('response_headers' in response)) throw new Error('expected a response_headers answer');
  const mutation = response.response_headers.response?.header_mutation;
  return {
    set: mutation?.set_headers?.map((o) => [o.header.key, text(o.header.raw_value)]),
    remove: mutation?.remove_headers,
  };
}

describe('translateResponseHeaders', () => {
  it('maps the backend session id back to the gateway session id', async () => {
    const { deps, evicted } = recorder();
    const result = await translateResponseHeaders(
      answer([
        [':status', '200'],
        ['mcp-session-id', 'b-1'],
      ]),
      route,
      deps,
    );
    expect(headersOf(result.response).set).toEqual([['mcp-session-id', 'gateway-token']]);
    expect(evicted).toEqual([]);
  });

  it('evicts the backend session when the upstream answers 404', async () => {
    const { deps, evicted } = recorder();
    await translateResponseHeaders(answer([[':status', '404']]), route, deps);
    expect(evicted).toEqual([['jti-1', 'ns/weather', 'b-1']]);
  });

  it('evicts nothing on a 404 from an upstream without sessions', async () => {
    const { deps, evicted } = recorder();
    await translateResponseHeaders(answer([[':status', '404']]), { ...route, backendSessionId: '' }, deps);
    expect(evicted).toEqual([]);
  });

  it('leaves a broker answer unchanged', async () => {
    const { deps, evicted } = recorder();
    const result = await translateResponseHeaders(answer([[':status', '404']]), undefined, deps);
    expect(result).toEqual({ response: { response_headers: {} } });
    expect(evicted).toEqual([]);
  });
});

describe('translateResponseHeaders body modes', () => {
  const ok = (type: string, endOfStream = false) =>
    answer(
      [
        [':status', '200'],
        ['content-type', type],
        ['content-length', '42'],
      ],
      endOfStream,
    );
  const result = (headers: ReturnType<typeof answer>) => translateResponseHeaders(headers, route, recorder().deps);

  it('takes every successful answer through the processor, SSE as events and anything else as one JSON body', async () => {
    for (const [type, kind, mode] of [
      ['text/event-stream', 'sse', 'STREAMED'],
      ['Text/Event-Stream; charset=utf-8', 'sse', 'STREAMED'],
      ['application/json', 'json-buffered', 'BUFFERED'],
      ['text/plain; x=application/json', 'json-buffered', 'BUFFERED'],
    ] as const) {
      const got = await result(ok(type));
      expect(got.bodyKind, type).toBe(kind);
      expect(got.response.mode_override).toEqual({ response_body_mode: mode });
      // The checked body's length may change: the answer sets its own, or Envoy sends it chunked.
      expect(headersOf(got.response).remove).toEqual(['content-length']);
    }
  });

  it('streams a JSON answer of unknown or large length through the processor instead of Envoy buffering it', async () => {
    for (const length of [undefined, String(MAX_BUFFERED_ANSWER_BYTES + 1)]) {
      const entries: [string, string][] = [
        [':status', '200'],
        ['content-type', 'application/json'],
      ];
      if (length !== undefined) entries.push(['content-length', length]);
      const got = await result(answer(entries));
      expect(got.bodyKind).toBe('json');
      expect(got.response.mode_override).toEqual({ response_body_mode: 'STREAMED' });
    }
  });

  it('leaves out of the processor an answer without a body or that is not a success', async () => {
    expect((await result(ok('application/json', true))).bodyKind).toBeUndefined();
    const refused = await result(answer([[':status', '401']]));
    expect(refused.bodyKind).toBeUndefined();
    expect(refused.response.mode_override).toBeUndefined();
  });
});
