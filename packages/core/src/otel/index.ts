/** The OpenTelemetry side of the tracing port, for hosts that export spans (Node, workerd). */
export { createOtelTracer } from './otel-tracer.ts';
