import { createMeasuredSessionStore, GatewayError, NOOP_LOGGER } from '@mcp-gateway/core';
import { NO_METRICS, type QuotaCheck } from '@mcp-gateway/core/router';
import { createCallerIdentities, createSessionGate, prefixUri } from '@mcp-gateway/core/testing';
import { describe, expect, it } from 'vitest';
import {
  call,
  claims,
  clientHeaders,
  deps,
  encode,
  readable,
  session,
  store,
  tokens,
  translate,
  weather,
} from './translate-request-body.fixtures.ts';
import { BROKER_SERVER_NAME } from './translate-request-headers.ts';

/** The JSON-RPC error of an immediate answer's body. */
const rpcError = (view: ReturnType<typeof readable>) =>
  JSON.parse(view.immediate?.body ?? '{}') as Record<string, unknown>;

describe('translateRequestBody', () => {
  it('routes a tools/call for a served tool to its upstream with the prefix stripped', async () => {
    const { deps: d, ensured } = deps();
    const body = call('tools/call', { name: 'weather_forecast', arguments: { city: 'Oslo' } });
    const result = await translate({ body, end_of_stream: true }, clientHeaders, d);
    const newBody = {
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'forecast', arguments: { city: 'Oslo' } },
    };
    expect(readable(result.response)).toEqual({
      set: [
        [':authority', 'weather.mcp.local'],
        [':path', '/v1/mcp'],
        ['content-length', String(JSON.stringify(newBody).length)],
        ['x-mcp-method', 'tools/call'],
        ['x-mcp-servername', 'ns/weather'],
        ['x-mcp-toolname', 'forecast'],
        ['mcp-session-id', 'backend-1'],
      ],
      remove: ['x-mcp-authorized', 'x-mcp-virtualserver'],
      body: newBody,
      clearRouteCache: true,
      metadata: {
        fields: {
          'mcp-gateway': {
            structValue: {
              fields: {
                method: { stringValue: 'tools/call' },
                server: { stringValue: 'ns/weather' },
                tool: { stringValue: 'forecast' },
                session: { stringValue: claims.jti },
              },
            },
          },
        },
      },
    });
    expect(result.route).toEqual({
      gatewaySessionId: session.token,
      jti: claims.jti,
      server: 'ns/weather',
      backendSessionId: 'backend-1',
      requestId: 7,
      params: newBody.params,
      // Links in the result get the prefix, as in the broker.
      rewriteResult: expect.any(Function),
      // The call's audit record, written when the exchange ends, and what its metrics count.
      trail: expect.objectContaining({ finish: expect.any(Function) }),
      call: { method: 'tools/call', kind: 'tool', name: 'weather_forecast', startedAt: expect.any(Number) },
    });
    expect(ensured).toEqual([[claims.jti, 'ns/weather', 'Bearer user']]);
  });

  it('routes prompts/get with x-mcp-promptname', async () => {
    const result = await translate(
      { body: call('prompts/get', { name: 'weather_summary' }) },
      clientHeaders,
      deps().deps,
    );
    const view = readable(result.response);
    expect(view.set).toContainEqual(['x-mcp-promptname', 'summary']);
    expect(view.body).toMatchObject({ params: { name: 'summary' } });
    expect(view.metadata?.fields['mcp-gateway']).toMatchObject({
      structValue: { fields: { prompt: { stringValue: 'summary' } } },
    });
  });

  it('routes resources/read with x-mcp-resourceuri and the upstream’s own URI', async () => {
    const served = prefixUri('weather_', 'file:///today.txt');
    const result = await translate({ body: call('resources/read', { uri: served }) }, clientHeaders, deps().deps);
    const view = readable(result.response);
    expect(view.set).toContainEqual(['x-mcp-resourceuri', 'file:///today.txt']);
    expect(view.body).toMatchObject({ params: { uri: 'file:///today.txt' } });
  });

  it('removes mcp-session-id for an upstream without sessions', async () => {
    const result = await translate({ body: call('tools/call', { name: 'plain_echo' }) }, clientHeaders, deps().deps);
    const view = readable(result.response);
    expect(view.remove).toEqual(['x-mcp-authorized', 'x-mcp-virtualserver', 'mcp-session-id']);
    expect(view.set?.map(([key]) => key)).not.toContain('mcp-session-id');
    expect(result.route?.backendSessionId).toBe('');
  });

  it('sends an unknown tool to the broker, which answers -32602', async () => {
    const { deps: d, ensured } = deps();
    const result = await translate({ body: call('tools/call', { name: 'nope' }) }, clientHeaders, d);
    expect(readable(result.response)).toEqual({
      set: [
        ['x-mcp-method', 'tools/call'],
        ['x-mcp-servername', 'mcpBroker'],
      ],
      remove: undefined,
      body: undefined,
      clearRouteCache: true,
      metadata: {
        fields: {
          'mcp-gateway': {
            structValue: { fields: { method: { stringValue: 'tools/call' }, server: { stringValue: 'mcpBroker' } } },
          },
        },
      },
    });
    expect(result.route).toBeUndefined();
    expect(ensured).toEqual([]);
  });

  it('sends initialize and list requests to the broker', async () => {
    for (const method of ['initialize', 'tools/list', 'ping']) {
      const result = await translate({ body: call(method, {}) }, new Map(), deps().deps);
      expect(readable(result.response).set).toEqual([
        ['x-mcp-method', method],
        ['x-mcp-servername', 'mcpBroker'],
      ]);
    }
  });

  it('sends notifications and responses to the broker without x-mcp-method', async () => {
    const notification = encode({ jsonrpc: '2.0', method: 'notifications/initialized' });
    const response = encode({ jsonrpc: '2.0', id: 1, result: {} });
    for (const body of [notification, response]) {
      const result = await translate({ body }, clientHeaders, deps().deps);
      expect(readable(result.response).set).toEqual([['x-mcp-servername', 'mcpBroker']]);
    }
  });

  it('routes completion/complete and resources/subscribe like the broker forwards them', async () => {
    const complete = await translate(
      { body: call('completion/complete', { ref: { type: 'ref/prompt', name: 'weather_summary' } }) },
      clientHeaders,
      deps().deps,
    );
    expect(readable(complete.response).body).toMatchObject({ params: { ref: { name: 'summary' } } });
    const subscribe = await translate(
      { body: call('resources/subscribe', { uri: prefixUri('weather_', 'file:///today.txt') }) },
      clientHeaders,
      deps().deps,
    );
    expect(readable(subscribe.response).set).toContainEqual(['x-mcp-resourceuri', 'file:///today.txt']);
  });

  it('answers JSON nested deeper than the limit with 400 naming the limit', async () => {
    const deep = encode(
      `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}}`,
    );
    const result = await translate({ body: deep }, clientHeaders, deps({ maxBodyBytes: 100_000 }).deps);
    expect(readable(result.response).immediate).toMatchObject({
      status: 400,
      body: expect.stringContaining('128 levels'),
    });
  });

  it('answers malformed JSON with 400 and a plain-text reason', async () => {
    const result = await translate({ body: encode('{"jsonrpc":') }, clientHeaders, deps().deps);
    const view = readable(result.response);
    expect(view.immediate?.status).toBe(400);
    expect(view.immediate?.body).toMatch(/^Parse error: request body is not valid JSON/);
    expect(view.immediate?.headers).toEqual([['content-type', 'text/plain; charset=utf-8']]);
  });

  it('answers a body over the limit with 413', async () => {
    const body = call('tools/call', { name: 'weather_forecast', arguments: { text: 'x'.repeat(2000) } });
    const result = await translate({ body }, clientHeaders, deps().deps);
    expect(readable(result.response).immediate).toMatchObject({
      status: 413,
      body: 'Request body too large (limit 1024 bytes)',
    });
  });

  it('answers a call without a session with 400', async () => {
    const result = await translate({ body: call('tools/call', { name: 'weather_forecast' }) }, new Map(), deps().deps);
    const view = readable(result.response);
    expect(view.immediate?.status).toBe(400);
    expect(rpcError(view)).toMatchObject({
      error: { code: -32600, message: expect.stringContaining('Mcp-Session-Id') },
    });
  });

  it('answers a call on an unknown or forged session with 404, as the broker does', async () => {
    const { deps: d, ensured } = deps();
    const other = await (
      await import('@mcp-gateway/core/testing')
    )
      .createSessionTokens({ key: 'another-gateway-key-0123456789abcdef' })
      .issue({ protocolVersion: '2025-11-25', clientCapabilities: {} });
    for (const token of ['forged', other.token, session.token.slice(0, -2)]) {
      const headers = new Map([
        ['mcp-session-id', token],
        ['authorization', 'Bearer user'],
      ]);
      const result = await translate({ body: call('tools/call', { name: 'weather_forecast' }) }, headers, d);
      const view = readable(result.response);
      expect(view.immediate?.status).toBe(404);
      expect(rpcError(view)).toMatchObject({
        error: { code: -32001, message: expect.stringMatching(/Session not found/) },
      });
      expect(view.set).toBeUndefined();
    }
    expect(ensured).toEqual([]);
  });

  it.each([
    ["another caller's token", 'Bearer ATTACKER'],
    ['no Authorization', undefined],
    ['Basic credentials', 'Basic dXNlcjpwdw=='],
  ])(
    'refuses a session presented with %s, routing nothing and opening no backend session',
    async (_label, authorization) => {
      const { deps: d, ensured } = deps();
      const headers = new Map([['mcp-session-id', session.token]]);
      if (authorization !== undefined) headers.set('authorization', authorization);
      for (const body of [
        call('tools/call', { name: 'weather_forecast' }),
        call('prompts/get', { name: 'weather_summary' }),
        call('resources/read', { uri: prefixUri('weather_', 'file:///today.txt') }),
      ]) {
        const view = readable((await translate({ body }, headers, d)).response);
        expect(view.immediate?.status).toBe(404);
        expect(view.set).toBeUndefined();
      }
      expect(ensured).toEqual([]);
    },
  );

  it('refuses a session that ended (DELETE on any replica) with 404', async () => {
    const ended = await tokens.issue({ protocolVersion: '2025-11-25', clientCapabilities: {} });
    await store.terminate(ended.claims.jti, 60);
    const { deps: d, ensured } = deps();
    const headers = new Map([['mcp-session-id', ended.token]]);
    const view = readable(
      (await translate({ body: call('tools/call', { name: 'weather_forecast' }) }, headers, d)).response,
    );
    expect(view.immediate?.status).toBe(404);
    expect(ensured).toEqual([]);
  });

  it('reuses the backend session the store already holds for the session and server', async () => {
    await store.ensureBackendSession(claims.jti, weather.name, 60, async () => 'held-backend');
    const result = await translate(
      { body: call('tools/call', { name: 'weather_forecast' }) },
      clientHeaders,
      deps().deps,
    );
    expect(readable(result.response).set).toContainEqual(['mcp-session-id', 'held-backend']);
    await store.dropBackendSession(claims.jti, weather.name, 'held-backend');
  });

  it('answers with the upstream error when the backend session cannot be opened', async () => {
    const { deps: d } = deps({
      ensureBackendSession: async () => {
        throw new GatewayError('UPSTREAM_UNAVAILABLE', 'could not open a session on upstream ns/weather');
      },
    });
    const result = await translate({ body: call('tools/call', { name: 'weather_forecast' }) }, clientHeaders, d);
    const view = readable(result.response);
    expect(view.immediate?.status).toBe(502);
    expect(rpcError(view)).toMatchObject({
      id: 7,
      error: { message: 'could not open a session on upstream ns/weather' },
    });
  });

  it('hides unexpected failures behind "Internal error"', async () => {
    const { deps: d } = deps({
      ensureBackendSession: async () => {
        throw new Error('socket hang up at 10.0.0.1');
      },
    });
    const result = await translate({ body: call('tools/call', { name: 'weather_forecast' }) }, clientHeaders, d);
    const view = readable(result.response);
    expect(view.immediate?.status).toBe(500);
    expect(rpcError(view)).toMatchObject({ error: { message: expect.stringMatching(/^Internal error \(reference /) } });
    expect(view.immediate?.body).not.toContain('10.0.0.1');
  });
});

