import { GatewayError } from '../errors.ts';
import type { ServerConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { SessionClaims } from '../session/session-token.ts';
import type { NotificationBus } from '../store/notification-bus.ts';
import type { SessionStore } from '../store/session-store.ts';
import type { UpstreamClient } from '../upstream/upstream-client.ts';
import { clientIdentityHeaders } from './upstream-headers.ts';

/** Sentinel stored for upstreams that run without sessions (they issue no Mcp-Session-Id). */
export const NO_BACKEND_SESSION = '';

/** Bus topic on which a gateway session's newly created backend sessions are announced. */
export function backendSessionTopic(jti: string): string {
  return `backend:${jti}`;
}

/**
 * Returns the backend session for (gateway session, server): the one already held, or a new one
 * created by an initialize on the client's behalf (its identity headers and declared capabilities,
 * so the upstream may send it elicitation, sampling and roots requests). Concurrent first calls
 * create exactly one (the store's single flight). A new one is announced on the bus, so the
 * replica holding the client's notification stream relays what the upstream sends outside calls.
 * Shared by the broker's forwarding and the ext_proc router.
 */
export async function ensureBackendSession(
  deps: { store: SessionStore; bus: NotificationBus; logger: Logger },
  claims: SessionClaims,
  clientHeaders: Headers,
  server: ServerConfig,
  client: UpstreamClient,
  known?: string,
): Promise<string> {
  if (known !== undefined) return known;
  const ttlSeconds = Math.max(1, claims.exp - Math.floor(Date.now() / 1000));
  return deps.store.ensureBackendSession(claims.jti, server.name, ttlSeconds, async () => {
    try {
      const created = await client.initialize({
        capabilities: claims.clientCapabilities,
        headers: clientIdentityHeaders(clientHeaders),
        useCredential: false,
      });
      deps.logger.debug('backend session created', { jti: claims.jti, server: server.name });
      const id = created.sessionId ?? NO_BACKEND_SESSION;
      if (id !== NO_BACKEND_SESSION) {
        // A client GET stream (on any replica) starts relaying this session's standalone stream.
        deps.bus
          .publish(backendSessionTopic(claims.jti), { server: server.name, backendSessionId: id })
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
