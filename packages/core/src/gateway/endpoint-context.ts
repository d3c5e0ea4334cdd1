import type { ServerConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { SessionClaims, SessionTokens } from '../session/session-token.ts';
import type { NotificationBus } from '../store/notification-bus.ts';
import type { SessionStore } from '../store/session-store.ts';
import type { OriginPolicy } from './origin-policy.ts';
import type { UpstreamPool } from './upstream-pool.ts';

/** Default time an upstream may stay silent during a forwarded call: 30 s. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

/** Everything the MCP endpoint needs; hosts build it once at start-up. */
export interface McpEndpointOptions {
  pool: Pick<UpstreamPool, 'catalog' | 'server' | 'client' | 'snapshot' | 'refreshIfStale'>;
  tokens: SessionTokens;
  store: SessionStore;
  bus: NotificationBus;
  logger: Logger;
  /** The fetch for one upstream, used for forwarded calls and relayed answers. */
  fetchFor: (server: ServerConfig) => typeof fetch;
  originPolicy: OriginPolicy;
  /** Request body limit in bytes; default 10 MiB. */
  maxBodyBytes?: number;
  /** How long an upstream may stay silent during a call before the client gets an error; default 30 s. */
  callTimeoutMs?: number;
  /** Name and version the gateway reports at initialize. */
  serverInfo?: { name: string; version: string };
  /** Interval of keep-alive comments on GET notification streams; default 15 s. */
  keepAliveMs?: number;
  /**
   * Calls of this process to 2026-07-28 upstreams on behalf of legacy clients, by
   * `modernCallKey(jti, id)`: a legacy client's notifications/cancelled aborts them (that era
   * cancels by closing the stream). Created by the endpoint.
   */
  modernCalls?: Map<string, AbortController>;
}

/** The key of an in-flight call in `McpEndpointOptions.modernCalls`. */
export function modernCallKey(jti: string, id: unknown): string {
  return `${jti} ${JSON.stringify(id)}`;
}

/** Per-request extras a host may pass (e.g. workerd's waitUntil). */
export interface RequestContext {
  waitUntil?: (promise: Promise<unknown>) => void;
}

/** A request whose session has been validated. */
export interface SessionRequest {
  readonly request: Request;
  readonly token: string;
  readonly claims: SessionClaims;
  readonly logger: Logger;
  readonly context: RequestContext;
}
