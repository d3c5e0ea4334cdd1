import {
  SharedAttributes,
  type GatewaySpan,
  type GatewayTracer,
  type SpanAttributesInput,
  type SpanValue,
} from '../telemetry/gateway-tracer.ts';
import type { SpanSampler } from './span-sampler.ts';
import { callerContext, lastDrawn, lastDrawnAt, newSpanId, newTraceId } from './trace-ids.ts';

/** OTLP's span kinds the gateway records. */
export const SPAN_KIND_SERVER = 2;
export const SPAN_KIND_CLIENT = 3;

/** A span as it is exported: what OTLP's Span message holds of the gateway's spans. */
export interface FinishedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** The parent's span id, or undefined for a root span. */
  readonly parentSpanId: string | undefined;
  /**
   * The same ids as bytes, as OTLP protobuf carries them, each where it already lies (the random
   * pool it was drawn from, the caller's context read once, the parent span's), so the exporter
   * copies bytes and no span allocates for them: the trace id's 16 bytes in `traceBytes` from
   * `traceAt`, the span id's 8 in `spanBytes` from `spanAt`, the parent's 8 (when there is one)
   * in `parentBytes` from `parentAt`.
   */
  readonly traceBytes: Uint8Array;
  readonly traceAt: number;
  readonly spanBytes: Uint8Array;
  readonly spanAt: number;
  readonly parentBytes: Uint8Array | undefined;
  readonly parentAt: number;
  /** True when the parent is the caller's (a remote context). */
  readonly remoteParent: boolean;
  /** The caller's `tracestate`, kept with its trace. */
  readonly traceState: string | undefined;
  readonly name: string;
  readonly kind: typeof SPAN_KIND_SERVER | typeof SPAN_KIND_CLIENT;
  /** Epoch milliseconds, with a fraction. */
  readonly startTime: number;
  readonly endTime: number;
  /** The JSON-RPC id the span is about (`jsonrpc.request.id`), as the request had it. */
  readonly jsonRpcId: string | number | undefined;
  /** Attributes many spans share, held by reference (encoded once). */
  readonly shared: readonly SharedAttributes[];
  /** The span's own attributes (undefined values left out; a later value of a key replaces an earlier one). */
  readonly own: Readonly<Record<string, SpanValue>>;
  /** An error status (code 2) and its message, or undefined when unset. */
  readonly error: { readonly message: string | undefined } | undefined;
}

/** Where ended spans go (the batching exporter). */
export type SpanSink = (span: FinishedSpan) => void;

/** A W3C tracestate passed on as is: printable ASCII, at most the 512 characters W3C asks vendors to keep. */
const TRACESTATE = /^[\x20-\x7e]{1,512}$/;

function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Copies the defined values of `from` onto `to`. */
function assign(to: Record<string, SpanValue>, from: Readonly<Record<string, SpanValue>>): void {
  for (const key in from) {
    const value = from[key];
    if (value !== undefined) to[key] = value;
  }
}

const NO_SHARED: readonly SharedAttributes[] = Object.freeze([]);

/** A finished span's attributes in one record, the shared ones first (for OTLP/JSON and tests). */
export function attributesOf(span: FinishedSpan): Record<string, SpanValue> {
  const all: Record<string, SpanValue> = {};
  for (const shared of span.shared) assign(all, shared.values);
  const id = jsonRpcIdOf(span);
  if (id !== undefined) all[JSONRPC_REQUEST_ID] = id;
  assign(all, span.own);
  return all;
}

export const JSONRPC_REQUEST_ID = 'jsonrpc.request.id';
/** Longest `jsonrpc.request.id` kept: a client chooses its ids. */
const MAX_ID_LENGTH = 128;

/** A span's `jsonrpc.request.id` as it is exported: a string, at most 128 characters. */
export function jsonRpcIdOf(span: FinishedSpan): string | undefined {
  const id = span.jsonRpcId;
  if (typeof id === 'number') return String(id);
  return id === undefined || id.length <= MAX_ID_LENGTH ? id : id.slice(0, MAX_ID_LENGTH);
}

/** A recorded span: plain fields, handed to the sink once when it ends. */
class RecordedSpan implements GatewaySpan, FinishedSpan {
  readonly recording = true;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly traceBytes: Uint8Array;
  readonly traceAt: number;
  readonly spanBytes: Uint8Array;
  readonly spanAt: number;
  readonly parentBytes: Uint8Array | undefined;
  readonly parentAt: number;
  readonly remoteParent: boolean;
  readonly traceState: string | undefined;
  readonly kind: typeof SPAN_KIND_SERVER | typeof SPAN_KIND_CLIENT;
  readonly startTime: number;
  shared: readonly SharedAttributes[] = NO_SHARED;
  jsonRpcId: string | number | undefined = undefined;
  readonly own: Record<string, SpanValue> = {};
  name: string;
  endTime = 0;
  error: { message: string | undefined } | undefined;
  #carrier: Record<string, string> | undefined;
  readonly #sink: SpanSink;

