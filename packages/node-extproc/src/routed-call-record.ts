import type { AnswerOutcome } from '@mcp-gateway/core/router';
import type { ProcessorDeps } from './processor-deps.ts';
import type { UpstreamRoute } from './upstream-route.ts';

/**
 * Counts a call the router routed, once its exchange ended, as the broker counts its own: by its
 * upstream's status (none: unavailable) and answer (a JSON-RPC error, a tool's isError); ends
 * its span; a failed call is logged once at warn with its trace id.
 */
export function recordRoutedCall(
  route: UpstreamRoute,
  status: number | undefined,
  answer: AnswerOutcome | undefined,
  deps: Pick<ProcessorDeps, 'metrics' | 'logger'>,
): void {
  const call = route.call;
  if (call === undefined) return;
  const judged: AnswerOutcome =
    status === undefined
      ? { outcome: 'unavailable', errorType: 'no_answer' }
      : status >= 400
        ? { outcome: 'error', errorType: String(status) }
        : (answer ?? { outcome: 'ok' });
  const span = route.span;
  if (span !== undefined) {
    if (status !== undefined) span.set({ 'http.response.status_code': status });
    if (judged.code !== undefined) span.set({ 'rpc.response.status_code': String(judged.code) });
    if (judged.errorType !== undefined) span.fail(judged.errorType);
    span.end();
  }
  deps.metrics.call({
    host: 'router',
    method: call.method,
    server: route.server,
    kind: call.kind,
    name: call.name,
    outcome: judged.outcome,
    seconds: (performance.now() - call.startedAt) / 1000,
  });
  if (judged.outcome === 'error' || judged.outcome === 'unavailable') {
    deps.logger.warn('call failed', {
      server: route.server,
      item: call.name,
      outcome: judged.outcome,
      ...(status === undefined ? {} : { status }),
      ...(judged.code === undefined ? {} : { code: judged.code }),
      ...(route.jti === '' ? {} : { jti: route.jti }),
      ...(span?.traceId === undefined ? {} : { trace_id: span.traceId }),
    });
  }
}
