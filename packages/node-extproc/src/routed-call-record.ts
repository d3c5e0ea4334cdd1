import type { AnswerOutcome, GatewayMetrics, GatewaySpan } from '@mcp-gateway/core/router';
import type { Logger } from '@mcp-gateway/core';
import type { UpstreamRoute } from './upstream-route.ts';

/** Where a routed call is counted and logged. */
interface RecordDeps {
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

/**
 * Counts a call the router routed, once its exchange ended, as the broker counts its own: by its
 * upstream's status (none: UPSTREAM_UNAVAILABLE) and answer (a JSON-RPC error, a tool's
 * isError); ends its span; a failed call is logged once at warn with its trace id.
 */
export function recordRoutedCall(
  route: UpstreamRoute,
  status: number | undefined,
  answer: AnswerOutcome | undefined,
  deps: RecordDeps,
): void {
  const call = route.call;
  if (call === undefined) return;
  const judged: AnswerOutcome =
    status === undefined
      ? { outcome: 'unavailable', errorType: 'UPSTREAM_UNAVAILABLE' }
      : status >= 400
        ? { outcome: 'error', errorType: String(status) }
        : (answer ?? { outcome: 'ok' });
  const span = route.span;
  if (span !== undefined) {
    if (status !== undefined && status >= 400) span.set({ 'http.response.status_code': status });
    if (judged.code !== undefined) span.set({ 'rpc.response.status_code': String(judged.code) });
    if (judged.errorType !== undefined) span.fail(judged.errorType);
    span.end();
  }
  count(deps, route.server, call, judged.outcome);
  if (judged.outcome !== 'error' && judged.outcome !== 'unavailable') return;
  const reason =
    status === undefined
      ? { error: 'UPSTREAM_UNAVAILABLE' }
      : { status, ...(judged.code === undefined ? {} : { code: judged.code }) };
  logFailedCall(deps.logger, span, route.server, call.name, { outcome: judged.outcome, ...reason });
}

/** A routed call whose backend session could not be opened: counted, its span failed, logged. */
export function recordUnroutedCall(
  server: string,
  call: NonNullable<UpstreamRoute['call']> | undefined,
  span: GatewaySpan | undefined,
  failure: { code: string; message: string },
  deps: RecordDeps,
): void {
  span?.fail(failure.code, failure.message);
  span?.end();
  if (call !== undefined) count(deps, server, call, 'unavailable');
  logFailedCall(deps.logger, span, server, call?.name, {
    outcome: 'unavailable',
    error: failure.code,
    reason: failure.message,
  });
}

function count(
  deps: RecordDeps,
  server: string,
  call: NonNullable<UpstreamRoute['call']>,
  outcome: AnswerOutcome['outcome'],
): void {
  deps.metrics.call({
    host: 'router',
    method: call.method,
    server,
    kind: call.kind,
    name: call.name,
    outcome,
    seconds: (performance.now() - call.startedAt) / 1000,
  });
}

/**
 * Logs a routed call that failed, once, at warn, as the broker does: which server and item, the
 * upstream's status or why none came, joined to its trace by `trace_id`.
 */
function logFailedCall(
  logger: Logger,
  span: GatewaySpan | undefined,
  server: string,
  item: string | undefined,
  reason: Record<string, unknown>,
): void {
  const traceId = span?.traceId;
  const log = traceId === undefined ? logger : logger.child({ trace_id: traceId });
  log.warn('call failed', { server, item, ...reason });
}
