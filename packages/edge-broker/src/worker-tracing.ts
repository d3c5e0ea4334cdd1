import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { Logger } from '@mcp-gateway/core';
import { otlpHeaders, otlpTarget, startOtelTracing, type OtelEnv, type OtelTracing } from '@mcp-gateway/core/otel';

/** How long one export may take before it is given up (OTEL_EXPORTER_OTLP_TIMEOUT's default). */
const EXPORT_TIMEOUT_MS = 10_000;

/**
 * Tracing in workerd, from the worker's OTEL_* bindings: the same spans as on Node, exported by
 * OTLP over HTTP (protobuf, or JSON when OTEL_EXPORTER_OTLP_PROTOCOL=http/json) with the
 * runtime's fetch, flushed in waitUntil after each request (a worker has no timers between
 * requests). OTLP/gRPC cannot be spoken from a worker: asking for it is a configuration error.
 * Undefined when no endpoint is bound.
 */
export function startWorkerTracing(env: OtelEnv, version: string, logger: Logger): OtelTracing | undefined {
  const target = otlpTarget(env);
  if (target === undefined) return undefined;
  if (target.protocol === 'grpc') {
    throw new Error('OTLP/gRPC cannot be exported from a worker: set OTEL_EXPORTER_OTLP_PROTOCOL to http/protobuf');
  }
  const url = target.signalSpecific ? target.endpoint : `${target.endpoint.replace(/\/+$/, '')}/v1/traces`;
  const exporter = fetchExporter(url, target.protocol === 'http/json', otlpHeaders(env), logger);
  return startOtelTracing(env, version, exporter, logger);
}

/** An OTLP/HTTP span exporter on fetch, serializing with OpenTelemetry's own OTLP serializers. */
function fetchExporter(url: string, json: boolean, headers: Record<string, string>, logger: Logger): SpanExporter {
  const serializer = json ? JsonTraceSerializer : ProtobufTraceSerializer;
  const contentType = json ? 'application/json' : 'application/x-protobuf';
  const pending = new Set<Promise<void>>();
  return {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
      const body = serializer.serializeRequest(spans);
      if (body === undefined)
        return done({ code: ExportResultCode.FAILED, error: new Error('spans not serializable') });
      const sent = fetch(url, {
        method: 'POST',
        headers: { ...headers, 'content-type': contentType },
        body: body as Uint8Array<ArrayBuffer>,
        signal: AbortSignal.timeout(EXPORT_TIMEOUT_MS),
      })
        .then(async (response) => {
          await response.body?.cancel();
          if (!response.ok) throw new Error(`the collector answered ${response.status}`);
          done({ code: ExportResultCode.SUCCESS });
        })
        .catch((error: unknown) => {
          logger.warn('could not export spans', { spans: spans.length, error: String(error) });
          done({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
        })
        .finally(() => pending.delete(sent));
      pending.add(sent);
    },
    async forceFlush(): Promise<void> {
      await Promise.all(pending);
    },
    async shutdown(): Promise<void> {
      await Promise.all(pending);
    },
  };
}
