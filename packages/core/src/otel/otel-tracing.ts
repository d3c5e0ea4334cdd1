import type { Logger } from '../logger.ts';
import type { GatewayTracer } from '../telemetry/gateway-tracer.ts';
import { otelResource, positiveInteger, type OtelEnv } from './otel-env.ts';
import { createOtelTracer } from './otel-tracer.ts';
import { createSpanBuffer } from './otlp-encoding.ts';
import { SpanBatcher, type BatchSettings } from './span-batcher.ts';
import { samplerFrom } from './span-sampler.ts';

/** How a host sends an encoded ExportTraceServiceRequest to the collector (OTLP/HTTP or OTLP/gRPC). */
export interface OtlpSender {
  /** The encoding the protocol carries: protobuf (gRPC, http/protobuf) or JSON (http/json). */
  readonly format: 'protobuf' | 'json';
  /** Resolves when the collector took the request; rejects with what went wrong. */
  send(body: Uint8Array | string): Promise<void>;
  /** Releases the connection, if it holds one. */
  close?(): void;
}

/** Spans being exported, and how to send what is queued. */
export interface OtelTracing {
  readonly tracer: GatewayTracer;
  /** Exports every span ended so far (workerd calls it in waitUntil after each request). */
  flush(): Promise<void>;
  /** Exports what is queued, then stops. */
  shutdown(): Promise<void>;
}

/** Longest attribute value kept, unless OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT says otherwise. */
const DEFAULT_ATTRIBUTE_VALUE_LIMIT = 1_024;

/** The batch settings from OTEL_BSP_*, the specification's defaults for those unset or invalid. */
export function batchSettings(env: OtelEnv): BatchSettings {
  const maxQueueSize = positiveInteger(env['OTEL_BSP_MAX_QUEUE_SIZE']) ?? 2_048;
  return {
    scheduledDelayMs: positiveInteger(env['OTEL_BSP_SCHEDULE_DELAY']) ?? 5_000,
    maxQueueSize,
    maxExportBatchSize: Math.min(maxQueueSize, positiveInteger(env['OTEL_BSP_MAX_EXPORT_BATCH_SIZE']) ?? 512),
    exportTimeoutMs: positiveInteger(env['OTEL_BSP_EXPORT_TIMEOUT']) ?? 30_000,
  };
}

/**
 * Tracing as the OTEL_* environment configures it, exporting OTLP through `sender` in batches:
 * the resource (`service.name` from OTEL_SERVICE_NAME, default `mcp-gateway`; `service.version`;
 * OTEL_RESOURCE_ATTRIBUTES), the sampler (OTEL_TRACES_SAMPLER and _ARG), the batch settings
 * (OTEL_BSP_*) and the attribute value limit (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, default 1 024).
 * A collector that refuses or is down is logged at warn; calls go on. Throws on a sampler the
 * specification does not name.
 */
export function startOtelTracing(env: OtelEnv, version: string, sender: OtlpSender, logger: Logger): OtelTracing {
  const buffer = createSpanBuffer({
    format: sender.format,
    resource: otelResource(env, version),
    scope: { name: 'mcp-gateway', version },
    valueLimit: positiveInteger(env['OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT']) ?? DEFAULT_ATTRIBUTE_VALUE_LIMIT,
  });
  const batcher = new SpanBatcher(batchSettings(env), buffer, (body) => sender.send(body), logger);
  return {
    tracer: createOtelTracer(samplerFrom(env), batcher.add),
    flush: () => batcher.flush(),
    async shutdown() {
      await batcher.flush();
      sender.close?.();
    },
  };
}
