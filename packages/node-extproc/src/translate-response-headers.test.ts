import { describe, expect, it } from 'vitest';
import { translateResponseHeaders, type UpstreamRoute } from './translate-response-headers.ts';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const route: UpstreamRoute = {
  gatewaySessionId: 'gateway-token',
  jti: 'jti-1',
  server: 'ns/weather',
  backendSessionId: 'b-1',
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

describe('translateResponseHeaders', () => {
  it('maps the backend session id back to the gateway session id', async () => {
    const { deps, evicted } = recorder();
    const response = await translateResponseHeaders(
      new Map([
        [':status', '200'],
        ['mcp-session-id', 'b-1'],
      ]),
      route,
      deps,
    );
    if (!('response_headers' in response)) throw new Error('expected a response_headers answer');
    const set = response.response_headers.response?.header_mutation?.set_headers ?? [];
    expect(set.map((o) => [o.header.key, text(o.header.raw_value)])).toEqual([['mcp-session-id', 'gateway-token']]);
    expect(response.response_headers.response?.clear_route_cache).toBeUndefined();
    expect(evicted).toEqual([]);
  });

  it('evicts the backend session when the upstream answers 404', async () => {
    const { deps, evicted } = recorder();
    await translateResponseHeaders(new Map([[':status', '404']]), route, deps);
    expect(evicted).toEqual([['jti-1', 'ns/weather', 'b-1']]);
  });

  it('evicts nothing on a 404 from an upstream without sessions', async () => {
    const { deps, evicted } = recorder();
    await translateResponseHeaders(new Map([[':status', '404']]), { ...route, backendSessionId: '' }, deps);
    expect(evicted).toEqual([]);
  });

  it('leaves a broker answer unchanged', async () => {
    const { deps, evicted } = recorder();
    const response = await translateResponseHeaders(new Map([[':status', '404']]), undefined, deps);
    expect(response).toEqual({ response_headers: {} });
    expect(evicted).toEqual([]);
  });
});

describe('translateResponseHeaders body modes', () => {
  const ok = (type: string) =>
    new Map([
      [':status', '200'],
      ['content-type', type],
    ]);
  const mode = async (headers: Map<string, string>, extra: Partial<UpstreamRoute>) =>
    (await translateResponseHeaders(headers, { ...route, ...extra }, recorder().deps)).mode_override;

  it('streams an SSE answer through the processor when the client may be asked something', async () => {
    expect(await mode(ok('text/event-stream'), { relayServerRequests: true })).toEqual({
      response_body_mode: 'STREAMED',
    });
  });

  it('buffers a JSON answer only when its result must be rewritten', async () => {
    const rewriteResult = (result: Record<string, unknown>) => result;
    expect(await mode(ok('application/json'), { rewriteResult })).toEqual({ response_body_mode: 'BUFFERED' });
    expect(await mode(ok('application/json'), { relayServerRequests: true })).toBeUndefined();
  });

  it('leaves the body out of the processor when nothing in it must change', async () => {
    expect(await mode(ok('text/event-stream'), {})).toBeUndefined();
    expect(await mode(new Map([[':status', '404']]), { relayServerRequests: true })).toBeUndefined();
  });
});
