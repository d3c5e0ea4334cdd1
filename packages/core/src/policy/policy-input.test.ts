import { describe, expect, it } from 'vitest';
import { createAuthVariables, createRequestVariables, toArgumentsMap, UNVERIFIED_AUTH } from './policy-input.ts';

describe('createRequestVariables', () => {
  it('lower-cases header names and leaves out the caller credentials', () => {
    const request = createRequestVariables('tools/call', {
      'X-Tenant': 'blue',
      Authorization: 'Bearer secret',
      Cookie: 'sid=1',
      'Proxy-Authorization': 'Basic x',
    });
    expect(request.method).toBe('tools/call');
    expect({ ...request.headers }).toEqual({ 'x-tenant': 'blue' });
  });

  it("leaves out the router's headers, whoever set them", () => {
    const request = createRequestVariables('tools/call', {
      'x-mcp-method': 'tools/call',
      'x-mcp-servername': 'mcpBroker',
      'x-mcp-toolname': 'forecast',
      'x-mcp-promptname': 'brief',
      'x-mcp-resourceuri': 'weather://today',
      'mcp-init-host': 'weather.mcp.local',
      'router-key': 'a-backend-init-token',
      'x-tenant': 'blue',
    });
    expect({ ...request.headers }).toEqual({ 'x-tenant': 'blue' });
  });

  it('reads a Headers object the same way, repeated fields joined', () => {
    const headers = new Headers([
      ['x-tenant', 'blue'],
      ['x-tag', 'a'],
      ['x-tag', 'b'],
      ['authorization', 'Bearer secret'],
    ]);
    expect({ ...createRequestVariables('tools/list', headers).headers }).toEqual({
      'x-tenant': 'blue',
      'x-tag': 'a, b',
    });
  });

  it("gives the Envoy router's :authority as host and leaves out the other pseudo-headers", () => {
    const routerView = new Map([
      [':authority', 'mcp.example.com'],
      [':path', '/mcp'],
      [':method', 'POST'],
      ['x-tenant', 'blue'],
    ]);
    expect({ ...createRequestVariables('tools/call', routerView).headers }).toEqual({
      host: 'mcp.example.com',
      'x-tenant': 'blue',
    });
  });

  it('keeps a header named __proto__ as a header', () => {
    const { headers } = createRequestVariables('tools/list', JSON.parse('{"__proto__":"x"}') as Record<string, string>);
    expect(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value).toBe('x');
  });

  it("finds the host of the router view under :authority, and leaves out Envoy's own headers, when copying named headers", () => {
    const view = new Map([
      [':authority', 'mcp.example.com'],
      ['x-envoy-expected-rq-timeout-ms', '15000'],
    ]);
    expect({
      ...createRequestVariables('tools/call', view, new Set(['host', 'x-envoy-expected-rq-timeout-ms'])).headers,
    }).toEqual({
      host: 'mcp.example.com',
    });
    expect({ ...createRequestVariables('tools/call', view).headers }).toEqual({ host: 'mcp.example.com' });
  });

  it('copies only the named headers when the policy reads only those, credentials still left out', () => {
    const headers = new Headers({ 'x-tenant': 'blue', 'x-other': '1', authorization: 'Bearer secret' });
    expect({
      ...createRequestVariables('tools/call', headers, new Set(['x-tenant', 'authorization', 'x-missing'])).headers,
    }).toEqual({
      'x-tenant': 'blue',
    });
    const map = new Map([['x-tenant', 'red']]);
    expect({ ...createRequestVariables('tools/call', map, new Set(['x-tenant'])).headers }).toEqual({
      'x-tenant': 'red',
    });
  });

  describe('createAuthVariables', () => {
    it('fills what a verified token leaves out with empty values', () => {
      expect(createAuthVariables({ issuer: 'https://idp', subject: 'alice' })).toEqual({
        verified: true,
        issuer: 'https://idp',
        subject: 'alice',
        clientId: '',
        scopes: [],
        claims: {},
      });
    });

    it('describes an unverified caller with empty values', () => {
      expect(UNVERIFIED_AUTH).toEqual({
        verified: false,
        issuer: '',
        subject: '',
        clientId: '',
        scopes: [],
        claims: {},
      });
    });
  });

  describe('toArgumentsMap', () => {
    it('keeps an object and turns anything else into an empty map', () => {
      expect(toArgumentsMap({ city: 'Paris' })).toEqual({ city: 'Paris' });
      for (const value of [undefined, null, 'x', 3, ['a']]) expect(toArgumentsMap(value)).toEqual({});
    });
  });
});
