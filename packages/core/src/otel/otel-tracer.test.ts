import { describe, expect, it } from 'vitest';
import { attributesOf, createOtelTracer, type FinishedSpan } from './otel-tracer.ts';
import { samplerFrom } from './span-sampler.ts';

const CALLER = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function tracing(env: Record<string, string> = {}) {
  const spans: FinishedSpan[] = [];
  return { spans, tracer: createOtelTracer(samplerFrom(env), (span) => spans.push(span)) };
}

describe('the OTLP tracer', () => {
  it("continues the caller's trace and hands its own context to the next hop", () => {
    const { spans, tracer } = tracing();
    const server = tracer.server(
      'tools/call w_echo',
      { traceparent: CALLER, tracestate: 'vendor=1' },
      { 'mcp.method.name': 'tools/call' },
    );
    const client = server.client('tools/call echo', { 'server.port': 8080, 'absent.value': undefined });
    expect(server.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(client.carrier['traceparent']).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(client.carrier['tracestate']).toBe('vendor=1');
    client.fail('UPSTREAM_TIMEOUT', 'upstream slow did not answer');
    client.end();
    server.end();
    server.end();
    const [clientSpan, serverSpan] = spans;
    expect(spans).toHaveLength(2);
    expect(serverSpan).toMatchObject({ parentSpanId: '00f067aa0ba902b7', remoteParent: true, kind: 2 });
    expect(clientSpan).toMatchObject({ parentSpanId: serverSpan?.spanId, remoteParent: false, kind: 3 });
    expect(client.carrier['traceparent']).toContain(clientSpan?.spanId);
    // The same ids in bytes, where the exporter reads them: trace, span, parent.
    const ids = (span: FinishedSpan) =>
      [
        Buffer.from(span.traceBytes.subarray(span.traceAt, span.traceAt + 16)).toString('hex'),
        Buffer.from(span.spanBytes.subarray(span.spanAt, span.spanAt + 8)).toString('hex'),
        span.parentBytes && Buffer.from(span.parentBytes.subarray(span.parentAt, span.parentAt + 8)).toString('hex'),
      ] as const;
    expect(ids(serverSpan!)).toEqual(['4bf92f3577b34da6a3ce929d0e0e4736', serverSpan!.spanId, '00f067aa0ba902b7']);
    expect(ids(clientSpan!)).toEqual(['4bf92f3577b34da6a3ce929d0e0e4736', clientSpan!.spanId, serverSpan!.spanId]);
    const root = tracer.server('ping', undefined, {});
    const child = root.client('tools/list', {});
    child.end();
    root.end();
    expect(ids(spans[3]!)).toEqual([root.traceId, spans[3]!.spanId, undefined]);
    expect(ids(spans[2]!)).toEqual([root.traceId, spans[2]!.spanId, spans[3]!.spanId]);
    expect(attributesOf(clientSpan!)).toEqual({ 'server.port': 8080, 'error.type': 'UPSTREAM_TIMEOUT' });
    expect(clientSpan?.error).toEqual({ message: 'upstream slow did not answer' });
    expect(serverSpan!.endTime).toBeGreaterThanOrEqual(serverSpan!.startTime);
    expect(Math.abs(serverSpan!.startTime - Date.now())).toBeLessThan(5_000);
  });

  it('starts a new trace for a malformed traceparent, and drops a tracestate that is not a header value', () => {
    const { spans, tracer } = tracing();
    for (const traceparent of [
      '00-zz-00f067aa0ba902b7-01',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      `${CALLER}-extra`,
    ]) {
      const span = tracer.server('ping', { traceparent, tracestate: 'a=1' }, {});
      span.end();
      expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(span.traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(span.carrier['tracestate']).toBeUndefined();
    }
    expect(spans.map((span) => span.parentSpanId)).toEqual([undefined, undefined, undefined]);
    const odd = tracer.server('ping', { traceparent: CALLER, tracestate: 'a=1\r\nx-injected: 1' }, {});
    expect(odd.carrier['tracestate']).toBeUndefined();
  });

  it('follows the sampler: an unsampled caller is not recorded, its context passed on unsampled', () => {
    const { spans, tracer } = tracing();
    const span = tracer.server('ping', { traceparent: CALLER.replace(/-01$/, '-00') }, {});
    expect(span.recording).toBe(false);
    expect(span.carrier['traceparent']).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-00$/);
    span.client('x', {}).end();
    span.end();
    expect(spans).toHaveLength(0);
    const off = tracing({ OTEL_TRACES_SAMPLER: 'always_off' });
    off.tracer.server('ping', undefined, {}).end();
    expect(off.spans).toHaveLength(0);
  });

  it('samples a ratio of traces by their id, the same way on every replica', () => {
    const a = tracing({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' });
    const b = tracing({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' });
    for (let i = 0; i < 4_000; i++) {
      const traceparent = `00-${crypto.randomUUID().replaceAll('-', '')}-00f067aa0ba902b7-01`;
      a.tracer.server('ping', { traceparent }, {}).end();
      b.tracer.server('ping', { traceparent }, {}).end();
    }
    expect(a.spans.length).toBeGreaterThan(800);
    expect(a.spans.length).toBeLessThan(1_200);
    expect(b.spans.map((span) => span.traceId)).toEqual(a.spans.map((span) => span.traceId));
  });

  it('refuses a sampler the specification does not name', () => {
    expect(() => samplerFrom({ OTEL_TRACES_SAMPLER: 'jaeger_remote' })).toThrow(
      /OTEL_TRACES_SAMPLER must be one of always_on, .*not "jaeger_remote"/,
    );
  });
});
