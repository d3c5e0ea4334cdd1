import { GatewayError } from '../errors.ts';
import type { ServerConfig } from '../config/schema.ts';
import type { JsonRpcRequest } from '../protocol/json-rpc.ts';
import type { SessionLookup } from '../store/session-store.ts';
import { ensureBackendSession, NO_BACKEND_SESSION } from './backend-session.ts';
import { cancelUpstreamCall } from './client-messages.ts';
import type { McpEndpointOptions, SessionRequest } from './endpoint-context.ts';
import { DEFAULT_CALL_TIMEOUT_MS } from './endpoint-context.ts';
import { jsonResponse, rpcErrorResponse } from './error-mapping.ts';
import { relayUpstreamStream } from './relay-stream.ts';
import { forwardedCallHeaders } from './upstream-headers.ts';
import { isModernUpstream } from './modern-forward.ts';
import { forwardLegacyToModern } from './legacy-to-modern.ts';
import { authRefusal, resumeBackendStream } from './backend-exchange.ts';

/** A call to forward: the upstream, the rewritten params and an optional rewrite of the result. */
export interface ForwardPlan {
  readonly server: ServerConfig;
  readonly params: Record<string, unknown>;
  /** Router header naming the target (x-mcp-toolname etc.). */
  readonly nameHeader?: { header: string; value: string };
  /** Maps the upstream's result back into the gateway's namespace (resource URIs). */
  readonly rewriteResult?: (result: Record<string, unknown>) => Record<string, unknown>;
}

/**
 * Forwards one client request to the upstream that owns it, over the client's backend session,
 * and relays the upstream's answer as it comes: JSON as is, SSE event by event (progress and
 * logging reach the client as they happen; server-to-client requests get gateway ids so the
 * client's answer finds its way back). An upstream 404 means the backend session is gone: it is
 * dropped and the call is retried once on a fresh one. An upstream that stays silent longer than
 * the call timeout yields a JSON-RPC error, never a hang.
 */
export async function forwardCall(
  options: McpEndpointOptions,
  session: SessionRequest,
  message: JsonRpcRequest,
  plan: ForwardPlan,
  lookup: SessionLookup,
): Promise<Response> {
  const { server } = plan;
  const client = options.pool.client(server.name);
  if (client === undefined) {
    return rpcErrorResponse(
      message.id,
      new GatewayError('UPSTREAM_UNAVAILABLE', `upstream ${server.name} is not configured`),
      session.logger,
    );
  }
  if (isModernUpstream(options, server)) return forwardLegacyToModern(options, session, message, plan);
  const timeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const protocolVersion = options.pool.snapshot(server.name)?.protocolVersion;
  const body = JSON.stringify({ ...message, params: plan.params });
  let known = lookup.backendSessionId;

  for (let attempt = 0; ; attempt++) {
    let backendSessionId: string;
    try {
      backendSessionId = await ensureBackendSession(
        { store: options.store, bus: options.bus, logger: session.logger },
        session.claims,
        session.request.headers,
        server,
        client,
        known,
      );
    } catch (error) {
      return rpcErrorResponse(message.id, error, session.logger);
    }
    const headers = forwardedCallHeaders(
      session.request.headers,
      { method: message.method, server: server.name, ...(plan.nameHeader ? { name: plan.nameHeader } : {}) },
      { backendSessionId, ...(protocolVersion === undefined ? {} : { protocolVersion }) },
    );
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    let response: Response;
    try {
      response = await options.fetchFor(server)(server.url, { method: 'POST', headers, body, signal: abort.signal });
    } catch (error) {
      clearTimeout(timer);
      if (abort.signal.aborted) {
        const reason = `gateway timeout: no answer within ${timeoutMs} ms`;
        void cancelUpstreamCall(options, session, server.name, backendSessionId, message.id, reason);
      }
      const failure = abort.signal.aborted
        ? new GatewayError(
            'UPSTREAM_TIMEOUT',
            `upstream ${server.name} did not answer ${message.method} within ${timeoutMs} ms`,
          )
        : new GatewayError('UPSTREAM_UNAVAILABLE', `upstream ${server.name} is unreachable: ${causeOf(error)}`, {
            cause: error,
          });
      return rpcErrorResponse(message.id, failure, session.logger);
    }
    clearTimeout(timer);

    if (response.status === 404 && backendSessionId !== NO_BACKEND_SESSION && attempt === 0) {
      await response.body?.cancel().catch(() => {});
      await options.store.dropBackendSession(session.claims.jti, server.name, backendSessionId);
      session.logger.info('backend session expired upstream; opening a new one', { server: server.name });
      known = undefined;
      continue;
    }
    return relayResponse(options, session, message, plan, response, backendSessionId, abort, timeoutMs);
  }
}

async function relayResponse(
  options: McpEndpointOptions,
  session: SessionRequest,
  message: JsonRpcRequest,
  plan: ForwardPlan,
  response: Response,
  backendSessionId: string,
  abort: AbortController,
  timeoutMs: number,
): Promise<Response> {
  const { server } = plan;
  const refused = authRefusal(response);
  if (refused !== undefined) return refused;
  if (!response.ok) {
    const detail = (await response.text().catch(() => '')).slice(0, 200);
    return rpcErrorResponse(
      message.id,
      new GatewayError(
        'UPSTREAM_UNAVAILABLE',
        `upstream ${server.name} answered HTTP ${response.status}${detail ? `: ${detail}` : ''}`,
      ),
      session.logger,
    );
  }
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('text/event-stream') && response.body !== null) {
    const stream = relayUpstreamStream({
      upstream: response.body,
      requestId: message.id,
      server: server.name,
      backendSessionId,
      session,
      store: options.store,
      abort,
      timeoutMs,
      ...(plan.rewriteResult ? { rewriteResult: plan.rewriteResult } : {}),
      onAbandon: (reason) =>
        void cancelUpstreamCall(options, session, server.name, backendSessionId, message.id, reason),
      resume: (lastEventId) =>
        resumeBackendStream(
          options,
          {
            server,
            backendSessionId,
            protocolVersion: options.pool.snapshot(server.name)?.protocolVersion,
            clientHeaders: session.request.headers,
          },
          lastEventId,
          abort.signal,
        ),
    });
    return new Response(stream, {
      status: 200,
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' },
    });
  }
  if (plan.rewriteResult === undefined) {
    // Bytes through as they came: no decode and re-encode on the hot path.
    const bytes = await response.arrayBuffer();
    return new Response(bytes, { status: 200, headers: { 'content-type': 'application/json' } });
  }
  const text = await response.text();
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    if (typeof parsed['result'] === 'object' && parsed['result'] !== null) {
      parsed['result'] = plan.rewriteResult(parsed['result'] as Record<string, unknown>);
    }
    return jsonResponse(parsed);
  } catch {
    return rpcErrorResponse(
      message.id,
      new GatewayError('UPSTREAM_PROTOCOL_ERROR', `upstream ${server.name} answered with invalid JSON`),
      session.logger,
    );
  }
}

function causeOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause as { code?: string; message?: string } | undefined;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}
