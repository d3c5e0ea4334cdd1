import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { createOtelTracer } from './otel-tracer.ts';

const CALLER = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function tracing() {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
    spanLimits: { attributeValueLengthLimit: 16 },
  });
  return { exporter, provider, tracer: createOtelTracer(provider.getTracer('test')) };
}

describe('the OpenTelemetry tracer', () => {
  it("continues the caller's trace and hands its own context to the next hop", async () => {
    const { exporter, provider, tracer } = tracing();
    const server = tracer.server('tools/call w_echo', { traceparent: CALLER }, { 'mcp.method.name': 'tools/call' });
    const client = server.client('tools/call echo', { 'server.port': 8080, 'absent.value': undefined });
    expect(server.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(client.carrier['traceparent']).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    client.fail('UPSTREAM_TIMEOUT', 'upstream slow did not answer');
    client.end();
    server.end();
    await provider.forceFlush();
    const [clientSpan, serverSpan] = exporter.getFinishedSpans();
    expect(serverSpan?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(clientSpan?.parentSpanContext?.spanId).toBe(serverSpan?.spanContext().spanId);
    expect(client.carrier['traceparent']).toContain(clientSpan?.spanContext().spanId);
    expect(clientSpan?.attributes).toEqual({ 'server.port': 8080, 'error.type': 'UPSTREAM_TIMEOUT' });
    expect(clientSpan?.status).toEqual({ code: 2, message: 'upstream slow did not answer' });
  });

  it('starts a new trace for a malformed traceparent', async () => {
    const { exporter, provider, tracer } = tracing();
    const span = tracer.server('ping', { traceparent: '00-zz-00f067aa0ba902b7-01' }, {});
    span.end();
    await provider.forceFlush();
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(exporter.getFinishedSpans()[0]?.parentSpanContext).toBeUndefined();
  });

  it('keeps attribute values within the configured limit', async () => {
    const { exporter, provider, tracer } = tracing();
    tracer.server('tools/call', undefined, { 'jsonrpc.request.id': 'x'.repeat(10_000) }).end();
    await provider.forceFlush();
    expect(exporter.getFinishedSpans()[0]?.attributes['jsonrpc.request.id']).toBe('x'.repeat(16));
  });
});
