// Jaeger's query API v3 answers with OTLP JSON (`{ result: { resourceSpans } }`); this turns it
// into traces of flat spans whose attributes are plain values, which is what a test asserts on.

/** An attribute value as a plain value; an OTLP int64 becomes a number (exact below 2^53). */
export type AttributeValue = string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };

export type SpanKindName = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/** A span as Jaeger stored it, with the resource and scope of its batch. */
export interface JaegerSpan {
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  /** 16 lowercase hex digits. */
  readonly spanId: string;
  /** The parent's span id (also when the parent never reached Jaeger); undefined for a root span. */
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: SpanKindName;
  /** The resource's `service.name`. */
  readonly service: string;
  readonly scope: string;
  /** Nanoseconds since the epoch, as OTLP writes them (strings: they pass 2^53). */
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly resource: Readonly<Record<string, AttributeValue>>;
  readonly status: { readonly code: 'unset' | 'ok' | 'error'; readonly message: string };
  readonly events: readonly { readonly name: string; readonly attributes: Readonly<Record<string, AttributeValue>> }[];
  /** The trace state (W3C `tracestate`) the span carried, or ''. */
  readonly traceState: string;
}

export interface JaegerTrace {
  readonly traceId: string;
  /** Every span of the trace, in the order Jaeger returned them. */
  readonly spans: readonly JaegerSpan[];
}

interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}

interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind?: number | string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: OtlpKeyValue[];
  events?: { name: string; attributes?: OtlpKeyValue[] }[];
  status?: { code?: number | string; message?: string };
}

interface OtlpTracesBody {
  result?: {
    resourceSpans?: {
      resource?: { attributes?: OtlpKeyValue[] };
      scopeSpans?: { scope?: { name?: string }; spans?: OtlpSpan[] }[];
    }[];
  };
}

const KINDS: readonly SpanKindName[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS_CODES = ['unset', 'ok', 'error'] as const;

/** The traces of a `/api/v3/traces` answer, grouped by trace id in the order they first appear. */
export function fromOtlpTraces(body: unknown): JaegerTrace[] {
  const byId = new Map<string, JaegerSpan[]>();
  for (const resourceSpans of (body as OtlpTracesBody).result?.resourceSpans ?? []) {
    const resource = toAttributes(resourceSpans.resource?.attributes);
    const service = typeof resource['service.name'] === 'string' ? resource['service.name'] : '';
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        const spans = byId.get(span.traceId) ?? [];
        spans.push(toSpan(span, service, scopeSpans.scope?.name ?? '', resource));
        byId.set(span.traceId, spans);
      }
    }
  }
  return [...byId].map(([traceId, spans]) => ({ traceId, spans }));
}

function toSpan(span: OtlpSpan, service: string, scope: string, resource: Record<string, AttributeValue>): JaegerSpan {
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId || undefined,
    name: span.name,
    kind: toEnum(span.kind, KINDS, 'SPAN_KIND_') ?? 'unspecified',
    service,
    scope,
    startTimeUnixNano: String(span.startTimeUnixNano),
    endTimeUnixNano: String(span.endTimeUnixNano),
    attributes: toAttributes(span.attributes),
    resource,
    status: {
      code: toEnum(span.status?.code, STATUS_CODES, 'STATUS_CODE_') ?? 'unset',
      message: span.status?.message ?? '',
    },
    events: (span.events ?? []).map((event) => ({ name: event.name, attributes: toAttributes(event.attributes) })),
    traceState: span.traceState ?? '',
  };
}

/** An OTLP enum written as its number (1) or its name (`SPAN_KIND_INTERNAL`). */
function toEnum<T extends string>(
  value: number | string | undefined,
  names: readonly T[],
  prefix: string,
): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return names[value];
  return names.find((name) => `${prefix}${name.toUpperCase()}` === value);
}

function toAttributes(list: readonly OtlpKeyValue[] | undefined): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) attributes[key] = toValue(value);
  return attributes;
}

function toValue(value: OtlpAnyValue | undefined): AttributeValue {
  if (value === undefined) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(toValue);
  if (value.kvlistValue !== undefined) return toAttributes(value.kvlistValue.values);
  if (value.bytesValue !== undefined) return value.bytesValue;
  return null;
}
