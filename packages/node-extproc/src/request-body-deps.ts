import type {
  AccessControl,
  AdmittedCall,
  Auditor,
  Authentication,
  ForwardPlan,
  GatewayMetrics,
  GatewaySpan,
  GatewayTracer,
  QuotaCheck,
  RouteContext,
  SessionClaims,
  SessionGate,
  UserCredentials,
} from '@mcp-gateway/core/router';
import type { GatewayError, Logger, ServerConfig } from '@mcp-gateway/core';
import type { BackendInitDeps } from './route-backend-init.ts';

/** What the request-body phase needs; effects are injected so the translation stays testable. */
export interface RequestBodyDeps extends BackendInitDeps {
  /** Largest body accepted, in bytes; larger bodies get 413. */
  readonly maxBodyBytes: number;
  /** The session decision the broker makes (the same gate). */
  readonly gate: SessionGate;
  /** What the routing decision reads now (the same decision the broker makes). */
  routeContext(): RouteContext;
  /** The access decisions the broker makes (virtual servers, trusted headers, policy). */
  access(): AccessControl;
  /** Where routed calls are recorded (the config's audit trail, as `router`). */
  auditor(): Auditor;
  /** Where the router's decisions and calls are counted. */
  readonly metrics: GatewayMetrics;
  /** Where the router's spans go: one per routed call. */
  readonly tracer: GatewayTracer;
  /** Where a failed call is logged (once, at warn). */
  readonly logger: Logger;
  /**
   * Counts a routed tools/call against the caller's quota (core's admitCallQuota, the broker's
   * decision): undefined without one, the refusal when over it, else the slot held until the
   * exchange ends.
   */
  admitQuota(plan: ForwardPlan, caller: string | undefined): Promise<AdmittedCall | GatewayError | undefined>;
  /**
   * The quota a routed call counts against, for `caller` (core's quotaCheckOf): a legacy call
   * under one has its session read with its admission (SessionGate.admitCall), in one store round
   * trip. Undefined without one.
   */
  quotaCheck(plan: ForwardPlan, caller: string | undefined): QuotaCheck | undefined;
  /** The caller's identity hash of a sessionless (2026-07-28) request, as sessions bind it. */
  identifyCaller(auth: Authentication): Promise<string | undefined>;
  /** The user credential decision the broker makes (core's UserCredentials). */
  readonly credentials: UserCredentials;
  /**
   * The backend session for (session, server): `known` when the store named one, else one opened
   * once (single flight) by an initialize carrying the client's identity headers, a client span
   * of the routed call's `span`. "" for an upstream without sessions.
   */
  ensureBackendSession(
    claims: SessionClaims,
    server: ServerConfig,
    clientHeaders: ReadonlyMap<string, string>,
    known: string | undefined,
    span?: GatewaySpan,
  ): Promise<string>;
}
