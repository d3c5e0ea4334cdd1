// A call routed by a real Envoy, traced end to end in a real Jaeger: Envoy's OpenTelemetry tracer
// exports by OTLP/gRPC, the gateway (broker and router in one process) by OTLP/HTTP, the upstreams
// and the client with the OpenTelemetry SDK. The call goes client → Envoy → (ext_proc) router →
// Envoy → upstream, never through the broker, and its trace holds every hop.
import { SpanKind, type Span } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExtProcStack, SERVER1_REQUESTS, envoyStat, type ExtProcStack } from '../envoy/extproc-stack.ts';
import { startJaeger, type JaegerSpan, type RunningJaeger } from '../harness/index.ts';
import { waitFor } from '../gateway-calls/helpers.ts';
import {
  createTestTracer,
  logLines,
  onlySpan,
  openLegacySession,
  registerTracedEcho,
  traceparentOf,
  waitForSpans,
  type ReceivedContext,
  type TestTracer,
} from './trace-parts.ts';

/**
 * The bootstrap with Envoy's OpenTelemetry tracer on the listener, exporting to Jaeger's OTLP/gRPC
 * receiver (a cluster speaking HTTP/2), and flushing every span at once (runtime keys: by default
 * it waits for 5 spans or 5 s).
 */
function withTracing(yaml: string, jaeger: RunningJaeger): string {
  const [host, port] = jaeger.otlpGrpcAddress.split(':');
  const tracing = `                stat_prefix: mcp
                tracing:
                  provider:
                    name: envoy.tracers.opentelemetry
                    typed_config:
                      '@type': type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig
                      grpc_service: { envoy_grpc: { cluster_name: jaeger_otlp }, timeout: 2s }
                      service_name: envoy
`;
  const cluster = `    - name: jaeger_otlp
      type: STATIC
      connect_timeout: 1s
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          '@type': type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config: { http2_protocol_options: {} }
      load_assignment:
        cluster_name: jaeger_otlp
        endpoints:
          - lb_endpoints:
              - endpoint: { address: { socket_address: { address: ${host}, port_value: ${port} } } }
`;
  const runtime = `layered_runtime:
  layers:
    - name: tracing
      static_layer:
        tracing.opentelemetry.min_flush_spans: 1
        tracing.opentelemetry.flush_interval_ms: 100
`;
  const traced = yaml.replace(/^ {16}stat_prefix: mcp\n/m, tracing);
  if (traced === yaml) throw new Error('withTracing: no stat_prefix in the bootstrap');
  return `${runtime}${traced.trimEnd()}\n${cluster}`;
}

interface TracedStack {
  readonly jaeger: RunningJaeger;
  readonly client: TestTracer;
  readonly received: ReceivedContext[];
  readonly stack: ExtProcStack;
  stop(): Promise<void>;
}

/** Jaeger, the ext_proc stack with traced upstreams and the gateway exporting; Envoy traces when `envoyTraces`. */
async function startTracedStack(envoyTraces: boolean): Promise<TracedStack> {
  const jaeger = await startJaeger();
  const client = createTestTracer(jaeger, 'client');
  const upstreamTracer = createTestTracer(jaeger, 'upstream');
  const received: ReceivedContext[] = [];
  const stack = await startExtProcStack({
    setup: (server) => registerTracedEcho(server, upstreamTracer.tracer, received),
    gatewayEnv: { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpHttpUrl, OTEL_BSP_SCHEDULE_DELAY: '200' },
    ...(envoyTraces && { editBootstrap: (yaml: string) => withTracing(yaml, jaeger) }),
  });
  return {
    jaeger,
    client,
    received,
    stack,
    async stop() {
      await stack.stop();
      await client.shutdown();
      await upstreamTracer.shutdown();
      await jaeger.stop();
    },
  };
}

