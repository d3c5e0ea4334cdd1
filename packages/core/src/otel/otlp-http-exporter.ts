import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { Logger } from '../logger.ts';
import type { OtelEnv, OtlpTarget } from './otel-tracing.ts';

/** Options of {@link createOtlpHttpExporter}. */
export interface OtlpHttpExporterOptions {
  /** The traces endpoint (see {@link otlpTracesUrl}). */
  readonly url: string;
  /** OTLP/JSON instead of OTLP/protobuf. */
  readonly json: boolean;
  /** Headers for the collector (OTEL_EXPORTER_OTLP_HEADERS). */
  readonly headers: Readonly<Record<string, string>>;
  /** How the host sends a request (the runtime's fetch). */
  readonly fetch: typeof fetch;
  /** Longest one export may take (OTEL_EXPORTER_OTLP_TIMEOUT); default 10 s. */
  readonly timeoutMs?: number | undefined;
  readonly logger: Logger;
}

/** The URL spans are posted to: the traces endpoint as given, else the base one with `/v1/traces`. */
export function otlpTracesUrl(target: OtlpTarget): string {
  return target.signalSpecific ? target.endpoint : `${target.endpoint.replace(/\/+$/, '')}/v1/traces`;
}

/** OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT in milliseconds, when valid. */
export function otlpTimeoutMs(env: OtelEnv): number | undefined {
  const value = Number(env['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT'] ?? env['OTEL_EXPORTER_OTLP_TIMEOUT']);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * An OTLP/HTTP span exporter on a fetch the host gives, serializing with OpenTelemetry's own OTLP
 * serializers: the worker's exporter (its runtime's fetch; the SDK's HTTP exporters need Node's
 * http client or browser APIs). The Node host uses OpenTelemetry's exporters, which read every
 * OTEL_EXPORTER_OTLP_* setting (compression and certificates too).
 */
export function createOtlpHttpExporter(options: OtlpHttpExporterOptions): SpanExporter {
  const { url, logger } = options;
  const serializer = options.json ? JsonTraceSerializer : ProtobufTraceSerializer;
  const headers = { ...options.headers, 'content-type': options.json ? 'application/json' : 'application/x-protobuf' };
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pending = new Set<Promise<void>>();
  return {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
      const body = serializer.serializeRequest(spans);
      if (body === undefined)
        return done({ code: ExportResultCode.FAILED, error: new Error('spans not serializable') });
      const sent = options
        .fetch(url, {
          method: 'POST',
          headers,
          body: body as Uint8Array<ArrayBuffer>,
          signal: AbortSignal.timeout(timeoutMs),
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