describe('translateRequestBody, a legacy call under a quota', () => {
  /** The gate over the fixtures' store, whose operations are recorded by name. */
  function quotaDeps() {
    const operations: string[] = [];
    const measured = createMeasuredSessionStore(store, {
      ...NO_METRICS,
      storeOperation: (operation) => operations.push(operation),
    });
    const gate = createSessionGate({ tokens, store: measured, callers: createCallerIdentities(), logger: NOOP_LOGGER });
    // One call at a time, in a bucket of its own per test.
    const check: QuotaCheck = {
      key: `ns/weather|*|${crypto.randomUUID()}`,
      limits: { concurrent: { limit: 1, leaseSeconds: 30 } },
      quota: { windowSeconds: 60, concurrentCalls: 1 },
      server: 'ns/weather',
      bucket: '*',
    };
    return { ...deps({ gate, quotaCheck: () => check }), operations };
  }
  const forecast = () => call('tools/call', { name: 'weather_forecast' });

  it('routes a warm call after one store operation: its session read with its admission', async () => {
    await store.ensureBackendSession(claims.jti, weather.name, 60, async () => 'held-backend');
    try {
      const { deps: d, operations } = quotaDeps();
      const result = await translate({ body: forecast() }, clientHeaders, d);

      expect(readable(result.response).set).toContainEqual(['mcp-session-id', 'held-backend']);
      expect(operations).toEqual(['admitSessionCall']);
      expect(result.route?.release).toEqual(expect.any(Function));
    } finally {
      await store.dropBackendSession(claims.jti, weather.name, 'held-backend');
    }
  });

  it('refuses a call on an ended session with 404, routes nothing and gives its slot back', async () => {
    const ended = await tokens.issue({ protocolVersion: '2025-11-25', clientCapabilities: {} });
    await store.terminate(ended.claims.jti, 60);
    const { deps: d, ensured, operations } = quotaDeps();

    const refused = readable(
      (await translate({ body: forecast() }, new Map([['mcp-session-id', ended.token]]), d)).response,
    );
    expect(refused.immediate?.status).toBe(404);
    expect(ensured).toEqual([]);
    // The slot goes back in the background.
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(operations).toEqual(['admitSessionCall', 'releaseCall']);

    const live = await translate({ body: forecast() }, clientHeaders, d);
    expect(readable(live.response).set).toContainEqual([':authority', 'weather.mcp.local']);
  });

  it('sends a call over its quota to the broker, which refuses it', async () => {
    const { deps: d } = quotaDeps();
    const first = await translate({ body: forecast() }, clientHeaders, d);
    expect(readable(first.response).set).toContainEqual([':authority', 'weather.mcp.local']);

    const second = await translate({ body: forecast() }, clientHeaders, d);
    expect(readable(second.response).set).toContainEqual(['x-mcp-servername', BROKER_SERVER_NAME]);
    first.route?.release?.();
  });
});

