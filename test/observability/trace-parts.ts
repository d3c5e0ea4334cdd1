// The parts of the traces suites that are not the gateway: the client's and the upstreams' own
// OpenTelemetry SDK tracers exporting to the test's Jaeger, real SDK upstreams whose tool records
// the trace context it was sent (header and `params._meta`) and emits its span as a child of it,
// a legacy session and a 2026-07-28 request by plain fetch (so that each request carries exactly
// the trace headers a test gives it), and what to read from Jaeger and the gateway's log.
import { ROOT_CONTEXT, SpanKind, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpServer as McpServerV2 } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { JaegerSpan, JaegerTrace, RunningJaeger } from '../harness/index.ts';

/** A tracer of `service` exporting each span to Jaeger by OTLP/HTTP as it ends. */
export interface TestTracer {
  readonly tracer: Tracer;
  /** Exports what is still queued. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

export function createTestTracer(jaeger: RunningJaeger, service: string): TestTracer {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [
      new SimpleSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${jaeger.otlpHttpUrl}/v1/traces` }) }),
    ],
  });
  return {
    tracer: provider.getTracer(service),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/** A span's W3C `traceparent`, as a client sends it. */
export function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The context a `traceparent` names (a remote parent), or the root context when it names none. */
function contextOf(traceparent: string | undefined): Context {
  const match = traceparent === undefined ? null : TRACEPARENT.exec(traceparent);
  if (match === null) return ROOT_CONTEXT;
  const [, traceId, spanId, flags] = match as unknown as [string, string, string, string];
  return trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: parseInt(flags, 16), isRemote: true });
}

/** What one tool call received upstream: the `traceparent` header and the one in `params._meta`. */
export interface ReceivedContext {
  readonly tool: string;
  readonly header: string | undefined;
  readonly meta: string | undefined;
  /** The trace id of the span the upstream emitted for the call. */
  readonly traceId: string;
}

/**
 * Emits the upstream's span for a call, a child of the context its `traceparent` header names
 * (as an HTTP server's instrumentation would), and records what it received.
 */
function served(
  tracer: Tracer,
  received: ReceivedContext[],
  tool: string,
  header: string | undefined,
  meta: unknown,
): void {
  const span = tracer.startSpan(`tools/call ${tool}`, { kind: SpanKind.SERVER }, contextOf(header));
  const metaParent = (meta as { traceparent?: unknown } | undefined)?.traceparent;
  received.push({
    tool,
    header,
    meta: typeof metaParent === 'string' ? metaParent : undefined,
    traceId: span.spanContext().traceId,
  });
  span.end();
}

/** On a legacy (SDK 1.x) upstream: `echo` answers its text and records its trace context. */
export function registerTracedEcho(server: McpServerV1, tracer: Tracer, received: ReceivedContext[]): void {
  server.registerTool('echo', { description: 'Echoes text', inputSchema: { text: z.string() } }, ({ text }, extra) => {
    const header = extra.requestInfo?.headers['traceparent'];
    served(tracer, received, 'echo', typeof header === 'string' ? header : undefined, extra._meta);
    return { content: [{ type: 'text', text }] };
  });
}

/** On a 2026-07-28 (SDK 2.x) upstream: `shout` upper-cases its text and records its trace context. */
export function registerTracedShout(server: McpServerV2, tracer: Tracer, received: ReceivedContext[]): void {
  server.registerTool(
    'shout',
    { description: 'Upper-cases text', inputSchema: z.object({ text: z.string() }) },
    ({ text }, ctx) => {
      const header = ctx.http?.req?.headers.get('traceparent') ?? undefined;
      served(tracer, received, 'shout', header, ctx.mcpReq._meta);
      return { content: [{ type: 'text', text: text.toUpperCase() }] };
    },
  );
}

