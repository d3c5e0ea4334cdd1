import type { Logger } from '@mcp-gateway/core';
import {
  createOtlpHttpSender,
  otlpGzip,
  otlpHeaders,
  otlpTarget,
  otlpTimeoutMs,
  otlpTracesUrl,
  startOtelTracing,
  type OtelEnv,
  type OtelTracing,
} from '@mcp-gateway/core/otel';

/**
 * Tracing in workerd, from the worker's OTEL_* bindings: the same spans as on Node, exported by
 * OTLP over HTTP (protobuf, or JSON when OTEL_EXPORTER_OTLP_PROTOCOL=http/json; gzip when asked)
 * with the runtime's fetch, flushed in waitUntil after each request (a worker has no timers
 * between requests). OTLP/gRPC cannot be spoken from a worker: asking for it is a configuration
 * error. Undefined when no endpoint is bound.
 */
export function startWorkerTracing(env: OtelEnv, version: string, logger: Logger): OtelTracing | undefined {
  const target = otlpTarget(env);
  if (target === undefined) return undefined;
  if (target.protocol === 'grpc') {
    throw new Error('OTLP/gRPC cannot be exported from a worker: set OTEL_EXPORTER_OTLP_PROTOCOL to http/protobuf');
  }
  const sender = createOtlpHttpSender({
    url: otlpTracesUrl(target),
    json: target.protocol === 'http/json',
    headers: otlpHeaders(env),
    gzip: otlpGzip(env),
    timeoutMs: otlpTimeoutMs(env),
    fetch: (input, init) => fetch(input, init),
  });
  return startOtelTracing(env, version, sender, logger);
}
