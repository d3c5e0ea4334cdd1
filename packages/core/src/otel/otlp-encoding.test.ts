import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { SharedAttributes } from '../telemetry/gateway-tracer.ts';
import type { FinishedSpan } from './otel-tracer.ts';
import { createSpanBuffer, type OtlpEncodingOptions } from './otlp-encoding.ts';

// The OTLP trace messages as opentelemetry-proto v1 defines them (the fields the gateway writes),
// read back by protobufjs: an independent decoder checks the hand-written encoder.
const OTLP = protobuf
  .parse(
    `
  syntax = "proto3";
  message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }
  message KeyValue { string key = 1; AnyValue value = 2; }
  message Resource { repeated KeyValue attributes = 1; }
  message InstrumentationScope { string name = 1; string version = 2; }
  message Status { string message = 2; int32 code = 3; }
  message Span {
    bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4;
    string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
    repeated KeyValue attributes = 9; Status status = 15; fixed32 flags = 16;
  }
  message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
  message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
  message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
`,
  )
  .root.lookupType('ExportTraceServiceRequest');

const options: Omit<OtlpEncodingOptions, 'format'> = {
  resource: { 'service.name': 'mcp-gateway', 'deployment.environment': 'prüfung' },
  scope: { name: 'mcp-gateway', version: '1.2.3' },
  valueLimit: 300,
};

const SHARED = new SharedAttributes({ 'mcp.method.name': 'tools/call', 'server.port': 8080 });

const START = Date.UTC(2026, 11, 7, 1, 2, 3) + 0.125; // a fraction a double holds exactly at this magnitude

/** The ids as bytes where the tracer keeps them: here one array each, as a caller's context is read. */
function withIds(
  span: Omit<FinishedSpan, 'traceBytes' | 'traceAt' | 'spanBytes' | 'spanAt' | 'parentBytes' | 'parentAt'>,
): FinishedSpan {
  const bytes = (hex: string) => new Uint8Array(Buffer.from(`00${hex}`, 'hex'));
  return {
    ...span,
    traceBytes: bytes(span.traceId),
    traceAt: 1,
    spanBytes: bytes(span.spanId),
    spanAt: 1,
    parentBytes: span.parentSpanId === undefined ? undefined : bytes(span.parentSpanId),
    parentAt: 1,
  };
}

function span(overrides: Partial<FinishedSpan> = {}): FinishedSpan {
  return withIds({
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    parentSpanId: 'a0b1c2d3e4f50617',
    remoteParent: true,
    traceState: 'vendor=1',
    name: 'tools/call w_echo',
    kind: 2,
    startTime: START,
    endTime: START + 1.5,
    shared: [SHARED],
    jsonRpcId: 'x'.repeat(200),
    own: {
      'negative.int': -42,
      ratio: 0.5,
      cached: true,
      absent: undefined,
      'gen_ai.tool.name': 'wörter ✓ 🚀',
      long: 'x'.repeat(5_000),
    },
    error: { message: 'upstream slow did not answer' },
    ...overrides,
  });
}

type Decoded = {
  resourceSpans: Array<{
    resource: { attributes: Array<{ key: string; value: Record<string, unknown> }> };
    scopeSpans: Array<{ scope: { name: string; version: string }; spans: Array<Record<string, unknown>> }>;
  }>;
};

const decode = (bytes: Uint8Array) =>
  OTLP.toObject(OTLP.decode(bytes), { longs: String, bytes: String, defaults: false }) as Decoded;
const hex = (base64: unknown) => Buffer.from(base64 as string, 'base64').toString('hex');

