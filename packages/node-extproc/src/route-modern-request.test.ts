import { describe, expect, it } from 'vitest';
import { translateRequestBody } from './translate-request-body.ts';
import { call, clientHeaders, deps, encode, readable, weather } from './translate-request-body.fixtures.ts';

describe('translateRequestBody, a 2026-07-28 request', () => {
  /** weather speaks 2026-07-28, plain a legacy version. */
  const eras = () => deps({ upstreamProtocolVersion: (name) => (name === weather.name ? '2026-07-28' : '2025-11-25') });
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
    const answer = await translateRequestBody(body, headers, eras().deps);
    const got = readable(answer.response);
    expect(got.set).toContainEqual([':authority', 'weather.mcp.local']);
    expect(got.set).toContainEqual(['mcp-name', 'forecast']);
    expect(got.set).toContainEqual(['x-mcp-toolname', 'forecast']);
    expect(got.set?.map(([key]) => key)).not.toContain('mcp-session-id');
    expect(got.remove).toEqual(['mcp-session-id']);
    expect(got.body).toMatchObject({ params: { name: 'forecast' } });
    expect(answer.route).toBeUndefined();
  });

  it('answers HeaderMismatch (400, -32020) when Mcp-Name disagrees with the body', async () => {
    const { body, headers } = modern('tools/call', { name: 'weather_forecast' }, { 'mcp-name': 'weather_other' });
    const got = readable((await translateRequestBody(body, headers, eras().deps)).response);
    expect(got.immediate?.status).toBe(400);
    const error = JSON.parse(got.immediate?.body ?? '{}');
    expect(error).toMatchObject({ jsonrpc: '2.0', id: 9, error: { code: -32020 } });
    expect(got.immediate?.headers).toEqual([['content-type', 'application/json']]);
  });

  it('goes to the broker for an unknown tool or a legacy upstream', async () => {
    for (const name of ['weather_nothing', 'plain_echo']) {
      const { body, headers } = modern('tools/call', { name }, { 'mcp-name': name });
      const got = readable((await translateRequestBody(body, headers, eras().deps)).response);
      expect(got.set).toContainEqual(['x-mcp-servername', 'mcpBroker']);
    }
  });

  it('sends a legacy call to the broker when the response headers will not come back', async () => {
    const answer = await translateRequestBody(
      { body: call('tools/call', { name: 'plain_echo' }) },
      clientHeaders,
      eras().deps,
      { responseHeadersSkipped: true },
    );
    expect(readable(answer.response).set).toContainEqual(['x-mcp-servername', 'mcpBroker']);
  });

  it('sends a legacy call for a 2026-07-28 upstream to the broker, which translates it', async () => {
    const answer = await translateRequestBody(
      { body: call('tools/call', { name: 'weather_forecast' }) },
      clientHeaders,
      eras().deps,
    );
    expect(readable(answer.response).set).toContainEqual(['x-mcp-servername', 'mcpBroker']);
  });
});
