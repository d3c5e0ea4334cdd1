import { isForwardedMethod } from '@mcp-gateway/core/router';
import { routingMetadata, setHeader, type ProcessingResponse } from './ext-proc-messages.ts';
import { isBackendInit } from './route-backend-init.ts';

/**
 * Internal headers only the processor may set. Clients' copies are removed before routing, so
 * no client can pick its own backend.
 * @see reference: the anchor's `routing.InternalOnlyHeaders` and router headers
 */
export const INTERNAL_HEADERS = [
  'x-mcp-method',
  'x-mcp-servername',
  'x-mcp-toolname',
  'x-mcp-promptname',
  'x-mcp-resourceuri',
  // The hairpin initialize's host and token: read by the processor, never passed on.
  'mcp-init-host',
  'router-key',
] as const;

/**
 * The access headers: `x-mcp-authorized` (the policy layer's signed capabilities) and
 * `x-mcp-virtualserver`. Both stay on requests the broker answers, which checks them as the
 * router does (the signature; a virtual server only narrows what a caller sees), and are removed
 * from calls routed to an upstream, which has no business with them.
 */
export const ACCESS_HEADERS = ['x-mcp-authorized', 'x-mcp-virtualserver'] as const;

/** The request as the request-headers phase sees it. */
export interface RequestHeadersInput {
  readonly headers: ReadonlyMap<string, string>;
  /** True when the request has no body (GET, DELETE): no body phase follows. */
  readonly endOfStream: boolean;
}

/** Value of x-mcp-servername for requests the broker answers (the anchor's name). */
export const BROKER_SERVER_NAME = 'mcpBroker';

/** One plain answer per public host (there is one): built and frozen once, so its encoding is reused. */
const answers = new Map<string, ProcessingResponse>();

/**
 * The request-headers phase: `:authority` forced to the gateway's public host (so the request
 * cannot bypass the broker's virtual host) and the client's internal headers removed, with
 * `clear_route_cache` so Envoy routes on the result. The processor asks for no more than it
 * needs (a `mode_override`, honoured on a headers answer):
 * - a request without a body (GET, DELETE) goes to the broker, and its response needs nothing:
 *   response headers SKIP, so this is the stream's only message;
 * - a 2026-07-28 request (by its MCP-Protocol-Version) whose Mcp-Method is not one the gateway
 *   forwards goes to the broker without its body being sent (request body NONE, response
 *   headers SKIP; the broker checks the headers against the body itself).
 * Otherwise (legacy POSTs, and 2026-07-28 calls, whose answers the response phases check) the
 * answer is the same frozen object every time.
 * @see https://www.envoyproxy.io/docs/envoy/latest/api-v3/service/ext_proc/v3/external_processor.proto#service-ext-proc-v3-commonresponse
 */
export function translateRequestHeaders(publicHost: string, request?: RequestHeadersInput): ProcessingResponse {
  // A hairpin initialize's token is checked against its body: it always gets its body phase.
  const modernMethod =
    request?.headers.get('mcp-protocol-version') === '2026-07-28' && !isBackendInit(request.headers)
      ? request.headers.get('mcp-method')
      : undefined;
  if (request?.endOfStream === true || (modernMethod !== undefined && !isForwardedMethod('modern', modernMethod))) {
    return brokerOnly(publicHost, modernMethod);
  }
  return plainAnswer(publicHost);
}

function plainAnswer(publicHost: string): ProcessingResponse {
  const known = answers.get(publicHost);
  if (known !== undefined) return known;
  const answer: ProcessingResponse = Object.freeze({
    request_headers: {
      response: {
        header_mutation: { set_headers: [setHeader(':authority', publicHost)], remove_headers: [...INTERNAL_HEADERS] },
        clear_route_cache: true,
      },
    },
  });
  if (answers.size < 16) answers.set(publicHost, answer);
  return answer;
}

/** To the broker, with nothing more to ask: the stream's last answer. */
function brokerOnly(publicHost: string, method: string | undefined): ProcessingResponse {
  const set = [setHeader(':authority', publicHost), setHeader('x-mcp-servername', BROKER_SERVER_NAME)];
  if (method !== undefined) set.push(setHeader('x-mcp-method', method));
  return {
    request_headers: {
      response: {
        header_mutation: { set_headers: set, remove_headers: [...INTERNAL_HEADERS] },
        clear_route_cache: true,
      },
    },
    mode_override: { request_body_mode: 'NONE', response_header_mode: 'SKIP' },
    dynamic_metadata: routingMetadata({ method, server: BROKER_SERVER_NAME }),
  };
}
