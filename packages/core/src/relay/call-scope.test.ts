import { describe, expect, it } from 'vitest';
import { createCallScope, progressTokenOf } from './call-scope.ts';

const scope = (params: unknown = { _meta: { progressToken: 'tok' } }) => createCallScope({ requestId: 7, params });
const kinds = (verdicts: { kind: string }[]) => verdicts.map((v) => v.kind);

describe('createCallScope', () => {
  it("takes only the response carrying the forwarded id as the call's answer", () => {
    const call = scope();
    const answers = [
      { jsonrpc: '2.0', id: 7, result: {} },
      { jsonrpc: '2.0', id: 7, error: { code: -1, message: 'no' } },
      { jsonrpc: '2.0', id: 8, result: {} },
      { jsonrpc: '2.0', id: '7', result: {} },
      { jsonrpc: '2.0', id: 7 },
    ];

    expect(kinds(answers.map((m) => call.judge(m)))).toEqual(['answer', 'answer', 'drop', 'drop', 'drop']);
  });

  it("passes progress with the call's own token and log messages, and drops other notifications", () => {
    const call = scope();
    const notes = [
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'tok', progress: 1 } },
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'other', progress: 1 } },
      { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } },
      { jsonrpc: '2.0', method: 'notifications/tools/list_changed' },
      { jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'x://y' } },
      { jsonrpc: '2.0', method: 'toString' },
    ];

    expect(kinds(notes.map((m) => call.judge(m)))).toEqual([
      'notification',
      'drop',
      'notification',
      'drop',
      'drop',
      'drop',
    ]);
  });

  it('drops all progress of a call that named no progress token', () => {
    const call = scope({});

    expect(call.judge({ jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 1 } }).kind).toBe('drop');
  });

  it('sends requests from the upstream on as server requests', () => {
    expect(scope().judge({ jsonrpc: '2.0', id: 1, method: 'elicitation/create', params: {} }).kind).toBe(
      'server-request',
    );
  });

  it('maps the cancellation of a request asked on this call to its gateway id, and drops any other', () => {
    const call = scope();
    call.noteServerRequest({ jsonrpc: '2.0', id: 3, method: 'sampling/createMessage' }, 'gw-3');

    expect(call.judge({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3 } })).toEqual({
      kind: 'notification',
      message: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'gw-3' } },
    });
    expect(call.judge({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: '3' } }).kind).toBe(
      'drop',
    );
    expect(call.judge({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7 } }).kind).toBe(
      'drop',
    );
  });

  it('passes the completion of a URL elicitation asked on this call only', () => {
    const call = scope();
    const complete = (id: string) => ({
      jsonrpc: '2.0',
      method: 'notifications/elicitation/complete',
      params: { elicitationId: id },
    });
    call.noteServerRequest(
      { jsonrpc: '2.0', id: 4, method: 'elicitation/create', params: { elicitationId: 'e1' } },
      'g',
    );

    expect(call.judge(complete('e1')).kind).toBe('notification');
    expect(call.judge(complete('e2')).kind).toBe('drop');
  });

  it('logs the first ten drops of a call', () => {
    const call = scope();

    expect(Array.from({ length: 12 }, () => call.countDrop())).toEqual([...Array(10).fill(true), false, false]);
  });
});

describe('progressTokenOf', () => {
  it('reads a string or number token from params._meta only', () => {
    expect(progressTokenOf({ _meta: { progressToken: 'a' } })).toBe('a');
    expect(progressTokenOf({ _meta: { progressToken: 3 } })).toBe(3);
    expect(progressTokenOf({ _meta: { progressToken: { x: 1 } } })).toBeUndefined();
    expect(progressTokenOf({ progressToken: 'a' })).toBeUndefined();
    expect(progressTokenOf(undefined)).toBeUndefined();
  });
});