const LEGACY_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** A legacy client's session, opened by initialize and notifications/initialized. */
export interface LegacySession {
  readonly sessionId: string;
  /** The session's jti (the signed session id's payload). */
  readonly jti: string;
  /** POSTs a JSON-RPC request on the session with `headers` added; resolves with its answer. */
  request(body: Record<string, unknown>, headers?: Record<string, string>): Promise<RpcAnswer>;
}

export interface RpcAnswer {
  readonly status: number;
  /** The JSON-RPC answer to the request (the last message with its id, from JSON or SSE). */
  readonly message: { result?: unknown; error?: { code: number; message: string } } | undefined;
}

async function answerOf(response: Response, id: unknown): Promise<RpcAnswer> {
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  const candidates = type.includes('text/event-stream')
    ? text
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trim())
    : [text];
  let message: RpcAnswer['message'];
  for (const candidate of candidates) {
    try {
      const parsed = JSON.parse(candidate) as { id?: unknown } & RpcAnswer['message'];
      if (parsed?.id === id) message = parsed;
    } catch {
      // Not JSON: an SSE comment or an empty body.
    }
  }
  return { status: response.status, message };
}

export async function openLegacySession(url: string): Promise<LegacySession> {
  const init = await fetch(url, {
    method: 'POST',
    headers: LEGACY_HEADERS,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'traces', version: '1.0.0' } },
    }),
  });
  await init.text();
  const sessionId = init.headers.get('mcp-session-id');
  if (sessionId === null) throw new Error(`initialize: no mcp-session-id (HTTP ${init.status})`);
  const sessionHeaders = { ...LEGACY_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
  const initialized = await fetch(url, {
    method: 'POST',
    headers: sessionHeaders,
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await initialized.text();
  const payload = sessionId.split('.')[1] ?? '';
  const { jti } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { jti: string };
  return {
    sessionId,
    jti,
    async request(body, headers = {}) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { ...sessionHeaders, ...headers },
        body: JSON.stringify({ jsonrpc: '2.0', ...body }),
      });
      return answerOf(response, body['id']);
    },
  };
}

/** A 2026-07-28 client's request (no session, the envelope in `_meta`), with `headers` added. */
export async function modernRequest(
  url: string,
  body: { id: number; method: string; params: Record<string, unknown> },
  headers: Record<string, string> = {},
): Promise<RpcAnswer> {
  const meta = (body.params['_meta'] ?? {}) as Record<string, unknown>;
  const params: Record<string, unknown> = {
    ...body.params,
    _meta: {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': {},
      ...meta,
    },
  };
  const name: Record<string, string> = typeof params['name'] === 'string' ? { 'mcp-name': params['name'] } : {};
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      ...LEGACY_HEADERS,
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': body.method,
      ...name,
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', ...body, params }),
  });
  return answerOf(response, body.id);
}

/** Polls Jaeger until the trace `traceId` holds spans that `ready` accepts. */
export async function waitForSpans(
  jaeger: RunningJaeger,
  traceId: string,
  ready: (spans: readonly JaegerSpan[]) => boolean,
  timeoutMs = 15_000,
): Promise<JaegerTrace> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await jaeger.trace(traceId).catch(() => undefined);
    if (found !== undefined && ready(found.spans)) return found;
    if (Date.now() > deadline) {
      const held = found?.spans.map((s) => `${s.service}:${s.kind}:${s.name}`).join(', ') ?? 'no span';
      throw new Error(`trace ${traceId} not complete in Jaeger after ${timeoutMs} ms; it holds ${held}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The one span of `spans` that `match` accepts; throws naming every span otherwise. */
export function onlySpan(spans: readonly JaegerSpan[], match: (span: JaegerSpan) => boolean): JaegerSpan {
  const found = spans.filter(match);
  if (found.length !== 1) {
    const all = spans.map((s) => `${s.service}:${s.kind}:${s.name}`).join(', ');
    throw new Error(`expected one matching span, found ${found.length} among ${all}`);
  }
  return found[0] as JaegerSpan;
}

/** The gateway's JSON log lines. */
export function logLines(logs: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of logs.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line cut short by a later write: not a log record.
    }
  }
  return lines;
}
