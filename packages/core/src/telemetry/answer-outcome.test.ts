import { describe, expect, it } from 'vitest';
import { answerOutcome } from './answer-outcome.ts';

describe('answerOutcome', () => {
  it('judges a result ok, a tool failure tool_error, and a JSON-RPC error by its code', () => {
    expect(answerOutcome({ jsonrpc: '2.0', id: 1, result: { content: [] } })).toEqual({ outcome: 'ok' });
    expect(answerOutcome({ id: 1, result: { content: [], isError: true } })).toEqual({
      outcome: 'tool_error',
      errorType: 'tool_error',
    });
    expect(answerOutcome({ id: 1, error: { code: -32602, message: 'no such tool' } })).toEqual({
      outcome: 'error',
      errorType: '-32602',
      code: -32602,
    });
    expect(answerOutcome({ id: 1, error: { message: 'no code' } })).toEqual({
      outcome: 'error',
      errorType: 'jsonrpc_error',
    });
  });
});
