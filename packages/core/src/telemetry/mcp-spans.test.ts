import { describe, expect, it } from 'vitest';
import { SharedAttributes } from './gateway-tracer.ts';
import {
  mcpCallAttributes,
  mcpClientAttributes,
  mcpProtocolAttributes,
  mcpRoutedAttributes,
  mcpServerAttributes,
  mcpSessionAttributes,
  mcpSpanName,
} from './mcp-spans.ts';

const valuesOf = (attributes: unknown) =>
  attributes instanceof SharedAttributes ? attributes.values : (attributes as Record<string, unknown>);

describe('MCP span attributes', () => {
  it('names a span by method and tool or prompt, never by a resource URI', () => {
    expect(mcpSpanName('tools/call', { kind: 'tool', name: 'w_echo' })).toBe('tools/call w_echo');
    expect(mcpSpanName('resources/read', { kind: 'resource', name: 'file:///a' })).toBe('resources/read');
    expect(mcpSpanName('ping')).toBe('ping');
  });

  it('makes the attributes of one tool on one server once, and those of another apart', () => {
    const echo = mcpCallAttributes({ kind: 'tool', name: 'echo' }, 'weather');
    expect(mcpCallAttributes({ kind: 'tool', name: 'echo' }, 'weather')).toBe(echo);
    expect(valuesOf(echo)).toEqual({
      'gen_ai.tool.name': 'echo',
      'gen_ai.operation.name': 'execute_tool',
      'mcp.server': 'weather',
    });
    expect(valuesOf(mcpCallAttributes({ kind: 'tool', name: 'echo' }, 'news'))).toMatchObject({ 'mcp.server': 'news' });
    expect(valuesOf(mcpCallAttributes({ kind: 'prompt', name: 'echo' }, 'weather'))).toEqual({
      'gen_ai.prompt.name': 'echo',
      'mcp.server': 'weather',
    });
  });

  it('keeps nothing for a resource URI, which a template makes without end', () => {
    const read = mcpCallAttributes({ kind: 'resource', name: 'file:///1' }, 'files');
    expect(read).not.toBeInstanceOf(SharedAttributes);
    expect(read).toEqual({ 'mcp.resource.uri': 'file:///1', 'mcp.server': 'files' });
  });

  it("describes an exchange with an upstream by its method, item and the URL's host and port", () => {
    const exchange = mcpClientAttributes('tools/call', 'https://api.example.com/mcp', { kind: 'tool', name: 'echo' });
    expect(mcpClientAttributes('tools/call', 'https://api.example.com/mcp', { kind: 'tool', name: 'echo' })).toBe(
      exchange,
    );
    expect(valuesOf(exchange)).toEqual({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'echo',
      'gen_ai.operation.name': 'execute_tool',
      'server.address': 'api.example.com',
      'server.port': 443,
    });
    expect(valuesOf(mcpClientAttributes('initialize', 'http://10.0.0.1:8080/mcp'))).toEqual({
      'mcp.method.name': 'initialize',
      'server.address': '10.0.0.1',
      'server.port': 8080,
    });
  });

  it('tells two servers behind one URL apart on a routed call', () => {
    const target = { kind: 'tool', name: 'echo' } as const;
    const a = mcpRoutedAttributes('tools/call', target, 'a', 'http://up:1/mcp');
    const b = mcpRoutedAttributes('tools/call', target, 'b', 'http://up:1/mcp');
    expect(valuesOf(a)).toMatchObject({ 'mcp.server': 'a', 'mcp.route': 'router', 'server.port': 1 });
    expect(valuesOf(b)).toMatchObject({ 'mcp.server': 'b' });
  });

  it("keeps a known method's and a short protocol version's attributes, not a client's made-up ones", () => {
    expect(mcpServerAttributes('tools/call')).toBe(mcpServerAttributes('tools/call'));
    const odd = mcpServerAttributes('x/made-up');
    expect(odd).not.toBeInstanceOf(SharedAttributes);
    expect(odd).toEqual({ 'mcp.method.name': 'x/made-up', 'network.protocol.name': 'http' });
    expect(mcpProtocolAttributes('2025-11-25')).toBe(mcpProtocolAttributes('2025-11-25'));
    expect(mcpProtocolAttributes('v'.repeat(40))).toEqual({ 'mcp.protocol.version': 'v'.repeat(40) });
    expect(mcpProtocolAttributes(undefined)).toEqual({});
  });

  it("keeps a session's attributes (its jti and version) for its requests, apart from another session's", () => {
    const first = mcpSessionAttributes('jti-1', '2025-06-18');
    expect(mcpSessionAttributes('jti-1', '2025-06-18')).toBe(first);
    expect(valuesOf(first)).toEqual({ 'mcp.session.id': 'jti-1', 'mcp.protocol.version': '2025-06-18' });
    expect(valuesOf(mcpSessionAttributes('jti-2', '2025-06-18'))).toMatchObject({ 'mcp.session.id': 'jti-2' });
    expect(valuesOf(mcpSessionAttributes('jti-1', undefined))).toMatchObject({ 'mcp.session.id': 'jti-1' });
    const odd = mcpSessionAttributes('jti-1', 'v'.repeat(40));
    expect(odd).not.toBeInstanceOf(SharedAttributes);
    expect(odd).toEqual({ 'mcp.session.id': 'jti-1', 'mcp.protocol.version': 'v'.repeat(40) });
  });

  it('starts its tables over when full and still gives the right attributes', () => {
    for (let i = 0; i < 5_000; i++) {
      const attributes = mcpCallAttributes({ kind: 'tool', name: `tool_${i}` }, 'many');
      if (i % 997 === 0) expect(valuesOf(attributes)).toMatchObject({ 'gen_ai.tool.name': `tool_${i}` });
    }
    expect(valuesOf(mcpCallAttributes({ kind: 'tool', name: 'tool_1' }, 'many'))).toMatchObject({
      'gen_ai.tool.name': 'tool_1',
      'mcp.server': 'many',
    });
  });
});
