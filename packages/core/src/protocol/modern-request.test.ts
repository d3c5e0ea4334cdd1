import { describe, expect, it } from 'vitest';
import {
  checkEnvelope,
  checkModernHeaders,
  decodeHeaderValue,
  encodeHeaderValue,
  isModernRequest,
  META,
  paramHeaders,
  SUPPORTED_PROTOCOL_VERSIONS,
} from './modern-request.ts';

const envelope = { [META.protocolVersion]: '2026-07-28', [META.clientCapabilities]: {} };
const headers =
  (values: Record<string, string>) =>
  (name: string): string | null =>
    values[name] ?? null;

describe('isModernRequest', () => {
  it('lets the body envelope decide, whatever the header says', () => {
    expect(isModernRequest(null, { params: { _meta: envelope } })).toBe(true);
    expect(isModernRequest('2025-11-25', { params: { _meta: envelope } })).toBe(true);
    expect(isModernRequest(null, { params: { _meta: { [META.protocolVersion]: '2025-06-18' } } })).toBe(false);
  });

  it('treats an envelope naming an unknown version as modern (so it gets -32022, not a session error)', () => {
    expect(isModernRequest(null, { params: { _meta: { [META.protocolVersion]: '2099-01-01' } } })).toBe(true);
  });

  it('falls back to the MCP-Protocol-Version header without an envelope', () => {
    expect(isModernRequest('2026-07-28', {})).toBe(true);
    expect(isModernRequest('2025-11-25', {})).toBe(false);
    expect(isModernRequest(null, {})).toBe(false);
  });
});

describe('checkModernHeaders', () => {
  const call = { method: 'tools/call', params: { name: 'weather_get', _meta: envelope } };
  const good = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'weather_get' };

  it('accepts headers that agree with the body', () => {
    expect(checkModernHeaders(headers(good), call)).toBeUndefined();
  });

  it.each([
    ['mcp-protocol-version', /MCP-Protocol-Version header is absent/],
    ['mcp-method', /Mcp-Method header is absent/],
    ['mcp-name', /Mcp-Name header is absent/],
  ])('refuses a request without %s with HeaderMismatch (-32020, HTTP 400)', (missing, message) => {
    const rest = Object.fromEntries(Object.entries(good).filter(([name]) => name !== missing));
    const error = checkModernHeaders(headers(rest), call);
    expect(error).toMatchObject({ code: 'HEADER_MISMATCH', status: 400, rpcCode: -32020 });
    expect(error?.message).toMatch(message);
  });

  it('refuses a version, method or name that disagrees with the body', () => {
    expect(checkModernHeaders(headers({ ...good, 'mcp-protocol-version': '2025-11-25' }), call)?.message).toMatch(
      /names protocol version 2026-07-28 but the MCP-Protocol-Version header names 2025-11-25/,
    );
    expect(checkModernHeaders(headers({ ...good, 'mcp-method': 'prompts/get' }), call)?.code).toBe('HEADER_MISMATCH');
    expect(checkModernHeaders(headers({ ...good, 'mcp-name': 'other' }), call)?.message).toMatch(
      /params.name="weather_get" but the Mcp-Name header names "other"/,
    );
  });

  it('compares resources/read against params.uri and decodes the Base64 form', () => {
    const read = { method: 'resources/read', params: { uri: 'file:///ünï', _meta: envelope } };
    const encoded = encodeHeaderValue('file:///ünï');
    expect(encoded).toMatch(/^=\?base64\?.*\?=$/);
    const values = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'resources/read', 'mcp-name': encoded };
    expect(checkModernHeaders(headers(values), read)).toBeUndefined();
    expect(checkModernHeaders(headers({ ...values, 'mcp-name': '=?base64?***?=' }), read)?.message).toMatch(
      /invalid Base64/,
    );
  });

  it('needs no Mcp-Name for methods without a name', () => {
    const list = { method: 'tools/list', params: { _meta: envelope } };
    expect(
      checkModernHeaders(headers({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' }), list),
    ).toBeUndefined();
  });
});

describe('header value encoding', () => {
  it('keeps plain ASCII and round-trips anything else', () => {
    expect(encodeHeaderValue('get_weather')).toBe('get_weather');
    for (const value of ['héllo', ' leading space', 'tab\there', '=?base64?looks-like?=']) {
      expect(decodeHeaderValue(encodeHeaderValue(value))).toBe(value);
    }
    expect(decodeHeaderValue('=?base64?//79?=')).toBeUndefined(); // not valid UTF-8
  });
});

describe('SUPPORTED_PROTOCOL_VERSIONS', () => {
  it('lists the modern version first, then every legacy one', () => {
    expect(SUPPORTED_PROTOCOL_VERSIONS).toEqual(['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05']);
  });
});

describe('checkEnvelope', () => {
  it('accepts a request naming its version and capabilities', () => {
    expect(checkEnvelope({ params: { _meta: envelope } })).toBeUndefined();
  });

  it.each([
    ['no _meta at all', {}, /missing the required per-request _meta key\(s\): .*protocolVersion, .*clientCapabilities/],
    ['no version', { _meta: { [META.clientCapabilities]: {} } }, /missing .*protocolVersion/],
    [
      'capabilities that are not an object',
      { _meta: { ...envelope, [META.clientCapabilities]: 'all' } },
      /must be an object/,
    ],
  ])('refuses %s with 400 and -32602', (_what, params, message) => {
    const error = checkEnvelope({ params });
    expect(error).toMatchObject({ code: 'ENVELOPE_INVALID', status: 400, rpcCode: -32602 });
    expect(error?.message).toMatch(message);
  });
});

describe('paramHeaders', () => {
  const schema = {
    type: 'object',
    properties: {
      region: { type: 'string', 'x-mcp-header': 'Region' },
      limit: { type: 'integer', 'x-mcp-header': 'Limit' },
      nested: { type: 'object', properties: { flag: { type: 'boolean', 'x-mcp-header': 'Flag' } } },
      plain: { type: 'string' },
    },
  };

  it('derives Mcp-Param-* from the declared arguments, encoding what is not plain ASCII', () => {
    expect(paramHeaders(schema, { region: 'Zürich', limit: 5, nested: { flag: true }, plain: 'x' })).toEqual({
      'mcp-param-region': encodeHeaderValue('Zürich'),
      'mcp-param-limit': '5',
      'mcp-param-flag': 'true',
    });
  });

  it('sends no header for an absent or null argument', () => {
    expect(paramHeaders(schema, { region: null })).toEqual({});
  });
});
