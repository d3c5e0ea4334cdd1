import { describe, expect, it } from 'vitest';
import { decodeHeaderValue } from '../protocol/modern-request.ts';
import { clientIdentityHeaders, forwardedCallHeaders, routerHeaders } from './upstream-headers.ts';

const CLIENT = new Headers({
  authorization: 'Bearer alice-token',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  tracestate: 'vendor=1',
  baggage: 'tenant=acme',
  'x-request-id': 'req-1',
  cookie: 'session=secret',
  'mcp-session-id': 'gateway-session-token',
  'mcp-protocol-version': '2025-06-18',
  'x-mcp-servername': 'forged',
  'x-mcp-toolname': 'forged',
  'x-mcp-method': 'forged',
  'content-type': 'text/plain',
  host: 'gateway.example.com',
});

describe('forwardedCallHeaders', () => {
  it('sets the JSON-RPC content headers, the routing facts and the backend session', () => {
    const headers = forwardedCallHeaders(
      new Headers(),
      routerHeaders('tools/call', 'weather', { kind: 'tool', name: 'forecast' }),
      { backendSessionId: 'backend-1', protocolVersion: '2025-06-18' },
    );

    expect(headers).toEqual({
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'user-agent': 'mcp-gateway',
      'x-mcp-method': 'tools/call',
      'x-mcp-servername': 'weather',
      'x-mcp-toolname': 'forecast',
      'mcp-session-id': 'backend-1',
      'mcp-protocol-version': '2025-06-18',
    });
  });

  it("forwards the client's identity and trace headers and nothing else of the client's", () => {
    const headers = forwardedCallHeaders(
      CLIENT,
      routerHeaders('tools/call', 'weather', { kind: 'tool', name: 'forecast' }),
      { backendSessionId: 'backend-1' },
    );

    expect(headers).toMatchObject({
      authorization: 'Bearer alice-token',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'vendor=1',
      baggage: 'tenant=acme',
      'x-request-id': 'req-1',
    });
    expect(headers).not.toHaveProperty('cookie');
    expect(headers).not.toHaveProperty('host');
  });

  it("replaces the client's copies of router headers, session id, version and content type with the gateway's", () => {
    const headers = forwardedCallHeaders(
      CLIENT,
      routerHeaders('prompts/get', 'weather', { kind: 'prompt', name: 'summary' }),
      { backendSessionId: 'backend-1', protocolVersion: '2025-11-25' },
    );

    expect(headers['x-mcp-method']).toBe('prompts/get');
    expect(headers['x-mcp-servername']).toBe('weather');
    expect(headers['x-mcp-promptname']).toBe('summary');
    expect(headers).not.toHaveProperty('x-mcp-toolname');
    expect(headers['mcp-session-id']).toBe('backend-1');
    expect(headers['mcp-protocol-version']).toBe('2025-11-25');
    expect(headers['content-type']).toBe('application/json');
  });

  it('leaves out the session id for an upstream without sessions and the version when none is known', () => {
    const headers = forwardedCallHeaders(new Headers(), routerHeaders('ping', 'plain'), { backendSessionId: '' });

    expect(headers).not.toHaveProperty('mcp-session-id');
    expect(headers).not.toHaveProperty('mcp-protocol-version');
    expect(Object.keys(headers).filter((name) => name.startsWith('x-mcp-'))).toEqual([
      'x-mcp-method',
      'x-mcp-servername',
    ]);
  });

  it('passes a visible ASCII name as it is', () => {
    const headers = forwardedCallHeaders(
      new Headers(),
      routerHeaders('resources/read', 'weather', { kind: 'resource', name: 'test://a b?c=1' }),
      { backendSessionId: '' },
    );

    expect(headers['x-mcp-resourceuri']).toBe('test://a b?c=1');
  });

  it('encodes a name that is not visible ASCII as MCP encodes Mcp-Name, so it is a valid header value', () => {
    const headers = forwardedCallHeaders(
      new Headers(),
      routerHeaders('tools/call', 'weather', { kind: 'tool', name: 'météo\nx' }),
      { backendSessionId: '' },
    );

    expect(headers['x-mcp-toolname']).toMatch(/^=\?base64\?.*\?=$/);
    expect(decodeHeaderValue(headers['x-mcp-toolname'] as string)).toBe('météo\nx');
    expect(() => new Headers(headers)).not.toThrow();
  });
});

describe('clientIdentityHeaders', () => {
  it("keeps only the client's identity and trace headers", () => {
    expect(clientIdentityHeaders(CLIENT)).toEqual({
      authorization: 'Bearer alice-token',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'vendor=1',
      baggage: 'tenant=acme',
      'x-request-id': 'req-1',
    });
  });

  it('is empty for a client that sent none of them', () => {
    expect(clientIdentityHeaders(new Headers({ accept: 'text/event-stream' }))).toEqual({});
  });
});
