import type { SharedAttributes, SpanValue } from '../telemetry/gateway-tracer.ts';
import { attributesOf, JSONRPC_REQUEST_ID, jsonRpcIdOf, type FinishedSpan } from './otel-tracer.ts';
import { ProtoWriter, WIRE_VARINT } from './protobuf-writer.ts';

/**
 * Ended spans waiting for export, written when taken as an OTLP ExportTraceServiceRequest in
 * protobuf (OTLP/gRPC and OTLP/HTTP) or OTLP/JSON: straight from the spans in one pass, off the
 * path of any request (encoding as a span ends would delay the answer it belongs to; encoding a
 * loop turn's spans after the answers went out was measured dearer than a batch at once, whose
 * code runs 512 times in a row). Attributes many spans share are written once and copied as
 * bytes. One resource, one instrumentation scope; string values cut at the attribute value limit.
 * @see https://github.com/open-telemetry/opentelemetry-proto/blob/main/opentelemetry/proto/trace/v1/trace.proto
 * @see https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding
 */
export interface SpanBuffer {
  /** Spans encoded and not yet taken. */
  readonly length: number;
  push(span: FinishedSpan): void;
  /** The request body for the first `max` spans (fewer when fewer wait); they leave the buffer. */
  take(max: number): Uint8Array | string;
}

export interface OtlpEncodingOptions {
  readonly format: 'protobuf' | 'json';
  readonly resource: Readonly<Record<string, string>>;
  readonly scope: { readonly name: string; readonly version: string };
  /** Longest string attribute value kept (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT). */
  readonly valueLimit: number;
}

const STATUS_CODE_ERROR = 2;
/** Span.flags: the W3C sampled flag, and whether the parent's remoteness is known and true. */
const FLAG_SAMPLED = 0x01;
const FLAG_HAS_IS_REMOTE = 0x100;
const FLAG_IS_REMOTE = 0x200;

/** Attribute keys and span names kept encoded, at most (per cache). */
const MAX_KEPT_STRINGS = 1_024;

/** Epoch milliseconds (with a fraction) as nanoseconds. */
function nanos(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}

/** A span buffer in the format the exporter speaks. */
export function createSpanBuffer(options: OtlpEncodingOptions): SpanBuffer {
  return options.format === 'json' ? new JsonSpans(options) : new ProtobufSpans(options);
}

function flags(span: FinishedSpan): number {
  return FLAG_SAMPLED | FLAG_HAS_IS_REMOTE | (span.remoteParent ? FLAG_IS_REMOTE : 0);
}

/** Spans kept until taken, then written as one ExportTraceServiceRequest in a single pass. */
class ProtobufSpans implements SpanBuffer {
  #spans: FinishedSpan[] = [];
  /** ResourceSpans.resource and ScopeSpans.scope, with their tags: the same in every request. */
  readonly #resource: Uint8Array;
  readonly #scope: Uint8Array;
  readonly #valueLimit: number;
  /** An attribute's key, encoded once: the gateway writes a few dozen keys, over and over. */
  readonly #keys = new Map<string, Uint8Array>();
  /** A span's name (Span.name, with its tag), encoded once: spans are named by method and item. */
  readonly #names = new Map<string, Uint8Array>();
  /** Bytes the last request took: the next one starts that large. */
  #lastSize = 64 * 1024;

  constructor(options: OtlpEncodingOptions) {
    this.#valueLimit = options.valueLimit;
    const resource = new ProtoWriter(512);
    const at = resource.open(1);
    for (const [key, value] of Object.entries(options.resource)) this.#keyValue(resource, 1, key, value);
    resource.close(at);
    this.#resource = resource.finish().slice();
    const scope = new ProtoWriter(128);
    const scopeAt = scope.open(1);
    scope.string(1, options.scope.name);
    scope.string(2, options.scope.version);
    scope.close(scopeAt);
    this.#scope = scope.finish().slice();
  }

  get length(): number {
    return this.#spans.length;
  }

  push(span: FinishedSpan): void {
    this.#spans.push(span);
  }

