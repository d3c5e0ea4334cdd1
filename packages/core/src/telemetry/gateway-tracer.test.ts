import { describe, expect, it } from 'vitest';
import { withTraceHeaders } from './gateway-tracer.ts';

const CLIENT = { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, tracestate: 'client=1', accept: '*/*' };
const SPAN = `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01`;

describe('withTraceHeaders', () => {
  it("replaces the caller's traceparent and drops its tracestate when the span carries none", () => {
    expect(withTraceHeaders(CLIENT, { traceparent: SPAN })).toEqual({ traceparent: SPAN, accept: '*/*' });
  });

  it("sends the span's tracestate when it carries one", () => {
    expect(withTraceHeaders(CLIENT, { traceparent: SPAN, tracestate: 'gw=2' })).toEqual({
      traceparent: SPAN,
      tracestate: 'gw=2',
      accept: '*/*',
    });
  });

  it("leaves the caller's headers as they are when the span carries no context", () => {
    expect(withTraceHeaders(CLIENT, {})).toBe(CLIENT);
  });
});
