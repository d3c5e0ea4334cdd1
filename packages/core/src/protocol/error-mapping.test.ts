import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.ts';
import type { LogFields, Logger } from '../logger.ts';
import {
  describe as describeError,
  jsonResponse,
  rpcErrorResponse,
  toErrorResponse,
  toJsonRpcError,
} from './error-mapping.ts';

interface LogLine {
  level: string;
  msg: string;
  fields: LogFields | undefined;
}

/** A Logger that keeps its lines, so tests can see what reached the log. */
function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const line = (level: string) => (msg: string, fields?: LogFields) => void lines.push({ level, msg, fields });
  const logger = {
    lines,
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    child: () => logger,
  };
  return logger;
}

const REFERENCE = /^Internal error \(reference ([0-9a-f-]{36})\)$/;

describe('toJsonRpcError', () => {
  it("keeps an exposable GatewayError's code and message", () => {
    const logger = recordingLogger();

    expect(toJsonRpcError(new GatewayError('TOOL_NOT_FOUND', 'Unknown tool: w_rain'), logger)).toEqual({
      code: -32602,
      message: 'Unknown tool: w_rain',
    });
    expect(logger.lines).toEqual([]);
  });

  it("keeps an exposable GatewayError's data", () => {
    const error = new GatewayError('INVALID_PARAMS', 'Bad arguments', { data: { field: 'city' } });

    expect(toJsonRpcError(error, recordingLogger())).toEqual({
      code: -32602,
      message: 'Bad arguments',
      data: { field: 'city' },
    });
  });

  it('hides an unexpected error behind "Internal error" and logs it under the same reference', () => {
    const logger = recordingLogger();

    const mapped = toJsonRpcError(new Error('db password is hunter2'), logger);

    expect(mapped.code).toBe(-32603);
    const reference = REFERENCE.exec(mapped.message)?.[1];
    expect(reference).toBeDefined();
    expect(mapped).not.toHaveProperty('data');
    expect(logger.lines).toEqual([
      { level: 'error', msg: 'unexpected error', fields: { reference, error: 'Error: db password is hunter2' } },
    ]);
  });

  it('hides an INTERNAL GatewayError and its data', () => {
    const mapped = toJsonRpcError(
      new GatewayError('INTERNAL', 'stack details', { data: { secret: true } }),
      recordingLogger(),
    );

    expect(mapped).toEqual({ code: -32603, message: expect.stringMatching(REFERENCE) });
  });

  it('hides a GatewayError created with expose false', () => {
    const mapped = toJsonRpcError(
      new GatewayError('UPSTREAM_UNAVAILABLE', 'token abc refused', { expose: false }),
      recordingLogger(),
    );

    expect(mapped.message).toMatch(REFERENCE);
  });

  it('gives every hidden error its own reference', () => {
    const logger = recordingLogger();

    const first = toJsonRpcError('boom', logger).message;
    const second = toJsonRpcError('boom', logger).message;

    expect(first).not.toBe(second);
  });

  it('treats a GatewayError from another copy of the bundle as a GatewayError', () => {
    const copy = Object.assign(new Error('Unknown prompt: x'), {
      name: 'GatewayError',
      rpcCode: -32602,
      status: 200,
      expose: true,
      data: undefined,
    });

    expect(toJsonRpcError(copy, recordingLogger())).toEqual({ code: -32602, message: 'Unknown prompt: x' });
  });
});

describe('toErrorResponse', () => {
  it("answers with the exposable error's HTTP status and a JSON-RPC error body", async () => {
    const response = toErrorResponse(new GatewayError('SESSION_NOT_FOUND', 'Session not found'), 3, recordingLogger());

    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      id: 3,
      error: { code: -32001, message: 'Session not found' },
    });
  });

  it('answers 500 to an unexpected error', async () => {
    const response = toErrorResponse(new TypeError('x is undefined'), null, recordingLogger());

    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32603, message: expect.stringMatching(REFERENCE) },
    });
  });

  it('answers 500 to a hidden GatewayError whatever its status', () => {
    const error = new GatewayError('SESSION_NOT_FOUND', 'hidden', { expose: false });

    expect(toErrorResponse(error, 1, recordingLogger()).status).toBe(500);
  });

  it('adds the given headers and keeps the JSON content type', () => {
    const response = toErrorResponse(
      new GatewayError('METHOD_NOT_ALLOWED', 'GET not allowed'),
      null,
      recordingLogger(),
      {
        allow: 'POST, DELETE',
        'content-type': 'text/plain',
      },
    );

    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST, DELETE');
    expect(response.headers.get('content-type')).toBe('application/json');
  });
});

describe('rpcErrorResponse', () => {
  it('answers HTTP 200 with the JSON-RPC error, whatever the error status', async () => {
    const response = rpcErrorResponse(
      'call-1',
      new GatewayError('UPSTREAM_TIMEOUT', 'upstream weather did not answer'),
      recordingLogger(),
    );

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      id: 'call-1',
      error: { code: -32603, message: 'upstream weather did not answer' },
    });
  });
});

describe('jsonResponse', () => {
  it('answers 200 with the body as JSON by default', async () => {
    const response = jsonResponse({ ok: true });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ ok: true });
  });

  it('answers with the given status and extra headers', () => {
    const response = jsonResponse({}, 202, { 'mcp-session-id': 'abc' });

    expect(response.status).toBe(202);
    expect(response.headers.get('mcp-session-id')).toBe('abc');
    expect(response.headers.get('content-type')).toBe('application/json');
  });
});

describe('describe', () => {
  it("names an error, its message and its cause's message", () => {
    const error = new TypeError('fetch failed', { cause: new Error('ECONNREFUSED 127.0.0.1:9') });

    expect(describeError(error)).toBe('TypeError: fetch failed: ECONNREFUSED 127.0.0.1:9');
  });

  it('leaves out a cause that is not an Error', () => {
    expect(describeError(new Error('failed', { cause: 'text' }))).toBe('Error: failed');
  });

  it('turns anything else into a string', () => {
    expect(describeError(42)).toBe('42');
    expect(describeError(undefined)).toBe('undefined');
  });
});