describe('the OTLP encoding', () => {
  it('writes protobuf an independent decoder reads back field by field', () => {
    const buffer = createSpanBuffer({ ...options, format: 'protobuf' });
    for (let i = 0; i < 300; i++) buffer.push(span({ spanId: (i + 1).toString(16).padStart(16, '0') }));
    buffer.push(
      span({ parentSpanId: undefined, error: undefined, traceState: undefined, remoteParent: false, kind: 3 }),
    );
    for (let i = 0; i < 5; i++) buffer.push(span({ name: `left ${i}` }));
    expect(buffer.length).toBe(306);
    const decoded = decode(buffer.take(301) as Uint8Array);
    const resource = decoded.resourceSpans[0]!;
    expect(resource.resource.attributes).toEqual([
      { key: 'service.name', value: { stringValue: 'mcp-gateway' } },
      { key: 'deployment.environment', value: { stringValue: 'prüfung' } },
    ]);
    const scope = resource.scopeSpans[0]!;
    expect(scope.scope).toEqual({ name: 'mcp-gateway', version: '1.2.3' });
    expect(scope.spans).toHaveLength(301);
    const first = scope.spans[0]!;
    expect(hex(first['traceId'])).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(hex(first['spanId'])).toBe('0000000000000001');
    expect(hex(first['parentSpanId'])).toBe('a0b1c2d3e4f50617');
    expect(first).toMatchObject({
      traceState: 'vendor=1',
      name: 'tools/call w_echo',
      kind: 2,
      startTimeUnixNano: '1796605323000125000',
      endTimeUnixNano: '1796605323001625000',
      status: { code: 2, message: 'upstream slow did not answer' },
      flags: 0x301,
    });
    expect(first['attributes']).toEqual([
      { key: 'mcp.method.name', value: { stringValue: 'tools/call' } },
      { key: 'server.port', value: { intValue: '8080' } },
      // A client's JSON-RPC id, cut at 128 characters (the value limit here is 300).
      { key: 'jsonrpc.request.id', value: { stringValue: 'x'.repeat(128) } },
      { key: 'negative.int', value: { intValue: '-42' } },
      { key: 'ratio', value: { doubleValue: 0.5 } },
      { key: 'cached', value: { boolValue: true } },
      { key: 'gen_ai.tool.name', value: { stringValue: 'wörter ✓ 🚀' } },
      { key: 'long', value: { stringValue: 'x'.repeat(300) } },
    ]);
    const last = scope.spans[300]!;
    expect(last['parentSpanId']).toBeUndefined();
    expect(last['status']).toBeUndefined();
    expect(last).toMatchObject({ kind: 3, flags: 0x101 });
    // What was not taken is the next request, whole.
    expect(buffer.length).toBe(5);
    const rest = decode(buffer.take(512) as Uint8Array).resourceSpans[0]!.scopeSpans[0]!.spans;
    expect(rest.map((s) => s['name'])).toEqual(['left 0', 'left 1', 'left 2', 'left 3', 'left 4']);
    expect(buffer.length).toBe(0);
  });

  it('writes shared attributes once per encoder, each with its own value limit', () => {
    const shared = new SharedAttributes({ 'gen_ai.tool.name': 'a-long-tool-name', 'mcp.server': 'weather' });
    const short = createSpanBuffer({ ...options, valueLimit: 4, format: 'protobuf' });
    const long = createSpanBuffer({ ...options, format: 'protobuf' });
    const attributesOf = (buffer: typeof short) => {
      buffer.push(span({ shared: [shared, SHARED], jsonRpcId: 7, own: {} }));
      buffer.push(span({ shared: [shared], jsonRpcId: undefined, own: {} }));
      const spans = decode(buffer.take(2) as Uint8Array).resourceSpans[0]!.scopeSpans[0]!.spans;
      return spans.map((s) => s['attributes'] as unknown[]);
    };
    expect(attributesOf(short)).toEqual([
      [
        { key: 'gen_ai.tool.name', value: { stringValue: 'a-lo' } },
        { key: 'mcp.server', value: { stringValue: 'weat' } },
        { key: 'mcp.method.name', value: { stringValue: 'tool' } },
        { key: 'server.port', value: { intValue: '8080' } },
        { key: 'jsonrpc.request.id', value: { stringValue: '7' } },
      ],
      [
        { key: 'gen_ai.tool.name', value: { stringValue: 'a-lo' } },
        { key: 'mcp.server', value: { stringValue: 'weat' } },
      ],
    ]);
    expect(attributesOf(long)[1]).toEqual([
      { key: 'gen_ai.tool.name', value: { stringValue: 'a-long-tool-name' } },
      { key: 'mcp.server', value: { stringValue: 'weather' } },
    ]);
    expect(attributesOf(short)[1]![0]).toEqual({ key: 'gen_ai.tool.name', value: { stringValue: 'a-lo' } });
  });

  it('writes every id of a batch right when many spans share a trace and parent', () => {
    const buffer = createSpanBuffer({ ...options, format: 'protobuf' });
    const ids = Array.from({ length: 40 }, (_, i) => ({
      traceId: (i % 3).toString(16).padStart(32, 'a'),
      spanId: (i + 1).toString(16).padStart(16, '0'),
      parentSpanId: i % 2 === 0 ? undefined : (i % 5).toString(16).padStart(16, 'b'),
    }));
    for (const id of ids) buffer.push(span(id));
    const spans = decode(buffer.take(512) as Uint8Array).resourceSpans[0]!.scopeSpans[0]!.spans;
    expect(
      spans.map((s) => [
        hex(s['traceId']),
        hex(s['spanId']),
        s['parentSpanId'] === undefined ? undefined : hex(s['parentSpanId']),
      ]),
    ).toEqual(ids.map((id) => [id.traceId, id.spanId, id.parentSpanId]));
  });

  it('writes every span name right, however many and however long', () => {
    const buffer = createSpanBuffer({ ...options, format: 'protobuf' });
    const names = [...Array.from({ length: 1_100 }, (_, i) => `tools/call t_${i % 1_050}`), 'x'.repeat(300), 'ping'];
    for (const name of names) buffer.push(span({ name }));
    const spans = decode(buffer.take(2_000) as Uint8Array).resourceSpans[0]!.scopeSpans[0]!.spans;
    expect(spans.map((s) => s['name'])).toEqual(names);
  });

  it('takes the spans in the order they ended, a batch at a time, the rest kept for the next', () => {
    const buffer = createSpanBuffer({ ...options, format: 'protobuf' });
    const names = (body: Uint8Array | string) =>
      (decode(body as Uint8Array).resourceSpans[0]?.scopeSpans[0]?.spans ?? []).map((s) => s['name']);
    for (let i = 0; i < 5; i++) buffer.push(span({ name: `first ${i}`, own: { i } }));
    expect(buffer.length).toBe(5);
    expect(names(buffer.take(2))).toEqual(['first 0', 'first 1']);
    expect(buffer.length).toBe(3);
    buffer.push(span({ name: 'later', own: { 'long.value': 'v'.repeat(200) } }));
    const rest = decode(buffer.take(10) as Uint8Array).resourceSpans[0]!;
    expect(rest.scopeSpans[0]!.spans.map((s) => s['name'])).toEqual(['first 2', 'first 3', 'first 4', 'later']);
    expect(rest.scopeSpans[0]!.scope).toEqual({ name: 'mcp-gateway', version: '1.2.3' });
    expect(rest.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'mcp-gateway' } });
    expect(buffer.length).toBe(0);
    expect(names(buffer.take(10))).toEqual([]);
  });

  it('writes OTLP/JSON with hex ids and nanoseconds as strings', () => {
    const buffer = createSpanBuffer({ ...options, format: 'json' });
    buffer.push(span());
    buffer.push(span({ name: 'second' }));
    const body = JSON.parse(buffer.take(1) as string);
    expect(body.resourceSpans[0].scopeSpans[0].spans).toHaveLength(1);
    expect(body.resourceSpans[0].resource.attributes).toContainEqual({
      key: 'deployment.environment',
      value: { stringValue: 'prüfung' },
    });
    expect(JSON.parse(buffer.take(10) as string).resourceSpans[0].scopeSpans[0].spans[0].name).toBe('second');
    const written = body.resourceSpans[0].scopeSpans[0].spans[0];
    expect(written).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      parentSpanId: 'a0b1c2d3e4f50617',
      startTimeUnixNano: '1796605323000125000',
      kind: 2,
      status: { code: 2, message: 'upstream slow did not answer' },
    });
    expect(written.attributes).toContainEqual({ key: 'server.port', value: { intValue: '8080' } });
    expect(written.attributes).toContainEqual({ key: 'long', value: { stringValue: 'x'.repeat(300) } });
    expect(body.resourceSpans[0].scopeSpans[0].scope).toEqual({ name: 'mcp-gateway', version: '1.2.3' });
  });
});
