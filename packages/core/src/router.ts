/**
 * What the Envoy ext_proc router needs of the core beyond the hosts' entry: the same decisions
 * the broker makes (the session gate, the routing decision, the scope of a call's answer),
 * backend sessions, the hairpin's backend-init tokens, and the JSON-RPC and MCP header rules.
 * The router only maps these decisions onto Envoy header and body mutations.
 */
export { decideRoute } from './decision/route.ts';
export { argumentsOf, authorizeForward, refusalError } from './decision/authorize.ts';
export { admitCallQuota, quotaCheckOf } from './decision/call-quota.ts';
export { confirmationNeed } from './decision/call-confirmation.ts';
export type { AdmittedCall, QuotaCheck } from './decision/call-quota.ts';
export type { Authorization } from './decision/authorize.ts';
export type { AccessControl, RequestAccess } from './decision/access-control.ts';
export { unverified } from './identity/authentication.ts';
export type { Authentication, AuthRefusal } from './identity/authentication.ts';
export { NO_AUDIT, NO_TRAIL } from './audit/audit-record.ts';
export { NO_METRICS } from './telemetry/gateway-metrics.ts';
export type { CallFact, CallOutcome, GatewayMetrics, RouterPhase } from './telemetry/gateway-metrics.ts';
export { NO_SPAN, NO_TRACER, withTraceMeta } from './telemetry/gateway-tracer.ts';
export type { GatewaySpan, GatewayTracer, TraceCarrier } from './telemetry/gateway-tracer.ts';
export { answerOutcome } from './telemetry/answer-outcome.ts';
export type { AnswerOutcome } from './telemetry/answer-outcome.ts';
export { mcpRoutedAttributes, mcpSessionAttributes, mcpSpanName } from './telemetry/mcp-spans.ts';
export type { Auditor, AuditTrail } from './audit/audit-record.ts';
export type { CallTarget, ForwardPlan, RouteContext, RouteDecision } from './decision/route.ts';
export type { ResultRewrite } from './decision/result-rewrite.ts';
export { isForwardedMethod } from './decision/routed-methods.ts';
export type { Era } from './decision/routed-methods.ts';
export type {
  GatedCall,
  PresentedSession,
  SessionAdmission,
  SessionCheck,
  SessionGate,
} from './decision/session-gate.ts';

export { createCallScope } from './relay/call-scope.ts';
export type { CallScope, CallVerdict } from './relay/call-scope.ts';
export { rememberServerRequest } from './relay/server-requests.ts';
export { noAnswer, rewriteAnswer } from './calls/call-answer.ts';

export { ensureBackendSession } from './backend/backend-session.ts';
export { ROUTER_HEADERS, routerHeaders } from './backend/upstream-headers.ts';

export { BACKEND_INIT_HEADERS, createBackendInitTokens } from './session/backend-init-token.ts';
export type { BackendInitTokens, BackendInitVerifyResult } from './session/backend-init-token.ts';
export type { SessionClaims } from './session/session-token.ts';

export { concatBytes } from './protocol/bytes.ts';
export { parseJsonRpcMessage } from './protocol/json-rpc.ts';
export type { JsonRpcId, JsonRpcMessage, JsonRpcRequest } from './protocol/json-rpc.ts';
export {
  checkModernHeaders,
  encodeHeaderValue,
  isModernRequest,
  isModernVersion,
  META,
  requestMeta,
} from './protocol/modern-request.ts';
export { NO_USER_CREDENTIALS } from './credentials/user-credentials.ts';
export type { UserCredentials } from './credentials/user-credentials.ts';
export { toJsonRpcError } from './protocol/error-mapping.ts';
export { DEFAULT_MAX_BODY_BYTES } from './endpoint/read-body.ts';

export { createUpstreamClient } from './upstream/upstream-client.ts';
export { upstreamStatusOf } from './upstream/upstream-errors.ts';
export type { UpstreamClient } from './upstream/upstream-client.ts';
