// Traces of the broker, end to end in a real Jaeger: the built gateway exporting by OTLP (once
// over HTTP/protobuf, once over gRPC) in front of real SDK upstreams of both eras that emit their
// own spans as children of the context they were sent; the test plays the client, with a root
// span of its own. One trace must show client → gateway (server) → gateway (client) → upstream.
import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startGateway,
  startJaeger,
  startModernUpstream,
  startSdkUpstream,
  type JaegerSpan,
  type ModernUpstream,
  type RunningGateway,
  type RunningJaeger,
  type SdkUpstream,
} from '../harness/index.ts';
import { configYaml, waitFor } from '../gateway-calls/helpers.ts';
import {
  createTestTracer,
  logLines,
  modernRequest,
  onlySpan,
  openLegacySession,
  registerTracedEcho,
  registerTracedShout,
  traceparentOf,
  waitForSpans,
  type ReceivedContext,
  type TestTracer,
} from './trace-parts.ts';

interface Stack {
  jaeger: RunningJaeger;
  client: TestTracer;
  upstreamTracer: TestTracer;
  received: ReceivedContext[];
  legacy: SdkUpstream;
  modern: ModernUpstream;
  flaky: SdkUpstream;
  flakyModern: ModernUpstream;
  gateway: RunningGateway;
  stop(): Promise<void>;
}

/** Jaeger, the upstreams and the gateway, its OTEL_* environment from `otelEnv` (none: tracing off). */
async function startStack(otelEnv: (jaeger: RunningJaeger) => Record<string, string>): Promise<Stack> {
  const jaeger = await startJaeger();
  const client = createTestTracer(jaeger, 'client');
  const upstreamTracer = createTestTracer(jaeger, 'upstream');
  const received: ReceivedContext[] = [];
  const legacy = await startSdkUpstream({ setup: (s) => registerTracedEcho(s, upstreamTracer.tracer, received) });
  const flaky = await startSdkUpstream({ setup: (s) => registerTracedEcho(s, upstreamTracer.tracer, received) });
  const modern = await startModernUpstream({ setup: (s) => registerTracedShout(s, upstreamTracer.tracer, received) });
  const flakyModern = await startModernUpstream({
    setup: (s) => registerTracedShout(s, upstreamTracer.tracer, received),
  });
  const gateway = await startGateway({
    config: configYaml([
      { name: 'legacy', url: legacy.url, prefix: 'l_' },
      { name: 'modern', url: modern.url, prefix: 'm_' },
      { name: 'flaky', url: flaky.url, prefix: 'f_' },
      { name: 'flaky-modern', url: flakyModern.url, prefix: 'fm_' },
    ]),
    env: { OTEL_BSP_SCHEDULE_DELAY: '200', ...otelEnv(jaeger) },
  });
  await waitFor('every upstream ready', async () => {
    const status = (await (await fetch(`${gateway.baseUrl}/status`)).json()) as { healthyServers: number };
    return status.healthyServers === 4 ? true : undefined;
  });
  return {
    jaeger,
    client,
    upstreamTracer,
    received,
    legacy,
    modern,
    flaky,
    flakyModern,
    gateway,
    async stop() {
      await gateway.stop();
      for (const upstream of [legacy, modern, flaky, flakyModern]) await upstream.stop();
      await client.shutdown();
      await upstreamTracer.shutdown();
      await jaeger.stop();
    },
  };
}

/** A client's root span around `send`, given the span's traceparent; ended and exported after. */
async function asClient<T>(stack: Stack, name: string, send: (traceparent: string) => Promise<T>) {
  const span = stack.client.tracer.startSpan(name, { kind: SpanKind.CLIENT });
  try {
    return {
      result: await send(traceparentOf(span)),
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
    };
  } finally {
    span.end();
    await stack.client.flush();
  }
}

const gatewaySpan = (kind: 'server' | 'client') => (s: JaegerSpan) => s.service === 'mcp-gateway' && s.kind === kind;
/** The gateway's client span of the call itself (a first call also opens a backend session, `initialize`). */
const callExchange = (s: JaegerSpan) => gatewaySpan('client')(s) && s.name.startsWith('tools/call');
/** Whether a call's trace holds the gateway's server and call spans and the upstream's (and the client's, when `client`). */
const complete =
  (client = true) =>
  (spans: readonly JaegerSpan[]) =>
    spans.some(gatewaySpan('server')) &&
    spans.some(callExchange) &&
    spans.some((s) => s.service === 'upstream') &&
    (!client || spans.some((s) => s.service === 'client'));

let nextId = 1;
const callTool = (name: string, extra: Record<string, unknown> = {}) => ({
  id: nextId++,
  method: 'tools/call',
  params: { name, arguments: { text: 'hi' }, ...extra },
});

const PROTOCOLS = [
  { protocol: 'http/protobuf', env: (j: RunningJaeger) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: j.otlpHttpUrl }) },
  {
    protocol: 'grpc',
    env: (j: RunningJaeger) => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://${j.otlpGrpcAddress}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    }),
  },
] as const;

