import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  MAX_JSON_DEPTH,
  isJsonRpcNotification,
  isJsonRpcRequest,
  isJsonRpcResponse,
  jsonRpcError,
  jsonRpcResult,
  parseJsonRpcMessage,
} from './json-rpc.ts';
import type { JsonRpcMessage, JsonRpcParseResult } from './json-rpc.ts';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

function expectInvalid(result: JsonRpcParseResult, fragment: string, id: string | number | null = null): void {
  expect(result).toMatchObject({ ok: false, code: -32600, id });
  if (!result.ok) expect(result.message).toContain(fragment);
}

describe('parseJsonRpcMessage', () => {
  it('classifies a request', () => {
    const result = parseJsonRpcMessage('{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}');
    expect(result).toEqual({
      ok: true,
      kind: 'request',
      message: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
    });
  });

  it('classifies a notification', () => {
    const result = parseJsonRpcMessage('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    expect(result).toMatchObject({ ok: true, kind: 'notification' });
  });

  it('classifies success and error responses', () => {
    expect(parseJsonRpcMessage('{"jsonrpc":"2.0","id":"a","result":{}}')).toMatchObject({ ok: true, kind: 'response' });
    expect(
      parseJsonRpcMessage('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}'),
    ).toMatchObject({ ok: true, kind: 'response' });
  });

  it('accepts by-position params and a string id', () => {
    expect(parseJsonRpcMessage('{"jsonrpc":"2.0","id":"x","method":"m","params":[1,2]}')).toMatchObject({
      ok: true,
      kind: 'request',
    });
  });

  it('accepts UTF-8 bytes and ignores a byte order mark', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...encode('{"jsonrpc":"2.0","id":2,"method":"ping"}')]);
    expect(parseJsonRpcMessage(bytes)).toMatchObject({ ok: true, kind: 'request', message: { id: 2 } });
    expect(parseJsonRpcMessage('\ufeff{"jsonrpc":"2.0","id":2,"method":"ping"}')).toMatchObject({ ok: true });
  });

  it('keeps members beyond those of JSON-RPC and __proto__ as a plain key', () => {
    const result = parseJsonRpcMessage('{"jsonrpc":"2.0","method":"m","__proto__":{"polluted":true},"extra":1}');
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(Object.hasOwn(result.message, '__proto__')).toBe(true);
      expect((result.message as unknown as Record<string, unknown>).extra).toBe(1);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reports malformed JSON as -32700 naming the cause', () => {
    const result = parseJsonRpcMessage('{"jsonrpc":"2.0",');
    expect(result).toMatchObject({ ok: false, code: -32700, id: null });
    if (!result.ok) expect(result.message).toMatch(/^Parse error: request body is not valid JSON \(.+\)$/);
  });

  it('reports an empty body and invalid UTF-8 as -32700', () => {
    expect(parseJsonRpcMessage('  ')).toEqual({
      ok: false,
      code: -32700,
      message: 'Parse error: request body is empty',
      id: null,
    });
    expect(parseJsonRpcMessage(new Uint8Array([0x7b, 0xff, 0x7d]))).toEqual({
      ok: false,
      code: -32700,
      message: 'Parse error: request body is not valid UTF-8',
      id: null,
    });
  });

  it('rejects a batch', () => {
    expectInvalid(
      parseJsonRpcMessage('[{"jsonrpc":"2.0","id":1,"method":"ping"}]'),
      'batch requests are not supported (removed in MCP 2025-06-18)',
    );
  });

  it('rejects JSON that is not an object', () => {
    for (const body of ['null', '1', '"x"', 'true']) {
      expectInvalid(parseJsonRpcMessage(body), 'a JSON-RPC message must be a JSON object');
    }
  });

  it('rejects a wrong or missing jsonrpc member and returns the id it read', () => {
    expectInvalid(parseJsonRpcMessage('{"jsonrpc":"1.0","id":7,"method":"m"}'), 'jsonrpc must be "2.0"', 7);
    expectInvalid(parseJsonRpcMessage('{"id":"q","method":"m"}'), 'jsonrpc must be "2.0"', 'q');
  });

  it('rejects a method that is not a string', () => {
    expectInvalid(parseJsonRpcMessage('{"jsonrpc":"2.0","id":1,"method":3}'), 'method must be a string', 1);
  });

  it('rejects ids that are not strings or exactly representable numbers', () => {
    for (const id of ['null', '{}', '[]', 'true', '1e400', '9007199254740993']) {
      expectInvalid(
        parseJsonRpcMessage(`{"jsonrpc":"2.0","id":${id},"method":"m"}`),
        'id must be a string or a number',
      );
    }
  });

  it('rejects params that are not an object or an array', () => {
    for (const params of ['null', '1', '"x"']) {
      expectInvalid(
        parseJsonRpcMessage(`{"jsonrpc":"2.0","id":1,"method":"m","params":${params}}`),
        'params must be an object or an array',
        1,
      );
    }
  });

  it('rejects an object with neither method nor result/error', () => {
    expectInvalid(
      parseJsonRpcMessage('{"jsonrpc":"2.0","id":4}'),
      'a message needs a method (request/notification) or result/error (response)',
      4,
    );
  });

  it('rejects ambiguous and incomplete responses', () => {
    expectInvalid(
      parseJsonRpcMessage('{"jsonrpc":"2.0","id":1,"method":"m","result":{}}'),
      'both a method and a result',
      1,
    );
    expectInvalid(
      parseJsonRpcMessage('{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}}'),
      'both result and error',
      1,
    );
    expectInvalid(parseJsonRpcMessage('{"jsonrpc":"2.0","result":{}}'), 'a response needs an id');
    expectInvalid(parseJsonRpcMessage('{"jsonrpc":"2.0","id":null,"result":{}}'), 'id must be a string or a number');
  });

  it('rejects malformed error objects', () => {
    expectInvalid(parseJsonRpcMessage('{"jsonrpc":"2.0","id":1,"error":"bad"}'), 'error must be an object', 1);
    expectInvalid(
      parseJsonRpcMessage('{"jsonrpc":"2.0","id":1,"error":{"code":1.5,"message":"x"}}'),
      'error.code must be an integer',
      1,
    );
    expectInvalid(
      parseJsonRpcMessage('{"jsonrpc":"2.0","id":1,"error":{"code":1}}'),
      'error.message must be a string',
      1,
    );
  });

  it('survives deep nesting and huge numbers', () => {
    const deep = `{"jsonrpc":"2.0","method":"m","params":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    expect(parseJsonRpcMessage(deep)).toMatchObject({ ok: false, code: -32600 });
    expect(parseJsonRpcMessage('{"jsonrpc":"2.0","method":"m","params":[1e999999]}')).toMatchObject({ ok: true });
  });

  it(`refuses JSON nested deeper than ${MAX_JSON_DEPTH} levels, with the id when it comes first`, () => {
    const nest = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    const body = (id: string, levels: number) =>
      `{"jsonrpc":"2.0","id":${id},"method":"m","params":{"a":${nest(levels)}}}`;

    expect(parseJsonRpcMessage(body('7', 20_000))).toEqual({
      ok: false,
      code: -32600,
      message: `Invalid Request: the JSON nests deeper than the limit of ${MAX_JSON_DEPTH} levels`,
      id: 7,
    });
    expect(parseJsonRpcMessage(body('"a\\"b"', 200))).toMatchObject({ ok: false, id: 'a"b' });
    expect(parseJsonRpcMessage(body('7', MAX_JSON_DEPTH - 2))).toMatchObject({ ok: true });
    expect(parseJsonRpcMessage(body('7', MAX_JSON_DEPTH))).toMatchObject({ ok: false, id: 7 });
    // The id after the deep part, or only inside a nested object, is not read.
    const late = `{"jsonrpc":"2.0","method":"m","params":{"a":${nest(200)}},"id":7}`;
    expect(parseJsonRpcMessage(late)).toMatchObject({ ok: false, id: null });
    const nested = `{"jsonrpc":"2.0","params":{"id":9,"a":${nest(200)}},"method":"m"}`;
    expect(parseJsonRpcMessage(nested)).toMatchObject({ ok: false, id: null });
    // Brackets inside strings do not count.
    const quoted = `{"jsonrpc":"2.0","id":1,"method":"m","params":{"s":"${'['.repeat(500)}"}}`;
    expect(parseJsonRpcMessage(quoted)).toMatchObject({ ok: true });
  });

  it('never throws for arbitrary strings and yields ok or a described -32700/-32600', () => {
    const jsonish = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.json(),
      fc.jsonValue().map((value) => JSON.stringify({ jsonrpc: '2.0', value })),
    );
    fc.assert(
      fc.property(jsonish, (body) => {
        const result = parseJsonRpcMessage(body);
        if (!result.ok) {
          expect([-32700, -32600]).toContain(result.code);
          expect(result.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never throws for arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        const result = parseJsonRpcMessage(bytes);
        if (!result.ok) {
          expect([-32700, -32600]).toContain(result.code);
          expect(result.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips every valid message through JSON.stringify', () => {
    const id = fc.oneof(fc.string(), fc.integer());
    const params = fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.array(fc.jsonValue()));
    const message: fc.Arbitrary<JsonRpcMessage> = fc.oneof(
      fc.record(
        { jsonrpc: fc.constant('2.0' as const), id, method: fc.string(), params },
        { requiredKeys: ['jsonrpc', 'id', 'method'] },
      ),
      fc.record(
        { jsonrpc: fc.constant('2.0' as const), method: fc.string(), params },
        { requiredKeys: ['jsonrpc', 'method'] },
      ),
      fc.record({ jsonrpc: fc.constant('2.0' as const), id, result: fc.jsonValue().filter((v) => v !== null) }),
      fc.record({
        jsonrpc: fc.constant('2.0' as const),
        id: fc.option(id, { nil: null }),
        error: fc.record(
          { code: fc.integer(), message: fc.string(), data: fc.jsonValue() },
          { requiredKeys: ['code', 'message'] },
        ),
      }),
    );
    fc.assert(
      fc.property(message, (original) => {
        const result = parseJsonRpcMessage(JSON.stringify(original));
        expect(result.ok).toBe(true);
        if (result.ok) expect(result.message).toEqual(JSON.parse(JSON.stringify(original)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('jsonRpcResult and jsonRpcError', () => {
  it('build responses', () => {
    expect(jsonRpcResult(1, { tools: [] })).toEqual({ jsonrpc: '2.0', id: 1, result: { tools: [] } });
    expect(jsonRpcError(null, -32700, 'Parse error')).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: 'Parse error' },
    });
    expect(jsonRpcError('a', -32602, 'Unknown tool', { name: 'x' })).toEqual({
      jsonrpc: '2.0',
      id: 'a',
      error: { code: -32602, message: 'Unknown tool', data: { name: 'x' } },
    });
  });

  it('omits data when it is not given', () => {
    expect('data' in jsonRpcError(1, -32603, 'Internal error').error).toBe(false);
  });
});

describe('type guards', () => {
  it('tell the kinds apart', () => {
    const request = { jsonrpc: '2.0', id: 1, method: 'm' };
    const notification = { jsonrpc: '2.0', method: 'm' };
    const response = jsonRpcResult(1, {});
    expect([isJsonRpcRequest(request), isJsonRpcNotification(request), isJsonRpcResponse(request)]).toEqual([
      true,
      false,
      false,
    ]);
    expect([isJsonRpcRequest(notification), isJsonRpcNotification(notification)]).toEqual([false, true]);
    expect([isJsonRpcRequest(response), isJsonRpcResponse(response)]).toEqual([false, true]);
    expect(isJsonRpcResponse(jsonRpcError(null, -32600, 'Invalid Request'))).toBe(true);
  });

  it('reject values that are not messages', () => {
    for (const value of [null, 1, 'x', [], {}, { jsonrpc: '2.0', id: 1, method: 2 }]) {
      expect(isJsonRpcRequest(value) || isJsonRpcNotification(value) || isJsonRpcResponse(value)).toBe(false);
    }
  });
});
