import { GatewayError } from '../errors.ts';
import { parseJsonRpcMessage, type JsonRpcRequest } from '../protocol/json-rpc.ts';
import { isModernRequest, isModernVersion } from '../protocol/modern-request.ts';
import { isLegacyProtocolVersion } from '../protocol/versions.ts';
import { callerIdentity } from '../session/caller-identity.ts';
import type { Logger } from '../logger.ts';
import { deliverClientNotification, deliverClientResponse, terminateSession } from './client-messages.ts';
import type { McpEndpointOptions, RequestContext, SessionRequest } from './endpoint-context.ts';
import { rpcErrorResponse, toErrorResponse } from './error-mapping.ts';
import { forwardCall } from './forward-call.ts';
import { answerInitialize, answerLocal, isLocalMethod } from './local-methods.ts';
import { openNotificationStream } from './notification-stream.ts';
import { checkOrigin, preflightResponse, withCors } from './origin-policy.ts';
import { DEFAULT_MAX_BODY_BYTES, readBody } from './read-body.ts';
import { FORWARDED_METHODS, planCall } from './route-call.ts';
import { handleModernPost, unsupportedVersion, type ModernContext } from './modern-endpoint.ts';
import { createParkedCalls } from './parked-calls.ts';

/** The MCP endpoint: a fetch-style handler for POST, GET and DELETE on /mcp. */
export interface McpEndpoint {
  handle(request: Request, context?: RequestContext): Promise<Response>;
}

/**
 * Creates the MCP endpoint, serving both protocol eras on one path. Legacy (2024-11-05 …
 * 2025-11-25, Streamable HTTP with sessions): session ids are signed tokens validated without
 * storage; the store holds only what must be shared (termination, backend sessions, pending
 * server-to-client requests). Modern (2026-07-28): sessionless, see modern-endpoint.ts.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#streamable-http
 */
