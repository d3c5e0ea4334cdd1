import {
  isGatewayError,
  isModernRequest,
  isModernVersion,
  parseJsonRpcMessage,
  planCall,
  ROUTER_HEADERS,
  type Catalog,
  type JsonRpcRequest,
  type ServerConfig,
  type SessionClaims,
} from '@mcp-gateway/core';
import {
  immediateResponse,
  routedCallMetadata,
  routingMetadata,
  setHeader,
  type HeaderValueOption,
  type HttpBody,
  type ProcessingResponse,
} from './ext-proc-messages.ts';
import { isBackendInit, routeBackendInit, type BackendInitDeps } from './route-backend-init.ts';
import { routeModernRequest } from './route-modern-request.ts';
import { BROKER_SERVER_NAME } from './translate-request-headers.ts';
import type { UpstreamRoute } from './translate-response-headers.ts';

/** Client capabilities that let an upstream send the client requests during a call. */
const SERVER_REQUEST_CAPABILITIES = ['elicitation', 'sampling', 'roots'] as const;

/** Methods Envoy sends straight to the owning upstream; everything else goes to the broker. */
const ROUTED_METHODS = new Set(['tools/call', 'prompts/get', 'resources/read']);

/** What the request-body phase needs; effects are injected so the translation stays testable. */
export interface RequestBodyDeps extends BackendInitDeps {
  /** Largest body accepted, in bytes; larger bodies get 413. */
  readonly maxBodyBytes: number;
  /** The current catalog (swapped atomically on change). */
  catalog(): Catalog;
  serverOf(name: string): ServerConfig | undefined;
  /** The protocol version an upstream speaks (its last discovery); calls cross eras through the broker. */
  upstreamProtocolVersion(name: string): string | undefined;
  /** The claims of a gateway session id; undefined when invalid, expired or terminated. */
  verifySession(token: string): Promise<SessionClaims | undefined>;
  /**
   * The backend session for (session, server): the one held, or one opened once (single flight)
   * by an initialize carrying the client's identity headers. "" for an upstream without sessions.
   */
  ensureBackendSession(
    claims: SessionClaims,
    server: ServerConfig,
    clientHeaders: ReadonlyMap<string, string>,
  ): Promise<string>;
}

/** What the request-headers phase decided that the body phase must respect. */
export interface RequestBodyOptions {
  /**
   * The response headers will not come to the processor (a 2026-07-28 request by its headers):
   * a call that needs its session id mapped back on the response goes to the broker instead.
   */
  readonly responseHeadersSkipped?: boolean;
}

/** The request-body phase's answer and, for an upstream-routed call, what the response phase needs. */
export interface RequestBodyResult {
  readonly response: ProcessingResponse;
  readonly route?: UpstreamRoute;
}

const encoder = new TextEncoder();

/**
 * The request-body phase (BUFFERED). tools/call, prompts/get and resources/read naming a
 * served item are sent by Envoy straight to the owning upstream: `:authority` and `:path` of
 * that server, the router headers, the backend session and the body with the prefix removed.
 * A hairpin initialize (`mcp-init-host`, `router-key`) goes to its upstream when its token is
 * valid (see routeBackendInit). Everything else, unknown names included (the broker answers them with a JSON-RPC -32602 that
 * SDK clients can read, which an ImmediateResponse is not), goes to the broker. Malformed JSON
 * gets 400, an oversized body 413, a call without a session 400 and one with an unknown,
 * expired or terminated session 404, as the broker would answer.
 * @see https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/http/ext_proc/v3/processing_mode.proto
 */
