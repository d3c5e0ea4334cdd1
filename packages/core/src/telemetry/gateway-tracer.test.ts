import { describe, expect, it } from 'vitest';
import { metaCarrier, NO_SPAN, NO_TRACER, traceIdOf, withTraceHeaders, withTraceMeta } from './gateway-tracer.ts';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('traceIdOf', () => {
  it('reads the trace id of a valid version-00 traceparent', () => {
    expect(traceIdOf(VALID)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it.each([
    ['all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['all-zero span id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
    ['upper-case hex', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01'],
    ['another version', '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['too long', `${VALID}-extra`],
    ['not hex', '00-zzzz2f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['empty', ''],
  ])('refuses a traceparent with %s', (_what, value) => {
    expect(traceIdOf(value)).toBeUndefined();
  });
});

describe('NO_TRACER', () => {
  it('records nothing and has no trace for a request without one', () => {
    const span = NO_TRACER.server('tools/call', undefined, {});
    expect(span).toBe(NO_SPAN);
    expect(span.carrier).toEqual({});
  });

  it("passes a caller's valid context on unchanged, and its trace id to the logs", () => {
    const span = NO_TRACER.server('tools/call', { traceparent: VALID, tracestate: 'vendor=a1' }, {});
    expect(span.recording).toBe(false);
    expect(span.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(span.carrier).toEqual({ traceparent: VALID, tracestate: 'vendor=a1' });
    expect(span.client('x', {}).carrier).toEqual(span.carrier);
  });

  it('passes on no tracestate that is not a valid header value', () => {
    const span = NO_TRACER.server('tools/call', { traceparent: VALID, tracestate: 'a=1\r\nx-injected: 1' }, {});
    expect(span.carrier).toEqual({ traceparent: VALID });
  });

  it('drops a malformed traceparent', () => {
    expect(NO_TRACER.server('ping', { traceparent: '00-abc-def-01' }, {})).toBe(NO_SPAN);
  });
});

describe('trace context in params._meta', () => {
  it('is read from a request that carries one', () => {
    expect(metaCarrier({ _meta: { traceparent: VALID, tracestate: 's=1' } })).toEqual({
      traceparent: VALID,
      tracestate: 's=1',
    });
    expect(metaCarrier({ _meta: { traceparent: 7 } })).toBeUndefined();
    expect(metaCarrier(undefined)).toBeUndefined();
  });

  it("replaces the caller's context and keeps its other _meta fields, without touching the original", () => {
    const params = { name: 'echo', _meta: { progressToken: 3, traceparent: 'old', tracestate: 'old=1' } };
    const next = withTraceMeta(params, { traceparent: VALID });
    expect(next).toEqual({ name: 'echo', _meta: { progressToken: 3, traceparent: VALID } });
    expect(params._meta.traceparent).toBe('old');
    expect(withTraceMeta(params, {})).toBe(params);
    expect(withTraceMeta(undefined, { traceparent: VALID })).toEqual({ _meta: { traceparent: VALID } });
  });
});

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
