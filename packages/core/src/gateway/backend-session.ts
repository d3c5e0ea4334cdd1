import { GatewayError } from '../errors.ts';
import type { ServerConfig } from '../config/schema.ts';

import type { UpstreamClient } from '../upstream/upstream-client.ts';
import { backendSessionTopic } from './backend-stream.ts';
import type { McpEndpointOptions, SessionRequest } from './endpoint-context.ts';
import { clientIdentityHeaders } from './upstream-headers.ts';

/** Sentinel stored for upstreams that run without sessions (they issue no Mcp-Session-Id). */
export const NO_BACKEND_SESSION = '';

/**
 * Returns the backend session for (gateway session, server): the one already held, or a new one
 * created by an initialize on the client's behalf (its identity headers and declared capabilities,
 * so the upstream may send it elicitation, sampling and roots requests). Concurrent first calls
 * create exactly one (the store's single flight).
 */
export async function ensureBackendSession(
  endpoint: Pick<McpEndpointOptions, 'store' | 'bus'>,
  session: SessionRequest,
  server: ServerConfig,
  client: UpstreamClient,
  known: string | undefined,
): Promise<string> {
  if (known !== undefined) return known;
  const ttlSeconds = Math.max(1, session.claims.exp - Math.floor(Date.now() / 1000));
  return endpoint.store.ensureBackendSession(session.claims.jti, server.name, ttlSeconds, async () => {
    try {
      const created = await client.initialize({
        capabilities: session.claims.clientCapabilities,
        headers: clientIdentityHeaders(session.request.headers),
        useCredential: false,
      });
      session.logger.debug('backend session created', { server: server.name });
      const id = created.sessionId ?? NO_BACKEND_SESSION;
      if (id !== NO_BACKEND_SESSION) {
        // A client GET stream (on any replica) starts relaying this session's standalone stream.
        endpoint.bus
          .publish(backendSessionTopic(session.claims.jti), { server: server.name, backendSessionId: id })
          .catch(() => {});
      }
      return id;
    } catch (error) {
      throw error instanceof GatewayError
        ? error
        : new GatewayError('UPSTREAM_UNAVAILABLE', `could not open a session on upstream ${server.name}`, {
            cause: error,
          });
    }
  });
}
