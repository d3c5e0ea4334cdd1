import type { TraceCarrier } from '@mcp-gateway/core/router';
import type { Metadata } from '@grpc/grpc-js';

/**
 * Where a routed call's span starts: the trace Envoy's ext_proc call carries (its gRPC
 * metadata's `traceparent`, when Envoy traces), else the client's request headers'; and when
 * the stream began.
 */
export interface StreamTrace {
  readonly parent: TraceCarrier | undefined;
  /** Milliseconds since the epoch. */
  readonly startTime: number;
}

/** No trace to continue (tests, and a request Envoy and the client both leave untraced). */
export const NO_STREAM_TRACE: StreamTrace = { parent: undefined, startTime: 0 };

/**
 * The trace context Envoy puts on its ext_proc call when it traces (W3C `traceparent` in the
 * gRPC metadata, a child of its span for the request): the router's spans join Envoy's trace.
 */
export function envoyTraceOf(stream: { readonly metadata?: Metadata }): TraceCarrier | undefined {
  const metadata = stream.metadata;
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
