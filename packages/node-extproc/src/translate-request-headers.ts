import { setHeader, type ProcessingResponse } from './ext-proc-messages.ts';

/**
 * Internal headers only the processor may set. Clients' copies are removed before routing, so
 * no client can pick its own backend or claim an authorization decision.
 * @see reference: the anchor's `routing.InternalOnlyHeaders` and router headers
 */
export const INTERNAL_HEADERS = [
  'x-mcp-method',
  'x-mcp-servername',
  'x-mcp-toolname',
  'x-mcp-promptname',
  'x-mcp-resourceuri',
  'x-mcp-authorized',
  'x-mcp-virtualserver',
] as const;

/**
 * The request-headers phase: `:authority` forced to the gateway's public host (so the request
 * cannot bypass the broker's virtual host) and the client's internal headers removed, with
 * `clear_route_cache` so Envoy routes on the result.
 * @see https://www.envoyproxy.io/docs/envoy/latest/api-v3/service/ext_proc/v3/external_processor.proto#service-ext-proc-v3-commonresponse
 */
export function translateRequestHeaders(publicHost: string): ProcessingResponse {
  return {
    request_headers: {
      response: {
        header_mutation: { set_headers: [setHeader(':authority', publicHost)], remove_headers: [...INTERNAL_HEADERS] },
        clear_route_cache: true,
      },
    },
  };
}
