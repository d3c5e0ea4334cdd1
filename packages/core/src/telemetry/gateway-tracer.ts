/**
 * What the gateway traces, as a port: core opens a span per MCP request it serves and one per
 * exchange with an upstream, and a host records them as OTLP spans (`../otel/otel-tracer.ts`)
 * or as nothing. Spans are passed explicitly, never through an
 * ambient context, so the same code runs in Node and in workerd.
 *
 * With tracing off, the trace a client started still reaches the upstream unchanged and its
 * trace id still marks the request's log lines: the off span carries the caller's context.
 * @see docs/observability.md
 */

/** A span attribute value; undefined values are left out. */
export type SpanValue = string | number | boolean | undefined;

export type SpanAttributes = Readonly<Record<string, SpanValue>>;

/**
 * Attributes many spans carry alike (a method's, a tool's, an upstream's), made once and kept:
 * a span holds them by reference and the exporter encodes them once (in `encoded`, tagged with
 * the encoder that wrote it), not once per span.
 */
export class SharedAttributes {
  /** The bytes an exporter wrote for these attributes, and which encoder wrote them. */
  encoded: Uint8Array | undefined = undefined;
  encodedBy: object | undefined = undefined;
  readonly values: SpanAttributes;

  constructor(values: SpanAttributes) {
    this.values = Object.freeze({ ...values });
  }
}

/** Attributes given to a span: made for it, or shared by many. */
export type SpanAttributesInput = SpanAttributes | SharedAttributes;

/** Where a W3C trace context is read from: HTTP headers, or an MCP request's `params._meta`. */
export interface TraceCarrier {
  readonly traceparent?: string | null | undefined;
  readonly tracestate?: string | null | undefined;
}

export interface GatewaySpan {
  /** True when this span is recorded and exported. */
  readonly recording: boolean;
  /** The trace this request belongs to (32 hex digits), or undefined when it has none. */
  readonly traceId: string | undefined;
  /** The W3C headers that carry this span's context to the next hop (empty when none). */
  readonly carrier: Readonly<Record<string, string>>;
  rename(name: string): void;
  /**
   * The JSON-RPC id of the request the span is about (`jsonrpc.request.id`, written as a string,
   * at most 128 characters); anything but a string or a number is left out.
   */
  requestId(id: unknown): void;
  /** Adds attributes: a key is set once per span (`error.type` is `fail`'s, the last one kept). */
  set(attributes: SpanAttributesInput): void;
  /** Marks the span failed: `error.type` and an error status. */
  fail(errorType: string, description?: string): void;
  /** A child span for an exchange with an upstream (kind client). */
  client(name: string, attributes: SpanAttributesInput): GatewaySpan;
  end(): void;
}

export interface GatewayTracer {
  /** True when spans are recorded (the host exports them). */
  readonly enabled: boolean;
  /**
   * A span for a request the gateway serves (kind server), continuing the caller's trace when
   * `parent` carries a valid W3C `traceparent`; `startTime` is the request's arrival
   * (`performance.timeOrigin + performance.now()` milliseconds), when known.
   */
  server(
    name: string,
    parent: TraceCarrier | undefined,
    attributes: SpanAttributesInput,
    startTime?: number,
  ): GatewaySpan;
}

const NO_CARRIER: Readonly<Record<string, string>> = Object.freeze({});
const DASH = 45;
const ZERO = 48;

/** Whether `text[from, to)` is lowercase hex digits, not all zeros unless `zeroAllowed`. */
function isHexField(text: string, from: number, to: number, zeroAllowed: boolean): boolean {
  let nonZero = zeroAllowed;
  for (let i = from; i < to; i++) {
    const code = text.charCodeAt(i);
    if (code === ZERO) continue;
    if (!((code > ZERO && code <= 57) || (code >= 97 && code <= 102))) return false;
    nonZero = true;
  }
  return nonZero;
}

/**
 * Whether `traceparent` has a version-00 `traceparent`'s layout: 55 characters, `00-` and the
 * dashes after the trace id and the span id (its digits are the reader's to check).
 */
