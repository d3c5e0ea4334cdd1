import { describe, expect, it } from 'vitest';
import { translateRequestHeaders } from './translate-request-headers.ts';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('translateRequestHeaders', () => {
  it('forces the public host and removes clients’ internal headers, clearing the route cache', () => {
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
      'x-mcp-authorized',
      'x-mcp-virtualserver',
    ]);
  });

  it('carries header values in raw_value only', () => {
    const response = translateRequestHeaders('mcp.example.com');
    if (!('request_headers' in response)) throw new Error('expected a request_headers answer');
    const header = response.request_headers.response?.header_mutation?.set_headers?.[0]?.header;
    expect(Object.keys(header ?? {})).toEqual(['key', 'raw_value']);
  });
});