  constructor(
    sink: SpanSink,
    name: string,
    kind: typeof SPAN_KIND_SERVER | typeof SPAN_KIND_CLIENT,
    traceId: string,
    traceBytes: Uint8Array,
    traceAt: number,
    parentSpanId: string | undefined,
    parentBytes: Uint8Array | undefined,
    parentAt: number,
    remoteParent: boolean,
    traceState: string | undefined,
    attributes: SpanAttributesInput,
    startTime: number,
  ) {
    this.#sink = sink;
    this.name = name;
    this.kind = kind;
    this.traceId = traceId;
    this.traceBytes = traceBytes;
    this.traceAt = traceAt;
    this.spanId = newSpanId();
    this.spanBytes = lastDrawn();
    this.spanAt = lastDrawnAt();
    this.parentSpanId = parentSpanId;
    this.parentBytes = parentBytes;
    this.parentAt = parentAt;
    this.remoteParent = remoteParent;
    this.traceState = traceState;
    this.startTime = startTime;
    this.set(attributes);
  }

  get carrier(): Readonly<Record<string, string>> {
    if (this.#carrier === undefined) {
      this.#carrier = { traceparent: `00-${this.traceId}-${this.spanId}-01` };
      if (this.traceState !== undefined) this.#carrier['tracestate'] = this.traceState;
    }
    return this.#carrier;
  }

  rename(name: string): void {
    this.name = name;
  }

  requestId(id: unknown): void {
    if (typeof id === 'string' || typeof id === 'number') this.jsonRpcId = id;
  }

  set(attributes: SpanAttributesInput): void {
    if (attributes instanceof SharedAttributes) {
      if (this.shared === NO_SHARED) this.shared = [attributes];
      else (this.shared as SharedAttributes[]).push(attributes);
    } else assign(this.own, attributes);
  }

  fail(errorType: string, description?: string): void {
    this.own['error.type'] = errorType;
    this.error = { message: description };
  }

  client(name: string, attributes: SpanAttributesInput): GatewaySpan {
    return new RecordedSpan(
      this.#sink,
      name,
      SPAN_KIND_CLIENT,
      this.traceId,
      this.traceBytes,
      this.traceAt,
      this.spanId,
      this.spanBytes,
      this.spanAt,
      false,
      this.traceState,
      attributes,
      now(),
    );
  }

  end(): void {
    if (this.endTime !== 0) return;
    this.endTime = now();
    this.#sink(this);
  }
}

/** A span the sampler left out: recorded nowhere, its context still passed on (sampled flag off). */
class UnsampledSpan implements GatewaySpan {
  readonly recording = false;
  readonly traceId: string;
  readonly carrier: Readonly<Record<string, string>>;

  constructor(traceId: string, traceState: string | undefined) {
    this.traceId = traceId;
    this.carrier =
      traceState === undefined
        ? { traceparent: `00-${traceId}-${newSpanId()}-00` }
        : { traceparent: `00-${traceId}-${newSpanId()}-00`, tracestate: traceState };
  }
  rename(): void {}
  requestId(): void {}
  set(): void {}
  fail(): void {}
  client(): GatewaySpan {
    return this;
  }
  end(): void {}
}

/**
 * The gateway's tracing port recording OTLP spans itself: a server span per request, client
 * spans under it, each handed to `sink` when it ends. A valid W3C `traceparent` (and a
 * well-formed `tracestate`) is continued, a malformed one starts a new trace; the sampler
 * decides per server span and its client spans follow it. Spans are plain objects passed
 * explicitly (no context manager), so Node and workerd run the same code, and a span costs a
 * few allocations (the OpenTelemetry JS SDK's cost more than the gateway's whole budget for
 * tracing: docs/observability.md).
 */
export function createOtelTracer(sampler: SpanSampler, sink: SpanSink): GatewayTracer {
  return {
    enabled: true,
    server(name, carrier, attributes, startTime) {
      // A caller's ids are read into bytes once, here, in the random pool a new trace's id comes from.
      const parent = callerContext(carrier?.traceparent);
      const state = parent === undefined ? undefined : carrier?.tracestate;
      const traceState = typeof state === 'string' && TRACESTATE.test(state) ? state : undefined;
      const traceId = parent?.traceId ?? newTraceId();
      if (!sampler(parent, traceId)) return new UnsampledSpan(traceId, traceState);
      const traceBytes = lastDrawn();
      const traceAt = lastDrawnAt();
      return new RecordedSpan(
        sink,
        name,
        SPAN_KIND_SERVER,
        traceId,
        traceBytes,
        traceAt,
        parent?.spanId,
        parent === undefined ? undefined : traceBytes,
        traceAt + 16,
        parent !== undefined,
        traceState,
        attributes,
        startTime ?? now(),
      );
    },
  };
}