describe('translateRequestBody, a 2026-07-28 request', () => {
  /** weather speaks 2026-07-28, plain a legacy version. */
  const eras = () => deps({}, [weather.name]);
  const modern = (method: string, params: Record<string, unknown>, extra: Record<string, string> = {}) => ({
    body: { body: encode({ jsonrpc: '2.0', id: 9, method, params }) },
    headers: new Map([['mcp-protocol-version', '2026-07-28'], ['mcp-method', method], ...Object.entries(extra)]),
  });

  it('goes straight to a 2026-07-28 upstream with the prefix stripped in Mcp-Name and the body, no session', async () => {
    const { body, headers } = modern(
      'tools/call',
      { name: 'weather_forecast', arguments: {} },
      {
        'mcp-name': 'weather_forecast',
        'mcp-session-id': 'stale',
      },
    );
    const answer = await translate(body, headers, eras().deps);
    const got = readable(answer.response);
    expect(got.set).toContainEqual([':authority', 'weather.mcp.local']);
    expect(got.set).toContainEqual(['mcp-name', 'forecast']);
    expect(got.set).toContainEqual(['x-mcp-toolname', 'forecast']);
    expect(got.set?.map(([key]) => key)).not.toContain('mcp-session-id');
    expect(got.remove).toEqual(['x-mcp-authorized', 'x-mcp-virtualserver', 'mcp-session-id']);
    expect(got.body).toMatchObject({ params: { name: 'forecast' } });
    // No session to map back, but the answer is checked on the way back.
    expect(answer.route).toMatchObject({ gatewaySessionId: '', jti: '', server: 'ns/weather', requestId: 9 });
  });

  it('answers HeaderMismatch (400, -32020) when Mcp-Name disagrees with the body', async () => {
    const { body, headers } = modern('tools/call', { name: 'weather_forecast' }, { 'mcp-name': 'weather_other' });
    const got = readable((await translate(body, headers, eras().deps)).response);
    expect(got.immediate?.status).toBe(400);
    const error = JSON.parse(got.immediate?.body ?? '{}');
    expect(error).toMatchObject({ jsonrpc: '2.0', id: 9, error: { code: -32020 } });
    expect(got.immediate?.headers).toEqual([['content-type', 'application/json']]);
  });

  it('goes to the broker for an unknown tool or a legacy upstream', async () => {
    for (const name of ['weather_nothing', 'plain_echo']) {
      const { body, headers } = modern('tools/call', { name }, { 'mcp-name': name });
      const got = readable((await translate(body, headers, eras().deps)).response);
      expect(got.set).toContainEqual(['x-mcp-servername', 'mcpBroker']);
    }
  });

  it('sends a legacy call for a 2026-07-28 upstream to the broker, which translates it', async () => {
    const answer = await translate(
      { body: call('tools/call', { name: 'weather_forecast' }) },
      clientHeaders,
      eras().deps,
    );
    expect(readable(answer.response).set).toContainEqual(['x-mcp-servername', 'mcpBroker']);
  });
});
