import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { NO_TRACER, type Logger } from '@mcp-gateway/core';
import { otlpTarget, startOtelTracing, type OtelEnv, type OtelTracing, type OtlpTarget } from '@mcp-gateway/core/otel';

const OFF: OtelTracing = { tracer: NO_TRACER, flush: async () => {}, shutdown: async () => {} };

/**
 * Tracing in the Node process as the standard OTEL_* environment asks for it (see otlpTarget
 * and startOtelTracing in core): off, nothing is built and every span is the no-op one. The
 * exporters read their own OTEL_EXPORTER_OTLP_* headers, timeout, compression and TLS settings.
 * Throws, before anything listens, on a value the specification does not allow.
 */
export function startOtlpTracing(env: OtelEnv, version: string, logger: Logger): OtelTracing {
  const target = otlpTarget(env);
  if (target === undefined) return OFF;
  const tracing = startOtelTracing(env, version, exporterFor(target), logger);
  logger.info('exporting traces by OTLP', { protocol: target.protocol });
  return tracing;
}

function exporterFor(target: OtlpTarget): SpanExporter {
  switch (target.protocol) {
    case 'grpc':
      // The anchor's rpc:// scheme is plaintext gRPC, which the exporter spells http://.
      return target.endpoint.startsWith('rpc://')
        ? new GrpcExporter({ url: `http://${target.endpoint.slice('rpc://'.length)}` })
        : new GrpcExporter();
    case 'http/json':
      return new JsonExporter();
    case 'http/protobuf':
      return new ProtobufExporter();
  }
}
