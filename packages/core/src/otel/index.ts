/** The OTLP side of the tracing port, for hosts that export spans (Node, workerd). */
export { otlpGzip, otlpHeaders, otlpSetting, otlpTarget, otlpTimeoutMs, otlpTracesUrl } from './otel-env.ts';
export type { OtelEnv, OtlpTarget } from './otel-env.ts';
export { startOtelTracing } from './otel-tracing.ts';
export type { OtelTracing, OtlpSender } from './otel-tracing.ts';
export { createOtlpHttpSender } from './otlp-http-sender.ts';
export { withExportRetries } from './export-retry.ts';
