import type { GatewayMetrics } from '../telemetry/gateway-metrics.ts';
import type { GatewaySpan } from '../telemetry/gateway-tracer.ts';
import type { UpstreamAccess } from '../backend/backend-exchange.ts';
import type { Catalog } from '../catalog/catalog.ts';
import type { ServerConfig } from '../config/schema.ts';
import type { QuotaCheck } from '../decision/call-quota.ts';
import type { ForwardPlan } from '../decision/route.ts';
import type { Authentication } from '../identity/authentication.ts';
import type { GatewayError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { JsonRpcId, JsonRpcRequest } from '../protocol/json-rpc.ts';
import type { CallerIdentities } from '../session/caller-identity.ts';
import type { SessionClaims, SessionTokens } from '../session/session-token.ts';
import type { NotificationBus } from '../store/notification-bus.ts';
import type { SessionStore } from '../store/session-store.ts';
import type { UpstreamClient } from '../upstream/upstream-client.ts';
import type { ParkedCalls } from './parked-calls.ts';

/** The configured upstreams as calls see them (the gateway's pool behind it). */
export interface UpstreamDirectory {
  catalog(): Catalog;
  server(name: string): ServerConfig | undefined;
  client(name: string): UpstreamClient | undefined;
  /**
   * The version spoken on backend sessions (the legacy wire) with the upstream: the one it
   * negotiated, or the newest legacy version an upstream of both eras lists; undefined when none
   * is known (no MCP-Protocol-Version header is sent then).
   */
  sessionVersion(name: string): string | undefined;
}

/** Everything forwarding a call needs; the endpoint builds it once. */
export interface CallContext extends UpstreamAccess {
  readonly upstreams: UpstreamDirectory;
  /** Where calls, sessions and backend sessions are counted. */
  readonly metrics: GatewayMetrics;
  /** The span of the request being served (its upstream exchanges are its children); NO_SPAN outside a request. */
  readonly span: GatewaySpan;
  readonly store: SessionStore;
  readonly bus: NotificationBus;
  readonly tokens: SessionTokens;
  readonly callers: CallerIdentities;
  readonly logger: Logger;
  /**
   * Calls of this process to 2026-07-28 upstreams on behalf of legacy clients, by
   * `modernCallKey(jti, id)`: a legacy client's notifications/cancelled aborts them (that era
   * cancels by closing the stream).
   */
  readonly modernCalls: Map<string, AbortController>;
  /** Legacy upstreams' calls waiting for a 2026-07-28 client's input (this process only). */
  readonly parked: ParkedCalls;
}

/** A legacy client's validated session, as a call on it sees it. */
export interface LegacySession {
  /** The session id as presented (the signed token). */
  readonly token: string;
  readonly claims: SessionClaims;
  /** The backend session the store holds for the call's server, when one exists. */
  readonly backendSessionId?: string | undefined;
  /**
   * Set while the session gate's store read is left for the call's quota admission (`check`):
   * the session is not yet known not to have ended, nor `backendSessionId`. forwardGuarded reads
   * both with the admission, in one store round trip (SessionGate.admitCall).
   */
  readonly admitWith?: QuotaCheck | undefined;
}

/** One client request forwarded to an upstream: what every era direction takes. */
export interface ClientCall {
  /** The request as the client sent it. */
  readonly message: JsonRpcRequest;
  readonly plan: ForwardPlan;
  /** The client's HTTP request: its identity, trace and Mcp-Param-* headers, and its signal. */
  readonly request: Request;
  readonly logger: Logger;
  /** Who the call comes from (verified, or the unverified credential). */
  readonly auth: Authentication;
  /** The request carries the user's own credential for the upstream (credentialedCall): its 401 drops it. */
  readonly userCredential?: boolean;
  /** The headers the upstream's requests take the caller's identity from (callHeaders); default the client's. */
  readonly upstreamHeaders?: Headers;
  /** Told the upstream's HTTP status once its answer's headers arrive, or why none came (the audit and the log record it). */
  readonly noteUpstream?: ((outcome: number | GatewayError) => void) | undefined;
  /** Told the upstream's answer to the call once it comes (a result, or a JSON-RPC error). */
  readonly noteAnswer?: ((answer: Readonly<Record<string, unknown>>) => void) | undefined;
  /** The legacy client's session; absent for 2026-07-28 clients, which have none. */
  readonly session?: LegacySession;
}

/** The key of an in-flight call in `CallContext.modernCalls`. */
export function modernCallKey(jti: string, id: JsonRpcId | unknown): string {
  return `${jti} ${JSON.stringify(id)}`;
}

/**
 * The headers a call's upstream requests take the caller's identity from: with the user's own
 * credential for a server that takes one (credentialedCall), else the client's.
 */
export function callHeaders(call: ClientCall): Headers {
  return call.upstreamHeaders ?? call.request.headers;
}
