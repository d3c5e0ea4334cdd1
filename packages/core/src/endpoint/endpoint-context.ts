import type { Auditor } from '../audit/audit-record.ts';
import type { CallContext } from '../calls/call-context.ts';
import type { AccessControl } from '../decision/access-control.ts';
import type { RouteContext } from '../decision/route.ts';
import type { SessionGate } from '../decision/session-gate.ts';
import type { Logger } from '../logger.ts';
import type { GatewaySpan, GatewayTracer } from '../telemetry/gateway-tracer.ts';
import type { SessionClaims } from '../session/session-token.ts';
import type { DiscoverySettings } from '../discovery/discovery-settings.ts';
import type { JsonObject } from '../upstream/types.ts';
import type { CredentialedCallContext } from './credentialed-call.ts';
import type { OriginPolicy } from './origin-policy.ts';

/** Everything the MCP endpoint needs; `createGateway` builds it once. */
export interface EndpointContext extends CallContext, CredentialedCallContext {
  /** The session decision, shared with the Envoy router. */
  readonly gate: SessionGate;
  /** What the routing decision reads now (the current catalog and servers). */
  routeContext(): RouteContext;
  /** The access decisions of the current config (identity, trusted headers, virtual servers, policy). */
  access(): AccessControl;
  /** Where decisions on calls and reads are recorded (the current config's `audit`). */
  auditor(): Auditor;
  /**
   * On-demand discovery (workerd): refreshes stale upstreams first; undefined when nothing to
   * wait for, so the hot path stays synchronous.
   */
  refreshIfStale(): Promise<void> | undefined;
  readonly originPolicy: OriginPolicy;
  /** Request body limit in bytes. */
  readonly maxBodyBytes: number;
  /** Name and version the gateway reports at initialize and in 2026-07-28 results. */
  readonly serverInfo: { readonly name: string; readonly version: string };
  /** Interval of keep-alive comments on GET notification and listen streams. */
  readonly keepAliveMs: number;
  /** The host named in metrics: `broker` or `worker`. */
  readonly hostName: string;
  /** Where requests' spans go. */
  readonly tracer: GatewayTracer;
  /** The discovery meta-tools' settings. */
  readonly toolDiscovery: DiscoverySettings;
  /** The meta-tools offered now (none when discovery is off). */
  metaTools(): readonly JsonObject[];
  /** How long a call waits for the user's confirmation now (the config's `confirmation.timeoutSeconds`). */
  confirmationTimeoutSeconds(): number;
}

/**
 * The context of one request: the endpoint's, with the request's span and a logger whose lines
 * carry its trace id (the endpoint's own when the request has no trace).
 */
export function scopedToRequest(ctx: EndpointContext, span: GatewaySpan, logger: Logger): EndpointContext {
  if (span === ctx.span && logger === ctx.logger) return ctx;
  return { __proto__: ctx, span, logger } as unknown as EndpointContext;
}

/** Per-request extras a host may pass (e.g. workerd's waitUntil). */
export interface RequestContext {
  waitUntil?: (promise: Promise<unknown>) => void;
}

/** A request on a legacy session the gate admitted. */
export interface SessionRequest {
  readonly request: Request;
  /** The session id as presented (the signed token). */
  readonly token: string;
  readonly claims: SessionClaims;
  /** The request's logger, carrying the session's jti. */
  readonly logger: Logger;
  readonly context: RequestContext;
}