export async function translateRequestBody(
  body: HttpBody,
  headers: ReadonlyMap<string, string>,
  deps: RequestBodyDeps,
  options: RequestBodyOptions = {},
): Promise<RequestBodyResult> {
  const bytes = body.body ?? new Uint8Array();
  if (bytes.byteLength > deps.maxBodyBytes) {
    return { response: immediateResponse(413, `Request body too large (limit ${deps.maxBodyBytes} bytes)`) };
  }
  const backendInit = isBackendInit(headers);
  if (bytes.byteLength === 0 && !backendInit) return { response: toBroker(undefined) };
  const parsed = parseJsonRpcMessage(bytes);
  if (!parsed.ok) return { response: immediateResponse(400, parsed.message) };
  const message = parsed.message;
  if (backendInit) return { response: await routeBackendInit(message, headers, deps) };
  if (parsed.kind !== 'request' || !('method' in message)) return { response: toBroker(undefined) };
  const request = message as JsonRpcRequest;
  if (isModernRequest(headers.get('mcp-protocol-version') ?? null, request)) {
    return routeModernRequest(request, headers, deps, toBroker);
  }
  if (!ROUTED_METHODS.has(message.method)) return { response: toBroker(message.method) };
  return routeCall(request, headers, deps, options);
}

async function routeCall(
  message: JsonRpcRequest,
  headers: ReadonlyMap<string, string>,
  deps: RequestBodyDeps,
  options: RequestBodyOptions,
): Promise<RequestBodyResult> {
  const plan = planCall(message, deps.catalog(), (name) => deps.serverOf(name));
  // A 2026-07-28 upstream has no sessions: the broker translates legacy calls for it. Without the
  // response headers the backend session id could not be mapped back: the broker answers.
  if (
    isGatewayError(plan) ||
    options.responseHeadersSkipped === true ||
    isModernVersion(deps.upstreamProtocolVersion(plan.server.name))
  ) {
    return { response: toBroker(message.method) };
  }
  const token = headers.get('mcp-session-id');
  if (token === undefined || token === '') {
    return { response: immediateResponse(400, 'Bad Request: Mcp-Session-Id header is required') };
  }
  const claims = await deps.verifySession(token);
  if (claims === undefined) return { response: immediateResponse(404, 'Session not found or expired') };
  const { server } = plan;
  let backendSessionId: string;
  try {
    backendSessionId = await deps.ensureBackendSession(claims, server, headers);
  } catch (error) {
    const status = isGatewayError(error) && error.expose ? error.status : 500;
    const text = isGatewayError(error) && error.expose ? error.message : 'Internal error';
    return { response: immediateResponse(status, text) };
  }
  const newBody = encoder.encode(JSON.stringify({ ...message, params: plan.params }));
  const set: HeaderValueOption[] = [
    setHeader(':authority', server.hostname),
    setHeader(':path', new URL(server.url).pathname),
    setHeader(ROUTER_HEADERS.method, message.method),
    setHeader(ROUTER_HEADERS.server, server.name),
    setHeader('content-length', String(newBody.byteLength)),
  ];
  if (plan.nameHeader !== undefined) set.push(setHeader(plan.nameHeader.header, toHeaderValue(plan.nameHeader.value)));
  if (backendSessionId !== '') set.push(setHeader('mcp-session-id', backendSessionId));
  const name = plan.nameHeader?.value;
  return {
    response: {
      request_body: {
        response: {
          header_mutation: {
            set_headers: set,
            ...(backendSessionId === '' ? { remove_headers: ['mcp-session-id'] } : {}),
          },
          body_mutation: { body: newBody },
          clear_route_cache: true,
        },
      },
      dynamic_metadata: routedCallMetadata({ method: message.method, server: server.name, name, session: claims.jti }),
    },
    route: {
      gatewaySessionId: token,
      jti: claims.jti,
      server: server.name,
      backendSessionId,
      requestId: message.id,
      relayServerRequests: SERVER_REQUEST_CAPABILITIES.some((name) => name in claims.clientCapabilities),
      ...(plan.rewriteResult !== undefined && { rewriteResult: plan.rewriteResult }),
    },
  };
}

/** Routes to the broker: the `:authority` set in the headers phase already selects it. */
function toBroker(method: string | undefined): ProcessingResponse {
  const set = [setHeader(ROUTER_HEADERS.server, BROKER_SERVER_NAME)];
  if (method !== undefined) set.unshift(setHeader(ROUTER_HEADERS.method, method));
  return {
    request_body: { response: { header_mutation: { set_headers: set }, clear_route_cache: true } },
    dynamic_metadata: routingMetadata({ method, server: BROKER_SERVER_NAME }),
  };
}

/** Header values must be visible ASCII; anything else is percent-encoded (as the broker does). */
function toHeaderValue(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}
