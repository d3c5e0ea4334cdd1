import { NO_TRACER, type Logger } from '@mcp-gateway/core';
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
  type OtlpSender,
  type OtlpTarget,
} from '@mcp-gateway/core/otel';
import { createOtlpGrpcSender } from './otlp-grpc-sender.ts';
import { createOtlpHttpPost } from './otlp-http-post.ts';
import { otlpTls, type OtlpTls } from './otlp-tls.ts';

const OFF: OtelTracing = { tracer: NO_TRACER, flush: async () => {}, shutdown: async () => {} };

/**
 * Tracing in the Node process as the standard OTEL_* environment asks for it (see otlpTarget
 * and startOtelTracing in core): off, nothing is built and every span is the no-op one. On, the
 * spans go by OTLP/HTTP (protobuf or JSON, on undici's request API) or OTLP/gRPC (grpc-js), with the
 * collector's headers, timeout, compression and TLS files from OTEL_EXPORTER_OTLP_*.
 * Throws, before anything listens, on a value the specification does not allow.
 */
export function startOtlpTracing(env: OtelEnv, version: string, logger: Logger): OtelTracing {
  const target = otlpTarget(env);
  if (target === undefined) return OFF;
  const tracing = startOtelTracing(env, version, senderFor(target, env, otlpTls(env)), logger);
  logger.info('exporting traces by OTLP', { protocol: target.protocol });
  return tracing;
}

function senderFor(target: OtlpTarget, env: OtelEnv, tls: OtlpTls): OtlpSender {
  const gzip = otlpGzip(env);
  if (target.protocol === 'grpc') return createOtlpGrpcSender(target, env, tls, gzip);
  const post = createOtlpHttpPost(tls);
  return createOtlpHttpSender({
    url: otlpTracesUrl(target),
    json: target.protocol === 'http/json',
    headers: otlpHeaders(env),
    gzip,
    timeoutMs: otlpTimeoutMs(env),
    fetch: post.fetch,
    close: post.close,
  });
}
