/** The OpenTelemetry side of the tracing port, for hosts that export spans (Node, workerd). */
export { otlpHeaders, otlpTarget, startOtelTracing } from './otel-tracing.ts';
export type { OtelEnv, OtelTracing, OtlpTarget } from './otel-tracing.ts';
export { createOtlpHttpExporter, otlpTimeoutMs, otlpTracesUrl } from './otlp-http-exporter.ts';
