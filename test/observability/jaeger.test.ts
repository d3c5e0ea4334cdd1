// The Jaeger harness against the real Jaeger that .ci/provision-observability builds, fed by the
// official OpenTelemetry JS SDK exporting over OTLP/HTTP (another implementation than the gateway's own exporter).
// The spans are made here, shaped like the client → gateway → upstream trace: two
// services, a parent in one and its children in the other, so the links cross a process boundary
// the way a W3C traceparent carries them. The client's exporter is given Jaeger's URL, the
// gateway's finds it in OTEL_EXPORTER_OTLP_ENDPOINT.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type SpanContext } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPTraceGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJaeger, type JaegerSpan, type RunningJaeger } from '../harness/index.ts';

/**
 * A tracer provider for `service` exporting each span as it ends to Jaeger's OTLP/HTTP receiver,
 * named by the exporter's `url` option or, as the gateway is configured, by the standard
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (which the exporter reads when it is made).
 */
function providerFor(jaeger: RunningJaeger, service: string, endpointFrom: 'option' | 'env'): TracerProvider {
  let exporter: OTLPTraceExporter;
  if (endpointFrom === 'option') {
    exporter = new OTLPTraceExporter({ url: `${jaeger.otlpHttpUrl}/v1/traces` });
  } else {
    process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = jaeger.otlpHttpUrl;
    try {
      exporter = new OTLPTraceExporter();
    } finally {
      delete process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
    }
  }
  return new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
}

/** The context a span's children start in, as a traceparent carries it to another process. */
function remoteParent(span: Span) {
  const { traceId, spanId, traceFlags }: SpanContext = span.spanContext();
  return trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags, isRemote: true });
}

function byName(spans: readonly JaegerSpan[], name: string): JaegerSpan {
  const span = spans.find((s) => s.name === name);
  if (span === undefined) throw new Error(`no span ${name} in ${spans.map((s) => s.name).join(', ')}`);
  return span;
}