describe.each(PROTOCOLS)('a broker exporting traces by OTLP $protocol', ({ env }) => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack(env);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('shows a legacy client call as one trace: client, gateway server and client spans, upstream', async () => {
    const session = await openLegacySession(stack.gateway.url);
    const call = callTool('l_echo');
    const { result, traceId, spanId } = await asClient(stack, 'call echo', (traceparent) =>
      session.request(call, { traceparent }),
    );
    expect(result.message?.result).toMatchObject({ content: [{ type: 'text', text: 'hi' }] });
    const { spans } = await waitForSpans(stack.jaeger, traceId, complete());

    const server = onlySpan(spans, gatewaySpan('server'));
    expect(server.name).toBe('tools/call l_echo');
    expect(server.parentSpanId).toBe(spanId);
    expect(server.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'mcp.session.id': session.jti,
      'mcp.protocol.version': '2025-11-25',
      'gen_ai.tool.name': 'l_echo',
      'gen_ai.operation.name': 'execute_tool',
      'jsonrpc.request.id': String(call.id),
      'mcp.server': 'legacy',
    });
    expect(server.status.code).not.toBe('error');

    const exchange = onlySpan(spans, callExchange);
    expect(exchange.name).toBe('tools/call echo');
    expect(exchange.parentSpanId).toBe(server.spanId);
    expect(exchange.attributes).toMatchObject({
      'server.address': '127.0.0.1',
      'server.port': stack.legacy.port,
      'gen_ai.tool.name': 'echo',
    });
    // The session's first call to the upstream opened its backend session: that exchange too.
    const opened = onlySpan(spans, (s) => gatewaySpan('client')(s) && s.name === 'initialize');
    expect(opened.parentSpanId).toBe(server.spanId);
    expect(opened.attributes).toMatchObject({ 'server.port': stack.legacy.port });

    const upstream = onlySpan(spans, (s) => s.service === 'upstream');
    expect(upstream.parentSpanId).toBe(exchange.spanId);
    const seen = stack.received.find((r) => r.traceId === traceId);
    expect(seen?.header).toBe(`00-${traceId}-${exchange.spanId}-01`);
    expect(seen?.meta).toBe(seen?.header);
    expect(spans).toHaveLength(5);
  });

  it('shows a 2026-07-28 client call to a 2026-07-28 upstream as one trace', async () => {
    const call = callTool('m_shout');
    const { result, traceId, spanId } = await asClient(stack, 'call shout', (traceparent) =>
      modernRequest(stack.gateway.url, call, { traceparent }),
    );
    expect(result.message?.result).toMatchObject({ content: [{ type: 'text', text: 'HI' }] });
    const { spans } = await waitForSpans(stack.jaeger, traceId, complete());
    const server = onlySpan(spans, gatewaySpan('server'));
    expect(server.name).toBe('tools/call m_shout');
    expect(server.parentSpanId).toBe(spanId);
    expect(server.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'mcp.protocol.version': '2026-07-28',
      'gen_ai.tool.name': 'm_shout',
      'jsonrpc.request.id': String(call.id),
    });
    const exchange = onlySpan(spans, callExchange);
    expect(exchange.name).toBe('tools/call shout');
    expect(exchange.parentSpanId).toBe(server.spanId);
    expect(exchange.attributes['server.port']).toBe(Number(new URL(stack.modern.url).port));
    const upstream = onlySpan(spans, (s) => s.service === 'upstream');
    expect(upstream.parentSpanId).toBe(exchange.spanId);
    const seen = stack.received.find((r) => r.traceId === traceId);
    expect(seen?.meta).toBe(seen?.header);
  });

  it('shows a 2026-07-28 client call to a legacy upstream as one trace', async () => {
    const { traceId, spanId } = await asClient(stack, 'call echo', (traceparent) =>
      modernRequest(stack.gateway.url, callTool('l_echo'), { traceparent }),
    );
    const { spans } = await waitForSpans(stack.jaeger, traceId, complete());
    const server = onlySpan(spans, gatewaySpan('server'));
    expect(server.parentSpanId).toBe(spanId);
    const exchange = onlySpan(spans, callExchange);
    expect(exchange.parentSpanId).toBe(server.spanId);
    expect(onlySpan(spans, (s) => s.service === 'upstream').parentSpanId).toBe(exchange.spanId);
  });

  it('continues a trace the client put in params._meta only', async () => {
    const session = await openLegacySession(stack.gateway.url);
    const { traceId, spanId } = await asClient(stack, 'call echo', (traceparent) =>
      session.request(callTool('l_echo', { _meta: { traceparent } })),
    );
    const { spans } = await waitForSpans(stack.jaeger, traceId, complete());
    expect(onlySpan(spans, gatewaySpan('server')).parentSpanId).toBe(spanId);
    const exchange = onlySpan(spans, callExchange);
    const seen = stack.received.find((r) => r.traceId === traceId);
    expect(seen?.meta).toBe(`00-${traceId}-${exchange.spanId}-01`);
    expect(seen?.header).toBe(seen?.meta);
  });

  it.each([
    ['not hex', `00-${'z'.repeat(32)}-${'1'.repeat(16)}-01`],
    ['too long', `00-${'a'.repeat(32)}-${'1'.repeat(16)}-01-${'f'.repeat(200)}`],
    ['all zeros', `00-${'0'.repeat(32)}-${'0'.repeat(16)}-01`],
  ])('starts a fresh trace for a malformed traceparent (%s)', async (_what, traceparent) => {
    const session = await openLegacySession(stack.gateway.url);
    const before = stack.received.length;
    const answer = await session.request(callTool('l_echo'), { traceparent, tracestate: 'client=stale' });
    expect(answer.message?.result).toMatchObject({ content: [{ type: 'text', text: 'hi' }] });
    const seen = stack.received.slice(before).find((r) => r.tool === 'echo');
    expect(seen?.header).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(seen?.header).not.toBe(traceparent);
    // W3C: a tracestate goes with the traceparent it came with, never onto a fresh trace.
    const sent = stack.legacy.requests.find((r) => r.headers['traceparent'] === seen?.header);
    expect(sent?.headers['tracestate']).toBeUndefined();
    const { spans } = await waitForSpans(stack.jaeger, seen?.traceId ?? '', complete(false));
    const server = onlySpan(spans, gatewaySpan('server'));
    expect(server.parentSpanId).toBeUndefined();
    expect(server.traceId).not.toBe('0'.repeat(32));
    expect((await fetch(`${stack.gateway.baseUrl}/healthz`)).status).toBe(200);
  });

  it('marks a call to an upstream that is down failed, client and server span, and logs it once at warn', async () => {
    // Open a backend session on each flaky upstream first, then stop both.
    const warm = await openLegacySession(stack.gateway.url);
    expect((await warm.request(callTool('f_echo'))).message?.result).toBeDefined();
    await stack.flaky.stop();
    await stack.flakyModern.stop();
    const fresh = await openLegacySession(stack.gateway.url);
    const cases = [
      {
        what: 'legacy client, backend session open',
        send: (tp: string) => warm.request(callTool('f_echo'), { traceparent: tp }),
      },
      {
        what: 'legacy client, no backend session yet',
        send: (tp: string) => fresh.request(callTool('f_echo'), { traceparent: tp }),
      },
      {
        what: '2026-07-28 client, legacy upstream',
        send: (tp: string) => modernRequest(stack.gateway.url, callTool('f_echo'), { traceparent: tp }),
      },
      {
        what: '2026-07-28 client, 2026-07-28 upstream',
        send: (tp: string) => modernRequest(stack.gateway.url, callTool('fm_shout'), { traceparent: tp }),
      },
    ];
    for (const { what, send } of cases) {
      const { result, traceId } = await asClient(stack, `down: ${what}`, send);
      expect(result.message?.error, what).toBeDefined();
      const { spans } = await waitForSpans(stack.jaeger, traceId, (s) => s.some(gatewaySpan('server')));
      const server = onlySpan(spans, gatewaySpan('server'));
      expect([what, server.status.code, server.attributes['error.type']]).toEqual([
        what,
        'error',
        'UPSTREAM_UNAVAILABLE',
      ]);
      const exchange = onlySpan(spans, gatewaySpan('client'));
      expect([what, exchange.status.code, exchange.attributes['error.type']]).toEqual([
        what,
        'error',
        'UPSTREAM_UNAVAILABLE',
      ]);
      expect(exchange.parentSpanId).toBe(server.spanId);
      const warned = await waitFor(`${what}: a warn line`, () => {
        const lines = logLines(stack.gateway.logs()).filter((l) => l['trace_id'] === traceId && l['level'] === 'warn');
        return lines.length > 0 ? lines : undefined;
      });
      expect(warned.map((l) => l['msg'])).toEqual(['call failed']);
      expect(warned[0]).toMatchObject({ error: 'UPSTREAM_UNAVAILABLE' });
    }
  });
});

describe('a broker with tracing off', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack(() => ({}));
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('passes the client traceparent on unchanged and logs a failed call with its trace id, exporting nothing', async () => {
    const session = await openLegacySession(stack.gateway.url);
    const { traceId, spanId } = await asClient(stack, 'call echo', (traceparent) =>
      session.request(callTool('l_echo'), { traceparent }),
    );
    const seen = stack.received.find((r) => r.traceId === traceId);
    expect(seen?.header).toBe(`00-${traceId}-${spanId}-01`);
    await stack.flaky.stop();
    const failed = await asClient(stack, 'call down', (traceparent) =>
      session.request(callTool('f_echo'), { traceparent }),
    );
    const warned = await waitFor('a warn line', () => {
      const lines = logLines(stack.gateway.logs()).filter((l) => l['trace_id'] === failed.traceId);
      return lines.length > 0 ? lines : undefined;
    });
    expect(warned.map((l) => [l['level'], l['msg']])).toEqual([['warn', 'call failed']]);
    // The client's and the upstream's spans arrived; nothing came from the gateway.
    await waitForSpans(stack.jaeger, traceId, (s) => s.length === 2);
    expect((await stack.jaeger.services()).sort()).toEqual(['client', 'upstream']);
  });
});
