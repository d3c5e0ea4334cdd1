/**
 * What the standard OTEL_* environment says about exporting traces: whether, where, how
 * (protocol, headers, compression, timeout) and as whom (resource attributes). Read the same
 * way by the Node process (process.env) and the worker (its bindings).
 * @see https://opentelemetry.io/docs/specs/otel/protocol/exporter/
 * @see https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
 */

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

/**
 * Whether spans are exported, and where: when an OTLP endpoint is named
 * (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`, as the anchor decides),
 * unless `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`; the protocol from
 * `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL` (default http/protobuf; an
 * `rpc://` endpoint, the anchor's spelling, is grpc). Throws on a protocol the spec does not name.
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

/** The URL spans are posted to over HTTP: the traces endpoint as given, else the base one with `/v1/traces`. */
export function otlpTracesUrl(target: OtlpTarget): string {
  return target.signalSpecific ? target.endpoint : `${target.endpoint.replace(/\/+$/, '')}/v1/traces`;
}

/** The traces variable when set, else the general one (`OTEL_EXPORTER_OTLP_TRACES_X`, `OTEL_EXPORTER_OTLP_X`). */
export function otlpSetting(env: OtelEnv, name: string): string | undefined {
  const traces = env[`OTEL_EXPORTER_OTLP_TRACES_${name}`];
  return traces !== undefined && traces !== '' ? traces : env[`OTEL_EXPORTER_OTLP_${name}`] || undefined;
}

/** OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT in milliseconds; default 10 s. */
export function otlpTimeoutMs(env: OtelEnv): number {
  return positiveInteger(otlpSetting(env, 'TIMEOUT')) ?? 10_000;
}

/** OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION: true for gzip; throws on a value the spec does not name. */
export function otlpGzip(env: OtelEnv): boolean {
  const value = otlpSetting(env, 'COMPRESSION')?.trim().toLowerCase() ?? 'none';
  if (value !== 'gzip' && value !== 'none') {
    throw new Error(`OTEL_EXPORTER_OTLP_COMPRESSION must be gzip or none, not "${value}"`);
  }
  return value === 'gzip';
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

/** The resource: `service.name` from OTEL_SERVICE_NAME (default `mcp-gateway`), `service.version`, OTEL_RESOURCE_ATTRIBUTES. */
export function otelResource(env: OtelEnv, version: string): Record<string, string> {
  return {
    'service.version': version,
    ...resourceAttributes(env['OTEL_RESOURCE_ATTRIBUTES']),
    'service.name': env['OTEL_SERVICE_NAME'] || 'mcp-gateway',
  };
}

/** A positive integer setting, or undefined when unset or not one. */
export function positiveInteger(text: string | undefined): number | undefined {
  const value = Number(text);
  return text !== undefined && text !== '' && Number.isInteger(value) && value > 0 ? value : undefined;
}
