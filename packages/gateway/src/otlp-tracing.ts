import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import { NO_TRACER, type GatewayTracer, type Logger } from '@mcp-gateway/core';
import { createOtelTracer } from '@mcp-gateway/core/otel';

/** The gateway's tracing in this process: its port, and how to flush what it holds at stop. */
export interface OtlpTracing {
  readonly tracer: GatewayTracer;
  /** Exports the spans still queued, then stops. */
  shutdown(): Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

const OFF: OtlpTracing = { tracer: NO_TRACER, shutdown: async () => {} };

/** Longest attribute value kept, unless OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT says otherwise. */
const DEFAULT_ATTRIBUTE_VALUE_LIMIT = 1_024;

/**
 * Tracing as the standard OpenTelemetry environment asks for it: on when an OTLP endpoint is
 * named (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`, as the anchor
 * decides) unless `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`; the protocol from
 * `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL` (an `rpc://` endpoint, the anchor's spelling, means
 * grpc); the exporters read their own headers, timeout and TLS variables. Spans are batched.
 * Off, nothing is built and every span is the no-op one.
 * @see https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
 * @see https://opentelemetry.io/docs/specs/otel/protocol/exporter/
 */
export function startOtlpTracing(env: Env, version: string, logger: Logger): OtlpTracing {
  const endpoint = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ?? env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  if (endpoint === undefined || endpoint === '') return OFF;
  if (env['OTEL_SDK_DISABLED']?.toLowerCase() === 'true') return OFF;
  if (env['OTEL_TRACES_EXPORTER']?.toLowerCase() === 'none') return OFF;
  diag.setLogger(diagLogger(logger), DiagLogLevel.WARN);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'mcp-gateway', 'service.version': version }).merge(
      detectResources({ detectors: [envDetector] }),
    ),
    sampler: samplerFrom(env),
    spanLimits: { attributeValueLengthLimit: attributeLimit(env) },
    spanProcessors: [new BatchSpanProcessor({ exporter: exporterFor(endpoint, env), ...batchOptions(env) })],
  });
  logger.info('exporting traces by OTLP', { protocol: protocolOf(endpoint, env) });
  return {
    tracer: createOtelTracer(provider.getTracer('mcp-gateway', version)),
    async shutdown() {
      await provider.shutdown().catch((error: unknown) => {
        logger.warn('could not export the last spans', { error: String(error) });
      });
    },
  };
}

function protocolOf(endpoint: string, env: Env): string {
  const named = env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] ?? env['OTEL_EXPORTER_OTLP_PROTOCOL'];
  if (named !== undefined && named !== '') return named;
  return endpoint.startsWith('rpc://') ? 'grpc' : 'http/protobuf';
}

function exporterFor(endpoint: string, env: Env): SpanExporter {
  const protocol = protocolOf(endpoint, env);
  switch (protocol) {
    case 'grpc':
      // The anchor's rpc:// scheme is plain gRPC; the exporter wants http:// for that.
      return endpoint.startsWith('rpc://')
        ? new GrpcExporter({ url: `http://${endpoint.slice('rpc://'.length)}` })
        : new GrpcExporter();
    case 'http/json':
      return new JsonExporter();
    case 'http/protobuf':
      return new ProtobufExporter();
    default:
      throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL must be grpc, http/protobuf or http/json, not ${protocol}`);
  }
}

/** The sampler OTEL_TRACES_SAMPLER names (default parentbased_always_on). */
function samplerFrom(env: Env): Sampler {
  const name = (env['OTEL_TRACES_SAMPLER'] ?? 'parentbased_always_on').toLowerCase();
  const ratio = Number(env['OTEL_TRACES_SAMPLER_ARG'] ?? '1');
  const fraction = Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? ratio : 1;
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(fraction);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(fraction) });
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    default:
      throw new Error(
        `OTEL_TRACES_SAMPLER must be always_on, always_off, traceidratio or parentbased_(always_on|always_off|traceidratio), not ${name}`,
      );
  }
}

/** The batch processor's OTEL_BSP_* settings (delay, queue, batch size, export timeout). */
function batchOptions(env: Env) {
  const positive = (name: string): number | undefined => {
    const value = Number(env[name]);
    return Number.isInteger(value) && value > 0 ? value : undefined;
  };
  const options: Record<string, number> = {};
  const named = {
    scheduledDelayMillis: positive('OTEL_BSP_SCHEDULE_DELAY'),
    maxQueueSize: positive('OTEL_BSP_MAX_QUEUE_SIZE'),
    maxExportBatchSize: positive('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
    exportTimeoutMillis: positive('OTEL_BSP_EXPORT_TIMEOUT'),
  };
  for (const [key, value] of Object.entries(named)) if (value !== undefined) options[key] = value;
  return options;
}

function attributeLimit(env: Env): number {
  const limit = Number(env['OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT']);
  return Number.isInteger(limit) && limit > 0 ? limit : DEFAULT_ATTRIBUTE_VALUE_LIMIT;
}

/** The SDK's own complaints (an unreachable collector) go to the gateway's log. */
function diagLogger(logger: Logger): DiagLogger {
  const log = (message: string, ...args: unknown[]) =>
    logger.warn('opentelemetry', { message, ...(args.length > 0 && { detail: args.map(String).join(' ') }) });
  return { error: log, warn: log, info: () => {}, debug: () => {}, verbose: () => {} };
}
