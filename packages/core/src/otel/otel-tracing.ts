import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
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
import type { Logger } from '../logger.ts';
import type { GatewayTracer } from '../telemetry/gateway-tracer.ts';
import { createOtelTracer } from './otel-tracer.ts';

/** The OTEL_* environment (process.env on Node, the worker's bindings in workerd). */
export type OtelEnv = Readonly<Record<string, string | undefined>>;

/** The OTLP protocols of the specification. */
export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';

/** Where spans go: the collector's endpoint as configured and the protocol to speak. */
export interface OtlpTarget {
  /** `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (the full URL) when set, else `OTEL_EXPORTER_OTLP_ENDPOINT` (a base). */
  readonly endpoint: string;
  /** True when `endpoint` is the traces endpoint itself (no `/v1/traces` to append). */
  readonly signalSpecific: boolean;
  readonly protocol: OtlpProtocol;
}

/** Spans being exported, and how to send what is queued. */
export interface OtelTracing {
  readonly tracer: GatewayTracer;
  /** Exports every span ended so far (workerd calls it in waitUntil after each request). */
  flush(): Promise<void>;
  /** Exports what is queued, then stops. */
  shutdown(): Promise<void>;
}

/**
 * Whether spans are exported, and where: when an OTLP endpoint is named
 * (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`, as the anchor decides),
 * unless `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`; the protocol from
 * `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL` (default http/protobuf; an
 * `rpc://` endpoint, the anchor's spelling, is grpc). Throws on a protocol the spec does not name.
 * @see https://opentelemetry.io/docs/specs/otel/protocol/exporter/
 */
export function otlpTarget(env: OtelEnv): OtlpTarget | undefined {
  const traces = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'];
  const endpoint = traces !== undefined && traces !== '' ? traces : env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  if (endpoint === undefined || endpoint === '') return undefined;
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return undefined;
  if (env['OTEL_TRACES_EXPORTER']?.trim().toLowerCase() === 'none') return undefined;
  const named = (env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] || env['OTEL_EXPORTER_OTLP_PROTOCOL'])?.trim();
  const protocol = named || (endpoint.startsWith('rpc://') ? 'grpc' : 'http/protobuf');
  if (protocol !== 'grpc' && protocol !== 'http/protobuf' && protocol !== 'http/json') {
    throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL must be grpc, http/protobuf or http/json, not "${protocol}"`);
  }
  return { endpoint, signalSpecific: endpoint === traces, protocol };
}

/** Longest attribute value kept, unless OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT says otherwise. */
const DEFAULT_ATTRIBUTE_VALUE_LIMIT = 1_024;

/**
 * A tracer provider as the OTEL_* environment configures it, exporting through `exporter` in
 * batches: the resource (`service.name` from OTEL_SERVICE_NAME, default `mcp-gateway`;
 * `service.version`; OTEL_RESOURCE_ATTRIBUTES), the sampler (OTEL_TRACES_SAMPLER and _ARG),
 * the batch settings (OTEL_BSP_*) and the attribute value limit. The SDK's own complaints (a
 * collector that refuses or is down) go to the gateway's log at warn.
 */
export function startOtelTracing(env: OtelEnv, version: string, exporter: SpanExporter, logger: Logger): OtelTracing {
  diag.setLogger(diagLogger(logger), DiagLogLevel.WARN);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.version': version,
      ...resourceAttributes(env['OTEL_RESOURCE_ATTRIBUTES']),
      'service.name': env['OTEL_SERVICE_NAME'] || 'mcp-gateway',
    }),
    sampler: samplerFrom(env),
    spanLimits: {
      attributeValueLengthLimit: positive(env, 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT') ?? DEFAULT_ATTRIBUTE_VALUE_LIMIT,
    },
    spanProcessors: [new BatchSpanProcessor({ exporter, ...batchOptions(env) })],
  });
  return {
    tracer: createOtelTracer(provider.getTracer('mcp-gateway', version)),
    flush: () => provider.forceFlush(),
    async shutdown() {
      await provider.shutdown().catch((error: unknown) => {
        logger.warn('could not export the last spans', { error: String(error) });
      });
    },
  };
}

/** OTEL_RESOURCE_ATTRIBUTES: `key=value` pairs, comma-separated, values percent-encoded. */
export function resourceAttributes(text: string | undefined): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (text === undefined) return attributes;
  for (const pair of text.split(',')) {
    const equals = pair.indexOf('=');
    if (equals <= 0) continue;
    try {
      attributes[pair.slice(0, equals).trim()] = decodeURIComponent(pair.slice(equals + 1).trim());
    } catch {
      // A malformed escape: the pair is left out, as the specification asks.
    }
  }
  return attributes;
}

/** OTEL_EXPORTER_OTLP_HEADERS (and the traces one): `key=value` pairs, percent-encoded. */
export function otlpHeaders(env: OtelEnv): Record<string, string> {
  return {
    ...resourceAttributes(env['OTEL_EXPORTER_OTLP_HEADERS']),
    ...resourceAttributes(env['OTEL_EXPORTER_OTLP_TRACES_HEADERS']),
  };
}

/** The sampler OTEL_TRACES_SAMPLER names (default parentbased_always_on). */
function samplerFrom(env: OtelEnv): Sampler {
  const name = (env['OTEL_TRACES_SAMPLER'] || 'parentbased_always_on').trim().toLowerCase();
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
        `OTEL_TRACES_SAMPLER must be always_on, always_off, traceidratio or parentbased_always_on, parentbased_always_off, parentbased_traceidratio, not "${name}"`,
      );
  }
}

function positive(env: OtelEnv, name: string): number | undefined {
  const value = Number(env[name]);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

/** The batch processor's OTEL_BSP_* settings. */
function batchOptions(env: OtelEnv): Record<string, number> {
  const named = {
    scheduledDelayMillis: positive(env, 'OTEL_BSP_SCHEDULE_DELAY'),
    maxQueueSize: positive(env, 'OTEL_BSP_MAX_QUEUE_SIZE'),
    maxExportBatchSize: positive(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
    exportTimeoutMillis: positive(env, 'OTEL_BSP_EXPORT_TIMEOUT'),
  };
  const options: Record<string, number> = {};
  for (const [key, value] of Object.entries(named)) if (value !== undefined) options[key] = value;
  return options;
}

function diagLogger(logger: Logger): DiagLogger {
  const log = (message: string, ...args: unknown[]) =>
    logger.warn('opentelemetry', { message, ...(args.length > 0 && { detail: args.map(String).join(' ') }) });
  return { error: log, warn: log, info: () => {}, debug: () => {}, verbose: () => {} };
}