/** A routed tools/call through Envoy on a new session, inside a client span; the call's trace once it holds `ready`. */
async function routedCall(
  traced: TracedStack,
  ready: (spans: readonly JaegerSpan[]) => boolean,
  headers: (span: Span) => Record<string, string> = (span) => ({ traceparent: traceparentOf(span) }),
) {
  const { stack, client, jaeger } = traced;
  const session = await openLegacySession(stack.mcpUrl);
  const routedBefore = await envoyStat(stack.envoy, SERVER1_REQUESTS);
  const span = client.tracer.startSpan('call echo', { kind: SpanKind.CLIENT });
  const answer = await session.request(
    { id: 7, method: 'tools/call', params: { name: 's1_echo', arguments: { text: 'routed' } } },
    headers(span),
  );
  span.end();
  await client.flush();
  expect(answer.message?.result).toMatchObject({ content: [{ type: 'text', text: 'routed' }] });
  // Envoy sent the call to the upstream's cluster: the router routed it, the broker never saw it.
  expect(await envoyStat(stack.envoy, SERVER1_REQUESTS)).toBe(routedBefore + 1);
  const { traceId, spanId } = span.spanContext();
  const { spans } = await waitForSpans(jaeger, traceId, ready);
  const seen = traced.received.find((r) => r.traceId === traceId);
  return { session, traceId, clientSpanId: spanId, spans, seen };
}

const isRouter = (s: JaegerSpan) => s.service === 'mcp-gateway' && s.attributes['mcp.route'] === 'router';
const isUpstream = (s: JaegerSpan) => s.service === 'upstream';

describe('a call routed by a real Envoy that traces', () => {
  let traced: TracedStack;

  beforeAll(async () => {
    traced = await startTracedStack(true);
  });

  afterAll(async () => {
    await traced?.stop();
  });

  it('shows client, Envoy, the router and the upstream in one trace', async () => {
    const { session, traceId, clientSpanId, spans, seen } = await routedCall(
      traced,
      (all) => all.some(isRouter) && all.some(isUpstream) && all.filter((s) => s.service === 'envoy').length >= 2,
    );
    const ingress = onlySpan(spans, (s) => s.service === 'envoy' && s.kind === 'server');
    expect(ingress.parentSpanId).toBe(clientSpanId);
    // Envoy passes its context to the processor in the ext_proc call's gRPC metadata (traceparent),
    // as a child span of the ingress for that call: the router's span is its child.
    const extProc = onlySpan(spans, (s) => s.service === 'envoy' && s.kind === 'client');
    expect(extProc.name).toBe('async envoy.service.ext_proc.v3.ExternalProcessor.Process egress');
    expect(extProc.parentSpanId).toBe(ingress.spanId);
    const router = onlySpan(spans, isRouter);
    expect(router.parentSpanId).toBe(extProc.spanId);
    expect(router).toMatchObject({ name: 'tools/call s1_echo', kind: 'server' });
    expect(router.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'mcp.session.id': session.jti,
      'gen_ai.tool.name': 's1_echo',
      'jsonrpc.request.id': '7',
      'mcp.server': 'server1',
    });
    // The router opened the session's backend session on server1 itself: an exchange of the call.
    const opened = onlySpan(spans, (s) => s.service === 'mcp-gateway' && s.kind === 'client');
    expect(opened).toMatchObject({ name: 'initialize', parentSpanId: router.spanId });
    expect(opened.attributes).toMatchObject({ 'server.port': traced.stack.upstreams[0].port });
    // The broker served none of it.
    expect(spans.filter((s) => s.service === 'mcp-gateway' && !isRouter(s) && s !== opened)).toEqual([]);
    // The router puts its context in params._meta and the traceparent header; Envoy's router filter
    // then writes its own span's context over the header, so the upstream's HTTP parent is Envoy's
    // ingress span and its MCP parent (_meta) the router's: both in the one trace.
    expect(seen?.meta).toBe(`00-${traceId}-${router.spanId}-01`);
    expect(seen?.header).toBe(`00-${traceId}-${ingress.spanId}-01`);
    expect(onlySpan(spans, isUpstream).parentSpanId).toBe(ingress.spanId);
  });
});

