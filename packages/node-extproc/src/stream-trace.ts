import type { TraceCarrier } from '@mcp-gateway/core/router';

/**
 * The trace context Envoy puts on its ext_proc call when it traces: the gRPC metadata carries
 * `traceparent` (the span Envoy opens for the ext_proc call, a child of its span for the
 * request) and `tracestate` (empty when the request had none), so the router's spans join
 * Envoy's trace. Envoy 1.40 sends `x-envoy-internal` and `x-forwarded-for` there too.
 */
export function envoyTraceOf(stream: unknown): TraceCarrier | undefined {
  const metadata = (stream as { metadata?: { get(key: string): unknown[] } }).metadata;
  const traceparent = metadata?.get('traceparent')[0];
  if (typeof traceparent !== 'string') return undefined;
  const tracestate = metadata?.get('tracestate')[0];
  return { traceparent, tracestate: typeof tracestate === 'string' ? tracestate : undefined };
}

/** The client's trace context, from the request's headers (Envoy does not trace). */
export function headerTrace(headers: ReadonlyMap<string, string>): TraceCarrier | undefined {
  const traceparent = headers.get('traceparent');
  return traceparent === undefined ? undefined : { traceparent, tracestate: headers.get('tracestate') };
}
