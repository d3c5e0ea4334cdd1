import { describe, expect, it } from 'vitest';
import { translateRequestHeaders } from './translate-request-headers.ts';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('translateRequestHeaders', () => {
  it('forces the public host and removes clients’ internal headers (the access headers stay for the broker), clearing the route cache', () => {
    const response = translateRequestHeaders('mcp.example.com');
    expect('request_headers' in response).toBe(true);
    if (!('request_headers' in response)) return;
    const common = response.request_headers.response;
    expect(common?.clear_route_cache).toBe(true);
    expect(common?.header_mutation?.set_headers?.map((o) => [o.header.key, text(o.header.raw_value)])).toEqual([
      [':authority', 'mcp.example.com'],
    ]);
    expect(common?.header_mutation?.remove_headers).toEqual([
      'x-mcp-method',
      'x-mcp-servername',
      'x-mcp-toolname',
      'x-mcp-promptname',
      'x-mcp-resourceuri',
      'mcp-init-host',
      'router-key',
    ]);
  });

  it('carries header values in raw_value only', () => {
    const response = translateRequestHeaders('mcp.example.com');
    if (!('request_headers' in response)) throw new Error('expected a request_headers answer');
    const header = response.request_headers.response?.header_mutation?.set_headers?.[0]?.header;
    expect(Object.keys(header ?? {})).toEqual(['key', 'raw_value']);
  });
});

describe('translateRequestHeaders, asking Envoy for no more than needed', () => {
  const request = (entries: Record<string, string>, endOfStream = false) => ({
    headers: new Map(Object.entries(entries)),
    endOfStream,
  });

  it('keeps the filter’s modes for a legacy POST, with the same answer every time', () => {
    const answer = translateRequestHeaders('mcp.example.com', request({ 'mcp-protocol-version': '2025-11-25' }));
    expect(answer.mode_override).toBeUndefined();
    expect(answer).toBe(translateRequestHeaders('mcp.example.com'));
  });

  it('ends the exchange at once for a request without a body, sent to the broker', () => {
    const answer = translateRequestHeaders('mcp.example.com', request({}, true));
    expect(answer.mode_override).toEqual({ request_body_mode: 'NONE', response_header_mode: 'SKIP' });
    if (!('request_headers' in answer)) throw new Error('expected a request_headers answer');
    const set = answer.request_headers.response?.header_mutation?.set_headers ?? [];
    expect(set.map((o) => [o.header.key, text(o.header.raw_value)])).toEqual([
      [':authority', 'mcp.example.com'],
      ['x-mcp-servername', 'mcpBroker'],
    ]);
  });

  it('sends a 2026-07-28 request no upstream is routed for to the broker without its body', () => {
    const answer = translateRequestHeaders(
      'mcp.example.com',
      request({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' }),
    );
    expect(answer.mode_override).toEqual({ request_body_mode: 'NONE', response_header_mode: 'SKIP' });
    expect(answer.dynamic_metadata?.fields['mcp-gateway']).toEqual({
      structValue: { fields: { method: { stringValue: 'tools/list' }, server: { stringValue: 'mcpBroker' } } },
    });
  });

  it('keeps the body and the response of a 2026-07-28 call, whose answer is checked on the way back', () => {
    for (const method of ['tools/call', 'prompts/get', 'resources/read', 'completion/complete']) {
      const call = request({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': method });
      expect(translateRequestHeaders('mcp.example.com', call).mode_override, method).toBeUndefined();
    }
  });

  it('always lets a request carrying a backend-init token reach its body phase', () => {
    const hairpin = request({
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'server/discover',
      'mcp-init-host': 'weather.mcp.local',
      'router-key': 'token',
    });
    expect(translateRequestHeaders('mcp.example.com', hairpin).mode_override).toBeUndefined();
  });
});