describe('a real Jaeger started by the harness', () => {
  let jaeger: RunningJaeger;
  let traceId: string;

  beforeAll(async () => {
    jaeger = await startJaeger();
    const client = providerFor(jaeger, 'probe-client', 'option');
    const gateway = providerFor(jaeger, 'probe-gateway', 'env');
    try {
      const call = client.getTracer('probe').startSpan('tools/call echo', { kind: SpanKind.CLIENT });
      traceId = call.spanContext().traceId;
      const tracer = gateway.getTracer('probe-gateway', '0.1.0');
      const served = tracer.startSpan(
        'tools/call echo',
        {
          kind: SpanKind.SERVER,
          attributes: {
            'mcp.method.name': 'tools/call',
            'gen_ai.tool.name': 'echo',
            'mcp.session.id': 'jti-1',
            'server.port': 8080,
            'probe.cached': false,
            'probe.tags': ['a', 'b'],
          },
        },
        remoteParent(call),
      );
      const upstream = tracer.startSpan(
        'tools/call',
        { kind: SpanKind.CLIENT, attributes: { 'server.address': 'upstream.test', 'error.type': 'timeout' } },
        trace.setSpan(ROOT_CONTEXT, served),
      );
      upstream.addEvent('retry', { attempt: 2 });
      upstream.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream timed out' });
      upstream.end();
      served.end();
      call.end();
      await Promise.all([client.forceFlush(), gateway.forceFlush()]);
    } finally {
      await Promise.all([client.shutdown(), gateway.shutdown()]);
    }
  });

  afterAll(async () => {
    await jaeger?.stop();
  });

  it('returns a trace the OpenTelemetry SDK exported, with every span of both services', async () => {
    const found = await jaeger.waitForTrace((t) => t.traceId === traceId && t.spans.length === 3);
    expect(found.spans.map((s) => [s.service, s.name, s.kind]).sort()).toEqual([
      ['probe-client', 'tools/call echo', 'client'],
      ['probe-gateway', 'tools/call echo', 'server'],
      ['probe-gateway', 'tools/call', 'client'],
    ]);
  });

  it('links each span to its parent, across the two services', async () => {
    const { spans } = await jaeger.waitForTrace((t) => t.traceId === traceId && t.spans.length === 3);
    const call = byName(
      spans.filter((s) => s.service === 'probe-client'),
      'tools/call echo',
    );
    const served = byName(
      spans.filter((s) => s.service === 'probe-gateway'),
      'tools/call echo',
    );
    const upstream = byName(spans, 'tools/call');
    expect(call.parentSpanId).toBeUndefined();
    expect(served.parentSpanId).toBe(call.spanId);
    expect(upstream.parentSpanId).toBe(served.spanId);
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([traceId]));
  });

  it('keeps attributes with their types, the status, events and the resource', async () => {
    const { spans } = await jaeger.waitForTrace((t) => t.traceId === traceId && t.spans.length === 3);
    const served = byName(
      spans.filter((s) => s.kind === 'server'),
      'tools/call echo',
    );
    expect(served.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'echo',
      'mcp.session.id': 'jti-1',
      'server.port': 8080,
      'probe.cached': false,
      'probe.tags': ['a', 'b'],
    });
    expect(served.scope).toBe('probe-gateway');
    expect(served.resource['service.name']).toBe('probe-gateway');
    const upstream = byName(spans, 'tools/call');
    expect(upstream.attributes).toMatchObject({ 'server.address': 'upstream.test', 'error.type': 'timeout' });
    expect(upstream.status).toEqual({ code: 'error', message: 'upstream timed out' });
    expect(upstream.events).toEqual([{ name: 'retry', attributes: { attempt: 2 } }]);
  });

  it('finds the trace by service and operation, and by its id', async () => {
    await jaeger.waitForTrace((t) => t.traceId === traceId && t.spans.length === 3);
    expect(await jaeger.services()).toEqual(expect.arrayContaining(['probe-client', 'probe-gateway']));
    const byOperation = await jaeger.traces('probe-gateway', { operation: 'tools/call' });
    expect(byOperation.map((t) => t.traceId)).toEqual([traceId]);
    expect(await jaeger.traces('probe-gateway', { operation: 'no such operation' })).toEqual([]);
    expect((await jaeger.trace(traceId))?.spans).toHaveLength(3);
    expect(await jaeger.trace('0123456789abcdef0123456789abcdef')).toBeUndefined();
  });
});

describe('startJaeger', () => {
  it('receives OTLP over gRPC too, on otlpGrpcAddress', async () => {
    const jaeger = await startJaeger();
    // Plaintext gRPC: an http:// URL tells the exporter not to use TLS.
    const exporter = new OTLPTraceGrpcExporter({ url: `http://${jaeger.otlpGrpcAddress}` });
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'probe-grpc' }),
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    try {
      const span = provider.getTracer('probe').startSpan('over grpc', { attributes: { 'probe.port': 4317 } });
      span.end();
      await provider.forceFlush();
      const found = await jaeger.waitForTrace((t) => t.traceId === span.spanContext().traceId);
      expect(found.spans.map((s) => [s.service, s.name, s.attributes['probe.port']])).toEqual([
        ['probe-grpc', 'over grpc', 4317],
      ]);
    } finally {
      await provider.shutdown();
      await jaeger.stop();
    }
  });

  it('runs two Jaegers side by side, so no component binds a fixed port', async () => {
    const [first, second] = await Promise.all([startJaeger(), startJaeger()]);
    try {
      const ports = [first, second].flatMap((j) => [j.otlpHttpUrl, j.otlpGrpcAddress, j.queryUrl]);
      expect(new Set(ports).size).toBe(6);
      expect(await Promise.all([first.services(), second.services()])).toEqual([[], []]);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });
});
