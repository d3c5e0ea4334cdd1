import { GatewayError, prefixUri } from '@mcp-gateway/core';
import { describe, expect, it } from 'vitest';
import { translateRequestBody } from './translate-request-body.ts';
import { call, clientHeaders, deps, encode, readable } from './translate-request-body.fixtures.ts';

describe('translateRequestBody', () => {
  it('routes a tools/call for a served tool to its upstream with the prefix stripped', async () => {
    const { deps: d, ensured } = deps();
    const body = call('tools/call', { name: 'weather_forecast', arguments: { city: 'Oslo' } });
    const result = await translateRequestBody({ body, end_of_stream: true }, clientHeaders, d);
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
        ['x-mcp-method', 'tools/call'],
        ['x-mcp-servername', 'ns/weather'],
        ['content-length', String(JSON.stringify(newBody).length)],
        ['x-mcp-toolname', 'forecast'],
        ['mcp-session-id', 'backend-1'],
      ],
      remove: undefined,
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
                session: { stringValue: 'jti-1' },
              },
            },
          },
        },
      },
    });
    expect(result.route).toEqual({
      gatewaySessionId: 'gateway-token',
      jti: 'jti-1',
      server: 'ns/weather',
      backendSessionId: 'backend-1',
      requestId: 7,
      // The client declared no elicitation, sampling or roots: nothing for the upstream to ask it.
      relayServerRequests: false,
    });
    expect(ensured).toEqual([['jti-1', 'ns/weather', 'Bearer user']]);
  });

  it('routes prompts/get with x-mcp-promptname', async () => {
    const result = await translateRequestBody(
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
    const result = await translateRequestBody(
      { body: call('resources/read', { uri: served }) },
      clientHeaders,
      deps().deps,
    );
    const view = readable(result.response);
    expect(view.set).toContainEqual(['x-mcp-resourceuri', 'file:///today.txt']);
    expect(view.body).toMatchObject({ params: { uri: 'file:///today.txt' } });
  });

  it('removes mcp-session-id for an upstream without sessions', async () => {
    const result = await translateRequestBody(
      { body: call('tools/call', { name: 'plain_echo' }) },
      clientHeaders,
      deps().deps,
    );
    const view = readable(result.response);
    expect(view.remove).toEqual(['mcp-session-id']);
    expect(view.set?.map(([key]) => key)).not.toContain('mcp-session-id');
    expect(result.route?.backendSessionId).toBe('');
  });

  it('sends an unknown tool to the broker, which answers -32602', async () => {
    const { deps: d, ensured } = deps();
    const result = await translateRequestBody({ body: call('tools/call', { name: 'nope' }) }, clientHeaders, d);
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
      const result = await translateRequestBody({ body: call(method, {}) }, new Map(), deps().deps);
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
      const result = await translateRequestBody({ body }, clientHeaders, deps().deps);
      expect(readable(result.response).set).toEqual([['x-mcp-servername', 'mcpBroker']]);
    }
  });

  it('answers malformed JSON with 400 and a plain-text reason', async () => {
    const result = await translateRequestBody({ body: encode('{"jsonrpc":') }, clientHeaders, deps().deps);
    const view = readable(result.response);
    expect(view.immediate?.status).toBe(400);
    expect(view.immediate?.body).toMatch(/^Parse error: request body is not valid JSON/);
    expect(view.immediate?.headers).toEqual([['content-type', 'text/plain; charset=utf-8']]);
  });

  it('answers a body over the limit with 413', async () => {
    const body = call('tools/call', { name: 'weather_forecast', arguments: { text: 'x'.repeat(2000) } });
    const result = await translateRequestBody({ body }, clientHeaders, deps().deps);
    expect(readable(result.response).immediate).toMatchObject({
      status: 413,
      body: 'Request body too large (limit 1024 bytes)',
    });
  });

  it('answers a call without a session with 400', async () => {
    const result = await translateRequestBody(
      { body: call('tools/call', { name: 'weather_forecast' }) },
      new Map(),
      deps().deps,
    );
    expect(readable(result.response).immediate).toMatchObject({
      status: 400,
      body: 'Bad Request: Mcp-Session-Id header is required',
    });
  });

  it('answers a call on an unknown or expired session with 404', async () => {
    const { deps: d, ensured } = deps();
    const headers = new Map([['mcp-session-id', 'forged']]);
    const result = await translateRequestBody({ body: call('tools/call', { name: 'weather_forecast' }) }, headers, d);
    expect(readable(result.response).immediate).toMatchObject({ status: 404, body: 'Session not found or expired' });
    expect(ensured).toEqual([]);
  });

  it('answers with the upstream error when the backend session cannot be opened', async () => {
    const { deps: d } = deps({
      ensureBackendSession: async () => {
        throw new GatewayError('UPSTREAM_UNAVAILABLE', 'could not open a session on upstream ns/weather');
      },
    });
    const result = await translateRequestBody(
      { body: call('tools/call', { name: 'weather_forecast' }) },
      clientHeaders,
      d,
    );
    expect(readable(result.response).immediate).toMatchObject({
      status: 502,
      body: 'could not open a session on upstream ns/weather',
    });
  });

  it('hides unexpected failures behind "Internal error"', async () => {
    const { deps: d } = deps({
      ensureBackendSession: async () => {
        throw new Error('socket hang up at 10.0.0.1');
      },
    });
    const result = await translateRequestBody(
      { body: call('tools/call', { name: 'weather_forecast' }) },
      clientHeaders,
      d,
    );
    expect(readable(result.response).immediate).toMatchObject({ status: 500, body: 'Internal error' });
  });
});
