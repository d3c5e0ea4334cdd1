import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { GatewaySpan, GatewayTracer, SpanAttributes, TraceCarrier } from '../telemetry/gateway-tracer.ts';

const propagator = new W3CTraceContextPropagator();

const carrierGetter: TextMapGetter<TraceCarrier> = {
  keys: () => ['traceparent', 'tracestate'],
  get: (carrier, key) => (key === 'traceparent' || key === 'tracestate' ? (carrier[key] ?? undefined) : undefined),
};

const recordSetter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

/** The attributes without their undefined values (OpenTelemetry drops those with a warning); copied only when needed. */
function defined(attributes: SpanAttributes): Attributes {
  let out: Attributes | undefined;
  for (const key in attributes) {
    if (attributes[key] !== undefined) continue;
    out = {};
    for (const name in attributes) {
      const value = attributes[name];
      if (value !== undefined) out[name] = value;
    }
    return out;
  }
  return attributes as Attributes;
}

class OtelSpan implements GatewaySpan {
  #carrier: Record<string, string> | undefined;
  #context: Context | undefined;
  private readonly tracer: Tracer;
  private readonly span: Span;

  constructor(tracer: Tracer, span: Span) {
    this.tracer = tracer;
    this.span = span;
  }

  get recording(): boolean {
    return this.span.isRecording();
  }

  get traceId(): string {
    return this.span.spanContext().traceId;
  }

  get carrier(): Readonly<Record<string, string>> {
    if (this.#carrier === undefined) {
      this.#carrier = {};
      propagator.inject(this.context(), this.#carrier, recordSetter);
    }
    return this.#carrier;
  }

  rename(name: string): void {
    this.span.updateName(name);
  }

  set(attributes: SpanAttributes): void {
    this.span.setAttributes(defined(attributes));
  }

  fail(errorType: string, description?: string): void {
    this.span.setAttribute('error.type', errorType);
    this.span.setStatus(
      description === undefined ? { code: SpanStatusCode.ERROR } : { code: SpanStatusCode.ERROR, message: description },
    );
  }

  client(name: string, attributes: SpanAttributes): GatewaySpan {
    const parent = this.context();
    const child = this.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes: defined(attributes) }, parent);
    return new OtelSpan(this.tracer, child);
  }

  end(): void {
    this.span.end();
  }

  /** This span as the parent context of its children and of its carrier (made once). */
  private context(): Context {
    return (this.#context ??= trace.setSpan(ROOT_CONTEXT, this.span));
  }
}

/**
 * The gateway's tracing port on an OpenTelemetry tracer (the host builds its provider, sampler
 * and exporter): a W3C `traceparent` (and `tracestate`) is continued when valid and ignored
 * when not; span contexts are passed explicitly, so no context manager is needed (workerd has
 * none).
 */
export function createOtelTracer(tracer: Tracer): GatewayTracer {
  return {
    enabled: true,
    server(name, parent, attributes, startTime) {
      const context =
        typeof parent?.traceparent === 'string'
          ? propagator.extract(ROOT_CONTEXT, parent, carrierGetter)
          : ROOT_CONTEXT;
      const options =
        startTime === undefined
          ? { kind: SpanKind.SERVER, attributes: defined(attributes) }
          : { kind: SpanKind.SERVER, attributes: defined(attributes), startTime };
      return new OtelSpan(tracer, tracer.startSpan(name, options, context));
    },
  };
}
