import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './free-port.ts';
import { fromOtlpTraces, type JaegerTrace } from './jaeger-traces.ts';
import { observabilityBinary } from './observability-binaries.ts';
import { pollUntil } from './poll.ts';
import { startProcess, type RunningProcess } from './process.ts';

export type { AttributeValue, JaegerSpan, JaegerTrace, SpanKindName } from './jaeger-traces.ts';

export interface StartJaegerOptions {
  /** How long to wait for the collector to be ready. Default 20 000 ms. */
  timeoutMs?: number;
}

export interface TraceSearch {
  /** Only traces with a span of this name in the service. */
  operation?: string;
  /** At most this many traces (`query.num_traces`). Default 100. */
  limit?: number;
  /** How far back to search. Default one hour. */
  lookbackMs?: number;
}

/** A real Jaeger (v2: collector and query in one) storing traces in memory, on loopback ports of its own. */
export interface RunningJaeger {
  /**
   * `http://127.0.0.1:<port>`, the OTLP/HTTP receiver: the value for `OTEL_EXPORTER_OTLP_ENDPOINT`
   * (an exporter posts to `<it>/v1/traces`).
   */
  readonly otlpHttpUrl: string;
  /** `127.0.0.1:<port>`, the OTLP/gRPC receiver (plaintext). */
  readonly otlpGrpcAddress: string;
  /** `http://127.0.0.1:<port>`, the query service (`/api/v3/...`). */
  readonly queryUrl: string;
  /** Names of the services that sent spans. */
  services(): Promise<string[]>;
  /** Traces with a span of `service` (every span of each, of every service). */
  traces(service: string, search?: TraceSearch): Promise<JaegerTrace[]>;
  /** One trace by its 32-hex-digit id, or undefined when Jaeger holds none. */
  trace(traceId: string): Promise<JaegerTrace | undefined>;
  /**
   * Searches every service's traces until `predicate` accepts one, and resolves with it.
   * Default timeout 15 000 ms.
   */
  waitForTrace(predicate: (trace: JaegerTrace) => boolean, timeoutMs?: number): Promise<JaegerTrace>;
  /** Everything Jaeger has printed. */
  logs(): string;
  /** Stops Jaeger (its traces go with it) and removes its config. Safe to call twice. */
  stop(): Promise<void>;
}

const DEFAULT_WAIT_MS = 15_000;
const DEFAULT_LIMIT = 100;
const DEFAULT_LOOKBACK_MS = 3_600_000;
/** The collector logs this once every extension and pipeline has started (receivers last). */
const READY_LINE = /Everything is ready\. Begin running and processing data\./;

/**
 * Starts the Jaeger `.ci/provision-observability` built with a config of its own: the OTLP
 * receiver (gRPC and HTTP), memory storage, and the query service (HTTP and gRPC), each on a
 * free loopback port; nothing else listens (its own metrics are off). Resolves once the
 * collector reports every pipeline started and the query API answers.
 * @throws Error naming `.ci/provision-observability` when Jaeger is not built, or with its
 *   output when it exits or is not ready in time.
 * @see https://www.jaegertracing.io/docs/latest/apis/#query-json-over-http-apiv3
 */
export async function startJaeger(options: StartJaegerOptions = {}): Promise<RunningJaeger> {
  const binary = observabilityBinary('jaeger');
  const [otlpGrpc, otlpHttp, queryHttp, queryGrpc] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const queryUrl = `http://127.0.0.1:${queryHttp}`;
  const dir = await mkdtemp(join(tmpdir(), 'mcpgw-jaeger-'));
  let server: RunningProcess;
  try {
    const config = join(dir, 'jaeger.yaml');
    await writeFile(config, stringify(toConfig({ otlpGrpc, otlpHttp, queryHttp, queryGrpc })));
    server = await startProcess(binary, ['--config', config], {
      cwd: dir,
      readyWhen: { stderr: READY_LINE, url: `${queryUrl}/api/v3/services` },
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const get = async (path: string, params: Record<string, string> = {}): Promise<unknown> => {
    const query = new URLSearchParams(params).toString();
    const response = await fetch(`${queryUrl}${path}${query && `?${query}`}`, { signal: AbortSignal.timeout(5_000) });
    // The API answers 404 with an error body when no trace matches.
    if (response.status === 404) return undefined;
    if (!response.ok) throw new Error(`Jaeger ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  const services = async () => ((await get('/api/v3/services')) as { services?: string[] }).services ?? [];
  const traces = async (service: string, search: TraceSearch = {}) => {
    const now = Date.now();
    const body = await get('/api/v3/traces', {
      'query.service_name': service,
      ...(search.operation !== undefined && { 'query.operation_name': search.operation }),
      'query.start_time_min': new Date(now - (search.lookbackMs ?? DEFAULT_LOOKBACK_MS)).toISOString(),
      // A minute ahead, for spans whose clock runs ahead of this one.
      'query.start_time_max': new Date(now + 60_000).toISOString(),
      'query.num_traces': String(search.limit ?? DEFAULT_LIMIT),
    });
    return body === undefined ? [] : fromOtlpTraces(body);
  };
  const allTraces = async () => {
    const byId = new Map<string, JaegerTrace>();
    for (const service of await services()) {
      for (const trace of await traces(service)) byId.set(trace.traceId, trace);
    }
    return [...byId.values()];
  };

  return {
    otlpHttpUrl: `http://127.0.0.1:${otlpHttp}`,
    otlpGrpcAddress: `127.0.0.1:${otlpGrpc}`,
    queryUrl,
    services,
    traces,
    async trace(traceId) {
      const body = await get(`/api/v3/traces/${encodeURIComponent(traceId)}`);
      return body === undefined ? undefined : fromOtlpTraces(body)[0];
    },
    async waitForTrace(predicate, timeoutMs = DEFAULT_WAIT_MS) {
      const found = await pollUntil(
        'Jaeger to hold a matching trace',
        async () => (await allTraces()).find(predicate),
        (trace) => trace !== undefined,
        timeoutMs,
        async () => `services: ${JSON.stringify(await services())}`,
      );
      return found as JaegerTrace;
    },
    logs: () => server.output(),
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

interface JaegerPorts {
  otlpGrpc: number;
  otlpHttp: number;
  queryHttp: number;
  queryGrpc: number;
}

/**
 * Jaeger v2's config is an OpenTelemetry Collector config. Every endpoint is named, since each
 * component left at its default binds a fixed port (4317, 4318, 16685, 16686), and the
 * collector's own metrics (a Prometheus reader on 8888 by default) are turned off.
 */
function toConfig(ports: JaegerPorts): unknown {
  const at = (port: number) => ({ endpoint: `127.0.0.1:${port}` });
  return {
    service: {
      extensions: ['jaeger_storage', 'jaeger_query'],
      pipelines: {
        traces: { receivers: ['otlp'], exporters: ['jaeger_storage_exporter'] },
      },
      telemetry: { metrics: { level: 'none' }, logs: { level: 'info' } },
    },
    extensions: {
      jaeger_storage: { backends: { memstore: { memory: { max_traces: 100_000 } } } },
      jaeger_query: {
        storage: { traces: 'memstore' },
        // Query's own spans would land in its own store as service `jaeger`.
        enable_tracing: false,
        http: at(ports.queryHttp),
        grpc: at(ports.queryGrpc),
      },
    },
    receivers: { otlp: { protocols: { grpc: at(ports.otlpGrpc), http: at(ports.otlpHttp) } } },
    exporters: { jaeger_storage_exporter: { trace_storage: 'memstore' } },
  };
}