export function createMcpEndpoint(endpointOptions: McpEndpointOptions): McpEndpoint {
  const options: McpEndpointOptions = { ...endpointOptions, modernCalls: new Map() };
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const callers = createCallerCache();
  // The notification stream open on this process per session: a newer one replaces it.
  const openStreams = new Map<string, () => void>();
  const { logger } = options;
  const modern: ModernContext = {
    options,
    identify: (authorization) => callers.identify(authorization),
    parked: createParkedCalls(),
  };

  async function handle(request: Request, context: RequestContext = {}): Promise<Response> {
    const refused = checkOrigin(request.headers, options.originPolicy);
    if (refused !== undefined) return toErrorResponse(refused, null, logger);
    const origin = request.headers.get('origin');
    if (request.method === 'OPTIONS') return preflightResponse(origin);
    const response = await route(request, context);
    return origin === null ? response : withCors(response, origin);
  }

  async function route(request: Request, context: RequestContext): Promise<Response> {
    try {
      switch (request.method) {
        case 'POST':
          return await handlePost(request, context);
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
          const session = await openSession(request, context);
          if (session instanceof Response) return session;
          if (request.method === 'GET') return openNotificationStream(options, session, openStreams);
          // The session's GET stream (here or on another replica) ends on the bus's terminated
          // message: closing it from this request directly is what workerd forbids (I/O of another request).
          return await terminateSession(options, session);
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

  async function handlePost(request: Request, context: RequestContext): Promise<Response> {
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
    const body = await readBody(request, maxBodyBytes);
    const parsed = parseJsonRpcMessage(body);
    if (!parsed.ok) {
      return new Response(
        JSON.stringify({ jsonrpc: '2.0', id: parsed.id, error: { code: parsed.code, message: parsed.message } }),
        {
          status: 400,
          headers: { 'content-type': 'application/json' },
        },
      );
    }
    const { message, kind } = parsed;
    const version = request.headers.get('mcp-protocol-version');
    if (isModernRequest(version, message as { params?: unknown })) {
      return handleModernPost(modern, request, message, kind);
    }
    if (version !== null && !isLegacyProtocolVersion(version)) {
      return unsupportedVersion(version, kind === 'request' ? (message as JsonRpcRequest).id : null, options);
    }
    if (kind === 'request' && (message as JsonRpcRequest).method === 'initialize') {
      return answerInitialize(options, request, message as JsonRpcRequest);
    }
    const session = await openSession(request, context);
    if (session instanceof Response) return session;
    if (kind !== 'request') {
      // Requests are checked in dispatchRequest; an ended session takes no notifications or answers either.
      const state = await options.store.lookup(session.claims.jti);
      if (state.terminated) return sessionGone(session.claims.jti);
    }
    if (kind === 'response') return deliverClientResponse(options, session, message);
    if (kind === 'notification') return deliverClientNotification(options, session, message as JsonRpcRequest);
    return dispatchRequest(session, message as JsonRpcRequest);
  }

  async function dispatchRequest(session: SessionRequest, message: JsonRpcRequest): Promise<Response> {
    const { method } = message;
    const refreshing = options.pool.refreshIfStale();
    if (refreshing !== undefined) await refreshing;
    if (isLocalMethod(method)) {
      const state = await options.store.lookup(session.claims.jti);
      if (state.terminated) return sessionGone(session.claims.jti);
      return answerLocal(options, session, message);
    }
    if (!FORWARDED_METHODS.has(method)) {
      return rpcErrorResponse(message.id, new GatewayError('METHOD_NOT_FOUND', `Method not found: ${method}`), logger);
    }
    const plan = planCall(message, options.pool.catalog(), options.pool.server);
    if (plan instanceof GatewayError) return rpcErrorResponse(message.id, plan, session.logger);
    const state = await options.store.lookup(session.claims.jti, plan.server.name);
    if (state.terminated) return sessionGone(session.claims.jti);
    return forwardCall(options, session, message, plan, state);
  }

  /** Validates the session header: 400 when missing, 404 when unknown, forged, expired, ended or another caller's. */
  async function openSession(request: Request, context: RequestContext): Promise<SessionRequest | Response> {
    const token = request.headers.get('mcp-session-id');
    if (token === null || token === '') {
      const error = new GatewayError('SESSION_REQUIRED', 'Mcp-Session-Id header is required (send initialize first)');
      return toErrorResponse(error, null, logger);
    }
    const verified = await options.tokens.verify(token);
    if (!verified.ok) {
      const error =
        verified.reason === 'expired'
          ? new GatewayError('SESSION_EXPIRED', 'Session expired: initialize a new session')
          : new GatewayError('SESSION_NOT_FOUND', 'Session not found: initialize a new session');
      return toErrorResponse(error, null, logger);
    }
    const { claims } = verified;
    const caller = await callers.identify(request.headers.get('authorization'));
    if (caller !== claims.caller) {
      logger.warn('session presented by another caller', { jti: claims.jti });
      return sessionGone(claims.jti);
    }
    if (request.method !== 'POST') {
      const state = await options.store.lookup(claims.jti);
      if (state.terminated) return sessionGone(claims.jti);
    }
    let sessionLogger: Logger | undefined;
    return {
      request,
      token,
      claims,
      context,
      // Created on first use: most requests never log.
      get logger() {
        return (sessionLogger ??= logger.child({ jti: claims.jti }));
      },
    };
  }

  function sessionGone(jti: string): Response {
    logger.debug('request on an ended or foreign session', { jti });
    return toErrorResponse(
      new GatewayError('SESSION_NOT_FOUND', 'Session not found: initialize a new session'),
      null,
      logger,
    );
  }

  return { handle };
}

/**
 * Remembers the identity hash of recent Authorization values, so a client's steady stream of
 * requests costs one SHA-256 per token rather than one per request. Bounded; keyed by the
 * header value, which stays in memory only as long as the entry.
 */
function createCallerCache(limit = 4096): { identify(authorization: string | null): Promise<string | undefined> } {
  const cache = new Map<string, string | undefined>();
  return {
    async identify(authorization) {
      if (authorization === null) return undefined;
      if (cache.has(authorization)) return cache.get(authorization);
      const identity = await callerIdentity(authorization);
      if (cache.size >= limit) cache.delete(cache.keys().next().value as string);
      cache.set(authorization, identity);
      return identity;
    },
  };
}