export function hasTraceparentLayout(traceparent: string | null | undefined): traceparent is string {
  return (
    typeof traceparent === 'string' &&
    traceparent.length === 55 &&
    traceparent.charCodeAt(0) === ZERO &&
    traceparent.charCodeAt(1) === ZERO &&
    traceparent.charCodeAt(2) === DASH &&
    traceparent.charCodeAt(35) === DASH &&
    traceparent.charCodeAt(52) === DASH
  );
}

/**
 * The trace id of a valid version-00 `traceparent` (`00-` 32 hex digits `-` 16 `-` 2, ids not
 * all zeros), else undefined. Read a character at a time: it runs on every request.
 */
export function traceIdOf(traceparent: string | null | undefined): string | undefined {
  if (!hasTraceparentLayout(traceparent)) return undefined;
  const valid =
    isHexField(traceparent, 3, 35, false) &&
    isHexField(traceparent, 36, 52, false) &&
    isHexField(traceparent, 53, 55, true);
  return valid ? traceparent.slice(3, 35) : undefined;
}

/** A tracestate passed on as is: printable ASCII, at most the 512 characters W3C asks vendors to keep. */
const TRACESTATE = /^[\x20-\x7e]{1,512}$/;

/** A span that records nothing and passes the caller's trace context on unchanged. */
class PassThroughSpan implements GatewaySpan {
  readonly recording = false;
  readonly carrier: Readonly<Record<string, string>>;
  readonly traceId: string | undefined;

  constructor(traceId: string | undefined, parent: TraceCarrier) {
    this.traceId = traceId;
    const carrier: Record<string, string> = { traceparent: parent.traceparent as string };
    const state = parent.tracestate;
    // From `_meta` it is any JSON string: only one that is a valid header value goes on.
    if (typeof state === 'string' && TRACESTATE.test(state)) carrier['tracestate'] = state;
    this.carrier = carrier;
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

/** A span of no trace at all. */
export const NO_SPAN: GatewaySpan = Object.freeze({
  recording: false,
  traceId: undefined,
  carrier: NO_CARRIER,
  rename() {},
  requestId() {},
  set() {},
  fail() {},
  client() {
    return NO_SPAN;
  },
  end() {},
});

/** Records nothing; a request that came with a valid `traceparent` keeps it (passed on, logged). */
export const NO_TRACER: GatewayTracer = Object.freeze({
  enabled: false,
  server(_name: string, parent: TraceCarrier | undefined): GatewaySpan {
    const traceId = traceIdOf(parent?.traceparent);
    return traceId === undefined ? NO_SPAN : new PassThroughSpan(traceId, parent as TraceCarrier);
  },
});

/** The trace context in an MCP request's `params._meta`, as the MCP semantic conventions carry it. */
export function metaCarrier(params: unknown): TraceCarrier | undefined {
  if (typeof params !== 'object' || params === null) return undefined;
  const meta = (params as { _meta?: unknown })._meta;
  if (typeof meta !== 'object' || meta === null) return undefined;
  const { traceparent, tracestate } = meta as Record<string, unknown>;
  if (typeof traceparent !== 'string') return undefined;
  return { traceparent, tracestate: typeof tracestate === 'string' ? tracestate : undefined };
}

/** Params with the span's context in `_meta` (a copy; the caller's `_meta` fields kept). */
export function withTraceMeta(params: unknown, carrier: Readonly<Record<string, string>>): unknown {
  if (carrier['traceparent'] === undefined) return params;
  const base = typeof params === 'object' && params !== null ? (params as Record<string, unknown>) : {};
  const meta = typeof base['_meta'] === 'object' && base['_meta'] !== null ? base['_meta'] : {};
  const { tracestate: _dropped, ...rest } = meta as Record<string, unknown>;
  return { ...base, _meta: { ...rest, ...carrier } };
}

/**
 * Headers with the span's context in place of the caller's: its `traceparent`, and its
 * `tracestate` or none (a caller's `tracestate` belongs to the caller's traceparent, and a span
 * that did not continue it starts a trace of its own); the headers as they are when the span
 * carries no context.
 * @see https://www.w3.org/TR/trace-context/#tracestate-header
 */
export function withTraceHeaders(
  headers: Readonly<Record<string, string>>,
  carrier: Readonly<Record<string, string>>,
): Readonly<Record<string, string>> {
  if (carrier['traceparent'] === undefined) return headers;
  const { tracestate: _dropped, ...rest } = headers;
  return { ...rest, ...carrier };
}
