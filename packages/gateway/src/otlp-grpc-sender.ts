import { Client, credentials, Metadata, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import {
  otlpHeaders,
  otlpSetting,
  otlpTimeoutMs,
  withExportRetries,
  type OtelEnv,
  type OtlpSender,
  type OtlpTarget,
} from '@mcp-gateway/core/otel';
import type { OtlpTls } from './otlp-tls.ts';

const EXPORT_METHOD = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
/** grpc-js's number for gzip among its compression algorithms. */
const GZIP = 2;
/** The status codes OTLP/gRPC says to retry. */
const RETRYABLE = new Set([
  status.CANCELLED,
  status.DEADLINE_EXCEEDED,
  status.ABORTED,
  status.OUT_OF_RANGE,
  status.UNAVAILABLE,
  status.DATA_LOSS,
  status.RESOURCE_EXHAUSTED,
]);

const bytes = (value: Buffer): Buffer => value;

/**
 * Where the gRPC channel goes and whether it is encrypted: `http://` and the anchor's `rpc://`
 * are plaintext, `https://` is TLS, a bare `host:port` is TLS unless
 * OTEL_EXPORTER_OTLP_[TRACES_]INSECURE=true. The port defaults to 4317.
 */
export function grpcAddress(endpoint: string, env: OtelEnv): { address: string; secure: boolean } {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(endpoint)?.[1]?.toLowerCase();
  const rest = scheme === undefined ? endpoint : endpoint.slice(scheme.length + 3);
  const hostPort = rest.replace(/\/.*$/, '');
  const address = /:\d+$/.test(hostPort) ? hostPort : `${hostPort}:4317`;
  if (scheme === undefined) return { address, secure: otlpSetting(env, 'INSECURE')?.toLowerCase() !== 'true' };
  if (scheme === 'https') return { address, secure: true };
  if (scheme === 'http' || scheme === 'rpc') return { address, secure: false };
  throw new Error(
    `OTEL_EXPORTER_OTLP_ENDPOINT: an OTLP/gRPC endpoint is http://, https:// or rpc://, not ${scheme}://`,
  );
}

/**
 * OTLP over gRPC with grpc-js, the gateway's gRPC library: one unary Export call per batch (the
 * body already encoded), headers as metadata, gzip when asked, TLS from the endpoint's scheme and
 * the certificate settings, and a retry with backoff on the transient status codes.
 * @see https://opentelemetry.io/docs/specs/otlp/#otlpgrpc
 */
export function createOtlpGrpcSender(target: OtlpTarget, env: OtelEnv, tls: OtlpTls, gzip: boolean): OtlpSender {
  const { address, secure } = grpcAddress(target.endpoint, env);
  const channel: ChannelCredentials = secure
    ? credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null)
    : credentials.createInsecure();
  const client = new Client(address, channel, gzip ? { 'grpc.default_compression_algorithm': GZIP } : {});
  const metadata = new Metadata();
  for (const [name, value] of Object.entries(otlpHeaders(env))) metadata.set(name.toLowerCase(), value);
  const timeoutMs = otlpTimeoutMs(env);
  const call = (body: Buffer, remainingMs: number) =>
    new Promise<void>((resolve, reject) => {
      client.makeUnaryRequest(
        EXPORT_METHOD,
        bytes,
        bytes,
        body,
        metadata,
        { deadline: Date.now() + remainingMs },
        (error: ServiceError | null) => (error === null ? resolve() : reject(error)),
      );
    });
  return {
    format: 'protobuf',
    async send(encoded) {
      const body = Buffer.from((encoded as Uint8Array).buffer, (encoded as Uint8Array).byteOffset, encoded.length);
      await withExportRetries(
        timeoutMs,
        (remainingMs) => call(body, remainingMs),
        (error) => ({ retryable: RETRYABLE.has((error as Partial<ServiceError>).code ?? status.UNKNOWN) }),
      );
    },
    close: () => client.close(),
  };
}
