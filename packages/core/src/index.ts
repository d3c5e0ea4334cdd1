/**
 * The gateway core for hosts (the Node gateway, the worker, the controller's config types):
 * creating and running a gateway, its configuration, session store and notification bus ports,
 * errors and logging. What the Envoy router needs beyond this is the `./router` entry.
 */
export { ERROR_CODES, GatewayError, isGatewayError } from './errors.ts';
export type { GatewayErrorCode, GatewayErrorOptions } from './errors.ts';
export { NOOP_LOGGER } from './logger.ts';
export type { LogFields, Logger } from './logger.ts';

export { EMPTY_CONFIG } from './config/schema.ts';
export type { GatewayConfig, ServerConfig, VirtualServerConfig } from './config/schema.ts';
export type {
  AuditConfig,
  AuthConfig,
  IssuerConfig,
  OAuthConfig,
  PolicyConfig,
  PolicyRuleConfig,
  TrustedHeadersConfig,
} from './config/access-schema.ts';
export { parseConfig } from './config/parse-config.ts';
export type { ConfigResult } from './config/parse-config.ts';

export { assertSigningKey, MIN_SIGNING_KEY_BYTES } from './session/session-token.ts';
export type { HmacSha256Factory, HmacSha256Signer } from './session/hmac-sha256.ts';

export { createMemorySessionStore } from './store/memory-session-store.ts';
export type { MemorySessionStoreOptions } from './store/memory-session-store.ts';
export type { PendingRequest, SessionCallAdmission, SessionLookup, SessionStore } from './store/session-store.ts';
export { assertToolSelection, fromStoredSelection } from './store/tool-selection.ts';
export { assertCredentialKey, assertCredentialWrite, assertGrant } from './store/credential-record.ts';
export {
  admitCallTo,
  assertCallAdmission,
  assertCallRelease,
  fromStoredCallQuota,
  releaseCallFrom,
} from './store/call-quota.ts';
export type { CallAdmission, CallLimits, StoredCallQuota } from './store/call-quota.ts';
export type { StoredSelection } from './store/tool-selection.ts';
export { approvePin, parseStoredPinRecord, toPinRecordJson } from './store/pin-record.ts';
export type { PinApproval, PinChange, PinnedTool, PinRecord, QuarantinedTool } from './store/pin-record.ts';
export { PINS_TOPIC } from './gateway/upstream-pool.ts';
export { BROADCAST_TOPIC, createMemoryNotificationBus } from './store/notification-bus.ts';
export type { BusMessage, NotificationBus } from './store/notification-bus.ts';
export { createSplitNotificationBus } from './store/split-notification-bus.ts';
export type { SplitNotificationBusOptions } from './store/split-notification-bus.ts';

export { DEFAULT_SERVER_INFO, createGateway } from './gateway/create-gateway.ts';
export type { Gateway, GatewayOptions, GatewayRouting } from './gateway/create-gateway.ts';
export type { CredentialSettings } from './gateway/gateway-credentials.ts';
export type { TokenExchangeConfig } from './config/credentials-schema.ts';
export type { McpEndpoint } from './endpoint/mcp-endpoint.ts';
export type { RequestContext } from './endpoint/endpoint-context.ts';
export { LOOPBACK_HOSTS } from './endpoint/origin-policy.ts';
export type { OriginPolicy } from './endpoint/origin-policy.ts';
export type { ServerStatus, StatusReport } from './status/status-report.ts';

export { accessConfigIssues } from './decision/access-control.ts';
export type { AccessControl, AccessEnv } from './decision/access-control.ts';
export type { DiscoverySettings } from './discovery/discovery-settings.ts';
export type { ProtectedResourceMetadata } from './identity/protected-resource.ts';
export type { AuditRecord, AuditSink } from './audit/audit-record.ts';
export { NO_METRICS } from './telemetry/gateway-metrics.ts';
export { RecentKeys } from './telemetry/recent-keys.ts';
export {
  exchangeToken,
  type ExchangedToken,
  type TokenExchangeOptions,
  type TokenExchangeTarget,
} from './credentials/token-exchange.ts';
export { createCredentialSealer, type CredentialSealer, type UserCredential } from './credentials/credential-sealer.ts';
export {
  createTokenPages,
  type TokenPages,
  type TokenPagesDeps,
  type TokenPagesServer,
} from './credentials/token-pages.ts';
export type { BrowserLoginConfig } from './credentials/browser-login.ts';
export type { UpstreamOAuthConfig, UpstreamOAuthServer } from './credentials/upstream-discovery.ts';
export { refreshUpstreamToken } from './credentials/upstream-token.ts';
export { NO_TRACER } from './telemetry/gateway-tracer.ts';
export type { GatewayTracer } from './telemetry/gateway-tracer.ts';
export type {
  CallFact,
  CallOutcome,
  GatewayMetrics,
  RequestOutcome,
  RouterPhase,
  StoreOperation,
} from './telemetry/gateway-metrics.ts';
export { createMeasuredNotificationBus, createMeasuredSessionStore } from './telemetry/measured-store.ts';
