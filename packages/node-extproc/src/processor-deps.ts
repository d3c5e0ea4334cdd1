import {
  createMemoryNotificationBus,
  type HmacSha256Factory,
  type Logger,
  type NotificationBus,
  type ServerConfig,
  type SessionStore,
} from '@mcp-gateway/core';
import {
  admitCallQuota,
  quotaCheckOf,
  createBackendInitTokens,
  createUpstreamClient,
  DEFAULT_MAX_BODY_BYTES,
  ensureBackendSession,
  rememberServerRequest,
  NO_AUDIT,
  NO_METRICS,
  NO_TRACER,
  type Authentication,
  type GatewayTracer,
  type GatewaySpan,
  type AccessControl,
  type GatewayMetrics,
  type Auditor,
  type RouteContext,
  type SessionClaims,
  type SessionGate,
  type UpstreamClient,
  NO_USER_CREDENTIALS,
  type UserCredentials,
} from '@mcp-gateway/core/router';
import { createHairpinFetch, privateHostBase } from './hairpin-fetch.ts';
import type { RequestBodyDeps } from './translate-request-body.ts';
import type { ResponseBodyDeps } from './translate-response-body.ts';
import type { ResponseHeadersDeps } from './translate-response-headers.ts';

/** Everything the processor needs per request: the translators' dependencies plus its own. */
export interface ProcessorDeps extends RequestBodyDeps, ResponseHeadersDeps, ResponseBodyDeps {
  /** The gateway's public host: every request's `:authority` until a call is routed. */
  readonly publicHost: string;
  readonly logger: Logger;
}

/** Options of {@link createProcessorDeps}: the gateway's shared state. */
export interface ProcessorDepsOptions {
  readonly publicHost: string;
  /** Default DEFAULT_MAX_BODY_BYTES (10 MiB); Envoy's own buffer limit may be lower. */
  readonly maxBodyBytes?: number;
  /** The broker's session gate: the router admits exactly the sessions the broker admits. */
  readonly gate: SessionGate;
  /** What the broker's routing decision reads (catalog, servers, their eras). */
  routeContext(): RouteContext;
  /** The broker's access decisions (token verification, virtual servers, trusted headers, policy). */
  access(): AccessControl;
  /** The audit trail the router records routed calls in; default none. */
  auditor?(): Auditor;
  /** Where the router counts its phases, decisions and routed calls; default nowhere. */
  readonly metrics?: GatewayMetrics;
  /** Where the router's spans go (one per routed call); default none. */
  readonly tracer?: GatewayTracer;
  /** The gateway's signing key (GATEWAY_SIGNING_KEY): signs and verifies backend-init tokens. */
  readonly signingKey: string | Uint8Array;
  /** The host's HMAC-SHA256 for backend-init tokens; default crypto.subtle, key imported once. */
  readonly hmac?: HmacSha256Factory;
  /**
   * `--mcp-gateway-private-host` (`host:port`, or a URL with scheme): when set, backend sessions
   * are opened by an initialize sent back through Envoy at this address (a hairpin), so Envoy's
   * per-server policies apply to it; otherwise straight to the upstream URL.
   */
  readonly privateHost?: string;
  /**
   * The fetch the hairpin's requests to `privateHost` go through, with the host's TLS trust (the
   * Node gateway passes one that adds `gatewayCACertPEM` for an `https://` private host and follows
   * config reloads); default the global fetch, which trusts the system's CAs only.
   */
  readonly privateHostFetch?: typeof fetch;
  readonly store: SessionStore;
  /** Whose calls quotas count (the broker's caller identities); default: every sessionless caller anonymous. */
  readonly callers?: { identify(auth: Authentication): Promise<string | undefined> };
  /** Longest a routed call is expected to take (its quota slot is held at most this and 30 s); default 30 s. */
  readonly callTimeoutMs?: number;
  /** Where new backend sessions are announced (the broker's bus); default: nowhere. */
  readonly bus?: NotificationBus;
  /** The user credential decision the broker makes; default: no server takes users' own credentials. */
  readonly credentials?: UserCredentials;
  /** The client that opens backend sessions on `server`; default one per server, created on first use. */
  upstreamClient?(server: ServerConfig): UpstreamClient;
  readonly logger: Logger;
}

/**
 * Binds the translators to the gateway's session tokens, store and upstream clients. A
 * backend session is opened at most once per (gateway session, upstream), whatever the
 * concurrency (the store's single flight), by an initialize with the client's identity headers
 * and declared capabilities, never the server's credential: through Envoy at the private host
 * with a backend-init token when `privateHost` is set (see createHairpinFetch), else directly
 * to the upstream URL.
 */
export function createProcessorDeps(options: ProcessorDepsOptions): ProcessorDeps {
  const { store, logger } = options;
  const metrics = options.metrics ?? NO_METRICS;
  const bus = options.bus ?? createMemoryNotificationBus();
  const initTokens = createBackendInitTokens({
    key: options.signingKey,
    ...(options.hmac !== undefined && { hmac: options.hmac }),
  });
  const { privateHost } = options;
  if (privateHost !== undefined) privateHostBase(privateHost); // a malformed flag fails at start-up
  const clients = new Map<string, UpstreamClient>();
  const ownClient = (server: ServerConfig) => {
    const known = clients.get(server.name);
    if (known !== undefined && known.server === server) return known;
    const created = createUpstreamClient({
      server,
      logger,
      ...(privateHost !== undefined && {
        fetch: createHairpinFetch(privateHost, server, initTokens, options.privateHostFetch),
      }),
    });
    clients.set(server.name, created);
    return created;
  };
  const clientFor = privateHost === undefined ? (options.upstreamClient ?? ownClient) : ownClient;

  return {
    publicHost: options.publicHost,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    logger,
    gate: options.gate,
    routeContext: () => options.routeContext(),
    access: () => options.access(),
    auditor: () => options.auditor?.() ?? NO_AUDIT,
    metrics,
    tracer: options.tracer ?? NO_TRACER,
    serverOf: (name) => options.routeContext().serverOf(name),
    verifyBackendInit: (token, host) => initTokens.verify(token, host),
    credentials: options.credentials ?? NO_USER_CREDENTIALS,
    admitQuota(plan, caller) {
      if (plan.server.quotas === undefined || plan.method !== 'tools/call' || plan.target === undefined) {
        return Promise.resolve(undefined);
      }
      return admitCallQuota(store, plan.server, plan.target.name, caller, options.callTimeoutMs ?? 30_000, logger);
    },
    quotaCheck: (plan, caller) => quotaCheckOf(plan, caller, options.callTimeoutMs ?? 30_000),
    identifyCaller: (auth) => options.callers?.identify(auth) ?? Promise.resolve(undefined),
    ensureBackendSession(
      claims: SessionClaims,
      server: ServerConfig,
      clientHeaders: ReadonlyMap<string, string>,
      known: string | undefined,
      span?: GatewaySpan,
    ) {
      if (known !== undefined) return Promise.resolve(known);
      const headers = new Headers([...clientHeaders].filter(([name]) => !name.startsWith(':')));
      return ensureBackendSession(
        { store, bus, logger, metrics },
        claims,
        headers,
        server,
        clientFor(server),
        undefined,
        span,
      );
    },
    relayServerRequest: (route, message) =>
      rememberServerRequest(store, route.jti, route.server, route.backendSessionId, message),
    evictBackendSession(jti, server, backendSessionId) {
      logger.debug('backend session evicted', { jti, server });
      return store.dropBackendSession(jti, server, backendSessionId);
    },
  };
}
