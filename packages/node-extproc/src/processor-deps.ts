import {
  createMemoryNotificationBus,
  createUpstreamClient,
  DEFAULT_MAX_BODY_BYTES,
  ensureBackendSession,
  type Catalog,
  type NotificationBus,
  type Logger,
  type ServerConfig,
  type SessionClaims,
  type SessionStore,
  type SessionTokens,
  type UpstreamClient,
} from '@mcp-gateway/core';
import type { RequestBodyDeps } from './translate-request-body.ts';
import type { ResponseHeadersDeps } from './translate-response-headers.ts';

/** Everything the processor needs per request: the translators' dependencies plus its own. */
export interface ProcessorDeps extends RequestBodyDeps, ResponseHeadersDeps {
  /** The gateway's public host: every request's `:authority` until a call is routed. */
  readonly publicHost: string;
  readonly logger: Logger;
}

/** Options of {@link createProcessorDeps}: the gateway's shared state. */
export interface ProcessorDepsOptions {
  readonly publicHost: string;
  /** Default DEFAULT_MAX_BODY_BYTES (10 MiB); Envoy's own buffer limit may be lower. */
  readonly maxBodyBytes?: number;
  catalog(): Catalog;
  serverOf(name: string): ServerConfig | undefined;
  readonly tokens: SessionTokens;
  readonly store: SessionStore;
  /** Where new backend sessions are announced (the broker's bus); default: nowhere. */
  readonly bus?: NotificationBus;
  /** The client that opens backend sessions on `server`; default one per server, created on first use. */
  upstreamClient?(server: ServerConfig): UpstreamClient;
  readonly logger: Logger;
}

/**
 * Binds the translators to the gateway's session tokens, store and upstream clients. A
 * backend session is opened at most once per (gateway session, upstream), whatever the
 * concurrency (the store's single flight), by an initialize sent directly to the upstream URL
 * with the client's identity headers and declared capabilities, never the server's credential.
 */
export function createProcessorDeps(options: ProcessorDepsOptions): ProcessorDeps {
  const { store, tokens, logger } = options;
  const bus = options.bus ?? createMemoryNotificationBus();
  const clients = new Map<string, UpstreamClient>();
  const clientFor =
    options.upstreamClient ??
    ((server: ServerConfig) => {
      const known = clients.get(server.name);
      if (known !== undefined && known.server === server) return known;
      const created = createUpstreamClient({ server, logger });
      clients.set(server.name, created);
      return created;
    });

  return {
    publicHost: options.publicHost,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    logger,
    catalog: () => options.catalog(),
    serverOf: (name) => options.serverOf(name),
    async verifySession(token) {
      const verified = await tokens.verify(token);
      if (!verified.ok) return undefined;
      const state = await store.lookup(verified.claims.jti);
      return state.terminated ? undefined : verified.claims;
    },
    ensureBackendSession(claims: SessionClaims, server: ServerConfig, clientHeaders: ReadonlyMap<string, string>) {
      const headers = new Headers([...clientHeaders].filter(([name]) => !name.startsWith(':')));
      return ensureBackendSession({ store, bus, logger }, claims, headers, server, clientFor(server));
    },
    evictBackendSession(jti, server, backendSessionId) {
      logger.debug('backend session evicted', { jti, server });
      return store.dropBackendSession(jti, server, backendSessionId);
    },
  };
}
