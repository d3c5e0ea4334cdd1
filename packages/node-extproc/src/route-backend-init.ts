import {
  BACKEND_INIT_HEADERS,
  ROUTER_HEADERS,
  type BackendInitVerifyResult,
  type JsonRpcMessage,
} from '@mcp-gateway/core/router';
import type { ServerConfig } from '@mcp-gateway/core';
import { immediateResponse, routingMetadata, setHeader, type ProcessingResponse } from './ext-proc-messages.ts';

/** What routing a hairpin initialize needs. */
export interface BackendInitDeps {
  serverOf(name: string): ServerConfig | undefined;
  /** Verifies a backend-init token (`router-key`) against the host it came with (`mcp-init-host`). */
  verifyBackendInit(token: string, host: string): Promise<BackendInitVerifyResult>;
}

/** The only messages a backend-init token lets through: the session's opening handshake. */
const INIT_METHODS = new Set(['initialize', 'notifications/initialized']);

const REASONS: Record<Exclude<BackendInitVerifyResult, { ok: true }>['reason'], string> = {
  malformed: 'is malformed',
  forged: 'is not signed by this gateway',
  expired: 'has expired',
  'wrong-host': 'is bound to another host',
};

/** True when a request carries either hairpin header (then it must be a valid hairpin initialize). */
export function isBackendInit(headers: ReadonlyMap<string, string>): boolean {
  return headers.has(BACKEND_INIT_HEADERS.host) || headers.has(BACKEND_INIT_HEADERS.token);
}

/**
 * Routes a hairpin initialize: the router opened a backend session by sending the initialize
 * back through Envoy (the gateway's private host), so that Envoy's per-server policies apply to
 * it, with `mcp-init-host` and a 30 s `router-key` token bound to that host. A valid token sends
 * it (and the `notifications/initialized` that follows) to the server's virtual host and path;
 * anything else carrying those headers, a client's copy included, is refused with 403 and the
 * reason. The headers never travel further: the request-headers phase removed them.
 * @see reference: the anchor's backend-init JWT (`router-key`, `mcp-init-host`)
 */
export async function routeBackendInit(
  message: JsonRpcMessage,
  headers: ReadonlyMap<string, string>,
  deps: BackendInitDeps,
): Promise<ProcessingResponse> {
  const host = headers.get(BACKEND_INIT_HEADERS.host);
  const token = headers.get(BACKEND_INIT_HEADERS.token);
  if (host === undefined || token === undefined) {
    return refuse(`${BACKEND_INIT_HEADERS.host} and ${BACKEND_INIT_HEADERS.token} must come together`);
  }
  const verified = await deps.verifyBackendInit(token, host);
  if (!verified.ok) return refuse(`the ${BACKEND_INIT_HEADERS.token} token ${REASONS[verified.reason]}`);
  const method = 'method' in message && typeof message.method === 'string' ? message.method : undefined;
  if (method === undefined || !INIT_METHODS.has(method)) {
    return refuse(`the ${BACKEND_INIT_HEADERS.token} token only opens a backend session (initialize)`);
  }
  const server = deps.serverOf(verified.claims.server);
  if (server === undefined || server.hostname.toLowerCase() !== verified.claims.host) {
    return refuse(`no configured server ${verified.claims.server} at ${verified.claims.host}`);
  }
  return {
    request_body: {
      response: {
        header_mutation: {
          set_headers: [
            setHeader(':authority', server.hostname),
            setHeader(':path', new URL(server.url).pathname),
            setHeader(ROUTER_HEADERS.method, method),
            setHeader(ROUTER_HEADERS.server, server.name),
          ],
        },
        clear_route_cache: true,
      },
    },
    dynamic_metadata: routingMetadata({ method, server: server.name }),
  };
}

function refuse(reason: string): ProcessingResponse {
  return immediateResponse(403, `Backend initialize refused: ${reason}`);
}