  take(max: number): Uint8Array {
    const spans = this.#spans.length <= max ? this.#spans : this.#spans.slice(0, max);
    this.#spans = spans === this.#spans ? [] : this.#spans.slice(max);
    const writer = new ProtoWriter(this.#lastSize + 1024);
    const resourceSpans = writer.open(1);
    writer.raw(this.#resource);
    const scopeSpans = writer.open(2);
    writer.raw(this.#scope);
    for (const span of spans) this.#span(writer, span);
    writer.close(scopeSpans);
    writer.close(resourceSpans);
    this.#lastSize = writer.pos;
    return writer.finish();
  }

  #span(writer: ProtoWriter, span: FinishedSpan): void {
    const at = writer.open(2);
    writer.bytesOf(1, span.traceBytes, span.traceAt, 16);
    writer.bytesOf(2, span.spanBytes, span.spanAt, 8);
    if (span.traceState !== undefined) writer.string(3, span.traceState);
    if (span.parentBytes !== undefined) writer.bytesOf(4, span.parentBytes, span.parentAt, 8);
    this.#keptString(writer, this.#names, 5, span.name);
    writer.tag(6, WIRE_VARINT);
    writer.varint(span.kind);
    writer.time(7, span.startTime);
    writer.time(8, span.endTime);
    for (const shared of span.shared) this.#shared(writer, shared);
    const id = jsonRpcIdOf(span);
    if (id !== undefined) this.#keyValue(writer, 9, JSONRPC_REQUEST_ID, id);
    const own = span.own;
    for (const key in own) {
      const value = own[key];
      if (value !== undefined) this.#keyValue(writer, 9, key, value);
    }
    if (span.error !== undefined) {
      const status = writer.open(15);
      if (span.error.message !== undefined) writer.string(2, this.#cut(span.error.message));
      writer.tag(3, WIRE_VARINT);
      writer.varint(STATUS_CODE_ERROR);
      writer.close(status);
    }
    writer.fixed32(16, flags(span));
    writer.close(at);
  }

  #cut(value: string): string {
    return value.length > this.#valueLimit ? value.slice(0, this.#valueLimit) : value;
  }

  /**
   * A string field written once and kept as bytes in `cache` (attribute keys, span names: a few
   * dozen, over and over); a long one is not kept, and a full cache starts over.
   */
  #keptString(writer: ProtoWriter, cache: Map<string, Uint8Array>, field: number, text: string): void {
    let bytes = cache.get(text);
    if (bytes === undefined) {
      const one = new ProtoWriter(text.length * 3 + 8);
      one.string(field, text);
      bytes = one.finish().slice();
      if (text.length > 128) return writer.raw(bytes);
      if (cache.size >= MAX_KEPT_STRINGS) cache.clear();
      cache.set(text, bytes);
    }
    writer.raw(bytes);
  }

  /** Attributes many spans share: written once for this encoder, then copied. */
  #shared(writer: ProtoWriter, shared: SharedAttributes): void {
    if (shared.encodedBy !== this || shared.encoded === undefined) {
      const values = new ProtoWriter(256);
      for (const key in shared.values) {
        const value = shared.values[key];
        if (value !== undefined) this.#keyValue(values, 9, key, value);
      }
      shared.encoded = values.finish().slice();
      shared.encodedBy = this;
    }
    writer.raw(shared.encoded);
  }

  #keyValue(writer: ProtoWriter, field: number, key: string, value: SpanValue): void {
    const at = writer.open(field);
    this.#keptString(writer, this.#keys, 1, key);
    const any = writer.open(2);
    if (typeof value === 'string') writer.string(1, this.#cut(value));
    else if (typeof value === 'boolean') {
      writer.tag(2, WIRE_VARINT);
      writer.varint(value ? 1 : 0);
    } else if (Number.isSafeInteger(value)) writer.int64(3, value as number);
    else writer.double(4, value as number);
    writer.close(any);
    writer.close(at);
  }
}

/** Spans written as OTLP/JSON when taken. */
class JsonSpans implements SpanBuffer {
  #spans: FinishedSpan[] = [];
  readonly #prefix: string;
  readonly #valueLimit: number;

  constructor(options: OtlpEncodingOptions) {
    this.#valueLimit = options.valueLimit;
    const envelope = JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: this.#attributes(options.resource) },
          scopeSpans: [{ scope: options.scope, spans: [] }],
        },
      ],
    });
    this.#prefix = envelope.slice(0, envelope.lastIndexOf('[]') + 1);
  }

  get length(): number {
    return this.#spans.length;
  }

  push(span: FinishedSpan): void {
    this.#spans.push(span);
  }

  take(max: number): string {
    const taken = this.#spans.slice(0, max);
    this.#spans = this.#spans.slice(taken.length);
    return `${this.#prefix}${taken.map((span) => this.#json(span)).join(',')}]}]}]}`;
  }

  #json(span: FinishedSpan): string {
    return JSON.stringify({
      traceId: span.traceId,
      spanId: span.spanId,
      ...(span.traceState !== undefined && { traceState: span.traceState }),
      ...(span.parentSpanId !== undefined && { parentSpanId: span.parentSpanId }),
      flags: flags(span),
      name: span.name,
      kind: span.kind,
      startTimeUnixNano: nanos(span.startTime).toString(),
      endTimeUnixNano: nanos(span.endTime).toString(),
      attributes: this.#attributes(attributesOf(span)),
      status:
        span.error === undefined
          ? {}
          : {
              code: STATUS_CODE_ERROR,
              ...(span.error.message !== undefined && { message: this.#cut(span.error.message) }),
            },
    });
  }

  #cut(value: string): string {
    return value.length > this.#valueLimit ? value.slice(0, this.#valueLimit) : value;
  }

  #attributes(attributes: Readonly<Record<string, SpanValue>>): Array<{ key: string; value: object }> {
    const list = [];
    for (const key in attributes) {
      const value = attributes[key];
      if (value === undefined) continue;
      list.push({
        key,
        value:
          typeof value === 'string'
            ? { stringValue: this.#cut(value) }
            : typeof value === 'boolean'
              ? { boolValue: value }
              : Number.isSafeInteger(value)
                ? { intValue: String(value) }
                : { doubleValue: value },
      });
    }
    return list;
  }
}
