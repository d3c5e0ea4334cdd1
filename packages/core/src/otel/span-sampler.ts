import type { OtelEnv } from './otel-env.ts';

/** The caller's span context, when the request continues a trace. */
export interface ParentContext {
  readonly traceId: string;
  readonly spanId: string;
  /** The caller's `sampled` flag. */
  readonly sampled: boolean;
}

/** Whether a new server span is recorded, given the caller's context (if any) and its trace id. */
export type SpanSampler = (parent: ParentContext | undefined, traceId: string) => boolean;

const NAMES = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

/**
 * The sampler OTEL_TRACES_SAMPLER names, with its ratio from OTEL_TRACES_SAMPLER_ARG (a number
 * in [0, 1], default 1); default `parentbased_always_on`. Children follow their server span.
 * Throws, naming the variable, on a sampler the specification does not define for SDKs.
 * @see https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/#general-sdk-configuration
 */
export function samplerFrom(env: OtelEnv): SpanSampler {
  const name = (env['OTEL_TRACES_SAMPLER'] || 'parentbased_always_on').trim().toLowerCase();
  const arg = Number(env['OTEL_TRACES_SAMPLER_ARG'] ?? '1');
  const ratio = Number.isFinite(arg) && arg >= 0 && arg <= 1 ? arg : 1;
  const byRatio = traceIdRatio(ratio);
  switch (name) {
    case 'always_on':
      return () => true;
    case 'always_off':
      return () => false;
    case 'traceidratio':
      return (_parent, traceId) => byRatio(traceId);
    case 'parentbased_always_on':
      return (parent) => parent === undefined || parent.sampled;
    case 'parentbased_always_off':
      return (parent) => parent !== undefined && parent.sampled;
    case 'parentbased_traceidratio':
      return (parent, traceId) => (parent === undefined ? byRatio(traceId) : parent.sampled);
    default:
      throw new Error(`OTEL_TRACES_SAMPLER must be one of ${NAMES.join(', ')}, not "${name}"`);
  }
}

/**
 * Samples a fraction of traces by their id: the last 14 hex digits (the 56 bits W3C trace
 * context level 2 makes random) read as a number, kept when below ratio × 2^56, so every
 * gateway replica (and any other sampler reading them) keeps the same traces.
 */
function traceIdRatio(ratio: number): (traceId: string) => boolean {
  if (ratio >= 1) return () => true;
  if (ratio <= 0) return () => false;
  const bound = ratio * 2 ** 56;
  return (traceId) => parseInt(traceId.slice(18), 16) < bound;
}
