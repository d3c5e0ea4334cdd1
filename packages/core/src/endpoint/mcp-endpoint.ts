import { refusalError } from '../decision/authorize.ts';
import { GatewayError } from '../errors.ts';
import { methodLabel, type RequestOutcome } from '../telemetry/gateway-metrics.ts';
import type { Authentication, AuthRefusal } from '../identity/authentication.ts';
import { toErrorResponse } from '../protocol/error-mapping.ts';
import { parseJsonRpcMessage, type JsonRpcRequest } from '../protocol/json-rpc.ts';
import { isModernRequest, isModernVersion } from '../protocol/modern-request.ts';
import { isLegacyProtocolVersion } from '../protocol/versions.ts';
import { scopedToRequest, type EndpointContext, type RequestContext } from './endpoint-context.ts';
import { RequestTrace } from './request-trace.ts';
import { checkOrigin, preflightResponse, withCors } from './origin-policy.ts';
import { readBody } from './read-body.ts';
import { handleLegacyPost, handleLegacyStream, type LegacyStreams } from './rev2025-11-25/legacy-dispatch.ts';
import { handleModernPost, unsupportedVersion } from './rev2026-07-28/modern-post.ts';

/** The MCP endpoint: a fetch-style handler for POST, GET and DELETE on /mcp. */
export interface McpEndpoint {
  handle(request: Request, context?: RequestContext): Promise<Response>;
}

/**
 * Creates the MCP endpoint, serving both protocol eras on one path: Origin and Host checks,
 * CORS, content negotiation, the body limit and JSON-RPC parsing here; then the era's own
 * dispatcher (folders rev2025-11-25 and rev2026-07-28). The era is decided by the body's
 * `_meta` envelope, else by the MCP-Protocol-Version header.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#streamable-http
 */
export function createMcpEndpoint(ctx: EndpointContext): McpEndpoint {
  const { logger } = ctx;
  const streams: LegacyStreams = { open: new Map() };

  async function handle(request: Request, context: RequestContext = {}): Promise<Response> {
    const refused = checkOrigin(request.headers, ctx.originPolicy);
    if (refused !== undefined) return toErrorResponse(refused, null, logger);
    const origin = request.headers.get('origin');
    if (request.method === 'OPTIONS') return preflightResponse(origin);
    const started = performance.now();
    // The JSON-RPC method, once the body is parsed (GET and DELETE are named by the HTTP method).
    const label = { method: request.method === 'POST' ? 'none' : request.method };
    const trace = new RequestTrace(ctx.tracer, request.headers, started);
    // Who is asking, before anything else: with token verification on, nothing is done for a caller without a valid token.
    const authenticated = await ctx.access().authenticate(request.headers.get('authorization'));
    const response = authenticated.ok
      ? await route(request, context, authenticated.auth, label, trace)
      : unauthorized(request, authenticated.refusal, trace);
    ctx.metrics.request(label.method, outcomeOf(response.status), (performance.now() - started) / 1000);
    return trace.finish(origin === null ? response : withCors(response, origin));
  }

  /** 401 (403, 503) with the Bearer challenge that points MCP clients at the protected resource metadata. */
  function unauthorized(request: Request, refusal: AuthRefusal, trace: RequestTrace): Response {
    trace.open(request.method);
    trace.logger(logger).debug('request refused by token verification', {
      status: refusal.status,
      reason: refusal.description,
    });
    return toErrorResponse(refusalError(refusal), null, logger, {
      'www-authenticate': ctx.access().challenge(refusal, request.url),
    });
  }

  async function route(
    request: Request,
    context: RequestContext,
    auth: Authentication,
    label: { method: string },
    trace: RequestTrace,
  ): Promise<Response> {
    try {
      switch (request.method) {
        case 'POST':
          return await handlePost(request, context, auth, label, trace);
        case 'GET':
        case 'DELETE': {
          if (isModernVersion(request.headers.get('mcp-protocol-version'))) {
            // 2026-07-28 has no GET stream and no sessions to end: subscriptions/listen replaces both.
            const error = new GatewayError(
              'METHOD_NOT_ALLOWED',
              `${request.method} is not used in protocol 2026-07-28: POST subscriptions/listen for notifications`,
            );
            return toErrorResponse(error, null, logger, { allow: 'POST' });
          }
          // A GET stream may last hours: only the DELETE that ends a session has a span.
          if (request.method === 'DELETE') trace.open('DELETE');
          return await handleLegacyStream(scoped(trace), request, context, streams, auth);
        }
        default:
          return toErrorResponse(
            new GatewayError('METHOD_NOT_ALLOWED', `Method ${request.method} is not allowed on the MCP endpoint`),
            null,
            logger,
            { allow: 'GET, POST, DELETE' },
          );
      }
    } catch (error) {
      return toErrorResponse(error, null, logger);
    }
  }

  async function handlePost(
    request: Request,
    context: RequestContext,
    auth: Authentication,
    label: { method: string },
    trace: RequestTrace,
  ): Promise<Response> {
    const accept = request.headers.get('accept');
    if (accept !== null && !/application\/json|text\/event-stream|\*\/\*/i.test(accept)) {
      const error = new GatewayError('NOT_ACCEPTABLE', 'Client must accept application/json and text/event-stream');
      return toErrorResponse(error, null, logger);
    }
    const contentType = request.headers.get('content-type');
    if (contentType !== null && !/^application\/json/i.test(contentType)) {
      const error = new GatewayError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
      return toErrorResponse(error, null, logger);
    }
    const body = await readBody(request, ctx.maxBodyBytes);
    const parsed = parseJsonRpcMessage(body);
    if (!parsed.ok) {
      const error = new GatewayError(parsed.code === -32700 ? 'PARSE_ERROR' : 'INVALID_REQUEST', parsed.message);
      return toErrorResponse(error, parsed.id, logger);
    }
    const { message, kind } = parsed;
    label.method = kind === 'response' ? 'response' : methodLabel((message as JsonRpcRequest).method);
    const rpc = message as JsonRpcRequest;
    trace.open(label.method, kind === 'request' ? rpc.id : undefined, rpc.params);
    const requestCtx = scoped(trace);
    const version = request.headers.get('mcp-protocol-version');
    if (isModernRequest(version, message as { params?: unknown })) {
      return handleModernPost(requestCtx, request, message, kind, auth);
    }
    if (version !== null && !isLegacyProtocolVersion(version)) {
      return unsupportedVersion(version, kind === 'request' ? rpc.id : null, requestCtx);
    }
    return handleLegacyPost(requestCtx, request, context, message, kind, auth);
  }

  /** The context of the request `trace` follows: its span, and its trace id on its log lines. */
  function scoped(trace: RequestTrace): EndpointContext {
    return scopedToRequest(ctx, trace.span, trace.logger(logger));
  }

  return { handle };
}

/** A request's outcome for the metrics, by its HTTP status (a JSON-RPC error in a 200 is a call's business). */
function outcomeOf(status: number): RequestOutcome {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status >= 500) return 'error';
  return status >= 400 ? 'refused' : 'ok';
}
