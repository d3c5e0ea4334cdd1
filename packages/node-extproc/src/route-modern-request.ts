import {
  checkModernHeaders,
  encodeHeaderValue,
  isGatewayError,
  isModernVersion,
  NOOP_LOGGER,
  planCall,
  ROUTER_HEADERS,
  toJsonRpcError,
  type GatewayError,
  type JsonRpcRequest,
} from '@mcp-gateway/core';
import { routedCallMetadata, setHeader, type HeaderValueOption, type ProcessingResponse } from './ext-proc-messages.ts';
import type { RequestBodyDeps, RequestBodyResult } from './translate-request-body.ts';

/** Methods a modern request may be routed straight to an upstream for. */
const ROUTED_METHODS = new Set(['tools/call', 'prompts/get', 'resources/read']);

const encoder = new TextEncoder();

/**
 * Routes a 2026-07-28 request (sessionless). Its `Mcp-Method`/`Mcp-Name` headers must agree with
 * the body (else HeaderMismatch: 400 with a JSON-RPC error -32020, as an immediate response).
 * tools/call, prompts/get and resources/read of a served item on an upstream that speaks
 * 2026-07-28 go straight to it: the prefix stripped in the body and in `Mcp-Name`, the router
 * headers, no session header. The rest goes to the broker, which answers it or translates it
 * for a legacy upstream; so do unknown names (the broker's -32602 is readable by SDK clients).
 * @see MCP 2026-07-28 basic/transports §Standard Request Headers (SEP-2243)
 */
export function routeModernRequest(
  message: JsonRpcRequest,
  headers: ReadonlyMap<string, string>,
  deps: RequestBodyDeps,
  toBroker: (method: string) => ProcessingResponse,
): RequestBodyResult {
  const mismatch = checkModernHeaders((name) => headers.get(name) ?? null, message);
  if (mismatch !== undefined) return { response: jsonRpcErrorResponse(mismatch, message.id) };
  // A version the gateway does not serve: the broker answers UnsupportedProtocolVersion.
  if (!ROUTED_METHODS.has(message.method) || !isModernVersion(headers.get('mcp-protocol-version'))) {
    return { response: toBroker(message.method) };
  }
  const plan = planCall(message, deps.catalog(), (name) => deps.serverOf(name));
  if (isGatewayError(plan) || !isModernVersion(deps.upstreamProtocolVersion(plan.server.name))) {
    return { response: toBroker(message.method) };
  }
  const { server } = plan;
  const newBody = encoder.encode(JSON.stringify({ ...message, params: plan.params }));
  const set: HeaderValueOption[] = [
    setHeader(':authority', server.hostname),
    setHeader(':path', new URL(server.url).pathname),
    setHeader(ROUTER_HEADERS.method, message.method),
    setHeader(ROUTER_HEADERS.server, server.name),
    setHeader('content-length', String(newBody.byteLength)),
  ];
  const name = plan.nameHeader?.value;
  if (plan.nameHeader !== undefined && name !== undefined) {
    set.push(
      setHeader(plan.nameHeader.header, encodeHeaderValue(name)),
      setHeader('mcp-name', encodeHeaderValue(name)),
    );
  }
  return {
    response: {
      request_body: {
        response: {
          header_mutation: { set_headers: set, remove_headers: ['mcp-session-id'] },
          body_mutation: { body: newBody },
          clear_route_cache: true,
        },
      },
      dynamic_metadata: routedCallMetadata({ method: message.method, server: server.name, name }),
    },
    ...(plan.rewriteResult !== undefined && {
      route: {
        gatewaySessionId: '',
        jti: '',
        server: server.name,
        backendSessionId: '',
        requestId: message.id,
        rewriteResult: plan.rewriteResult,
      },
    }),
  };
}

/** A JSON-RPC error answer as Envoy's local reply (status of the error, application/json). */
function jsonRpcErrorResponse(error: GatewayError, id: JsonRpcRequest['id']): ProcessingResponse {
  // HeaderMismatch is exposable: the mapping logs nothing for it.
  const body = { jsonrpc: '2.0', id, error: toJsonRpcError(error, NOOP_LOGGER) };
  return {
    immediate_response: {
      status: { code: error.status },
      headers: { set_headers: [setHeader('content-type', 'application/json')] },
      body: encoder.encode(JSON.stringify(body)),
      details: `ext_proc: ${error.code}`,
    },
  };
}