describe('a call routed by a real Envoy that does not trace', () => {
  let traced: TracedStack;

  beforeAll(async () => {
    traced = await startTracedStack(false);
  });

  afterAll(async () => {
    await traced?.stop();
  });

  it("continues the client's trace in the router and passes the router's context to the upstream", async () => {
    const { traceId, clientSpanId, spans, seen } = await routedCall(
      traced,
      (all) => all.some(isRouter) && all.some(isUpstream) && all.length >= 4,
    );
    const router = onlySpan(spans, isRouter);
    expect(router.parentSpanId).toBe(clientSpanId);
    expect(seen?.header).toBe(`00-${traceId}-${router.spanId}-01`);
    expect(seen?.meta).toBe(seen?.header);
    expect(onlySpan(spans, isUpstream).parentSpanId).toBe(router.spanId);
    expect(spans.map((s) => `${s.service} ${s.name}`).sort()).toEqual([
      'client call echo',
      'mcp-gateway initialize',
      'mcp-gateway tools/call s1_echo',
      'upstream tools/call echo',
    ]);
  });

  it("starts a fresh trace in the router for a malformed traceparent, without the client's tracestate", async () => {
    const malformed = `00-${'z'.repeat(32)}-${'1'.repeat(16)}-01`;
    const before = traced.received.length;
    const session = await openLegacySession(traced.stack.mcpUrl);
    const answer = await session.request(
      { id: 8, method: 'tools/call', params: { name: 's1_echo', arguments: { text: 'fresh' } } },
      { traceparent: malformed, tracestate: 'client=stale' },
    );
    expect(answer.message?.result).toMatchObject({ content: [{ type: 'text', text: 'fresh' }] });
    const seen = traced.received.slice(before).find((r) => r.tool === 'echo');
    expect(seen?.header).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(seen?.meta).toBe(seen?.header);
    const sent = traced.stack.upstreams[0].requests.find((r) => r.headers['traceparent'] === seen?.header);
    expect(sent?.headers['tracestate']).toBeUndefined();
    const { spans } = await waitForSpans(traced.jaeger, seen?.traceId ?? '', (all) => all.some(isRouter));
    expect(onlySpan(spans, isRouter).parentSpanId).toBeUndefined();
  });

  it('marks a routed call to an upstream that is down failed and logs it once at warn with its trace id', async () => {
    const [, server2] = traced.stack.upstreams;
    await server2.stop();
    const session = await openLegacySession(traced.stack.mcpUrl);
    const span = traced.client.tracer.startSpan('call down', { kind: SpanKind.CLIENT });
    const answer = await session.request(
      { id: 9, method: 'tools/call', params: { name: 's2_echo', arguments: { text: 'lost' } } },
      { traceparent: traceparentOf(span) },
    );
    span.end();
    expect(answer.message?.error).toBeDefined();
    const { traceId } = span.spanContext();
    const { spans } = await waitForSpans(traced.jaeger, traceId, (all) => all.some(isRouter));
    const router = onlySpan(spans, isRouter);
    // The same error.type the broker gives a call whose upstream is down.
    expect([router.status.code, router.attributes['error.type']]).toEqual(['error', 'UPSTREAM_UNAVAILABLE']);
    const opened = onlySpan(spans, (s) => s.service === 'mcp-gateway' && s.kind === 'client');
    expect([opened.name, opened.status.code, opened.attributes['error.type']]).toEqual([
      'initialize',
      'error',
      'UPSTREAM_UNAVAILABLE',
    ]);
    const warned = await waitFor('a warn line', () => {
      const lines = logLines(traced.stack.gateway.logs()).filter((l) => l['trace_id'] === traceId);
      return lines.length > 0 ? lines : undefined;
    });
    expect(warned.map((l) => [l['level'], l['msg']])).toEqual([['warn', 'call failed']]);
    expect(warned[0]).toMatchObject({ server: 'server2', item: 's2_echo', error: 'UPSTREAM_UNAVAILABLE' });
  });
});
