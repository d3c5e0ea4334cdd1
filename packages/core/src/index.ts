export { ERROR_CODES, GatewayError, isGatewayError } from './errors.ts';
export type { GatewayErrorCode, GatewayErrorOptions } from './errors.ts';
export { NOOP_LOGGER } from './logger.ts';
export type { LogFields, Logger } from './logger.ts';

export { EMPTY_CONFIG } from './config/schema.ts';
export type { GatewayConfig, ServerConfig, VirtualServerConfig } from './config/schema.ts';
export { parseConfig } from './config/parse-config.ts';
export type { ConfigResult } from './config/parse-config.ts';

export { parseJsonRpcMessage } from './protocol/json-rpc.ts';
export type { JsonRpcId, JsonRpcMessage, JsonRpcParseResult, JsonRpcRequest } from './protocol/json-rpc.ts';
export { createSseParser, encodeSseEvent } from './protocol/sse.ts';
export {
  META,
  SUPPORTED_PROTOCOL_VERSIONS,
  checkModernHeaders,
  claimedVersion,
  decodeHeaderValue,
  encodeHeaderValue,
  isModernRequest,
  isModernVersion,
  nameSource,
  requestMeta,
} from './protocol/modern-request.ts';
export type { SseEvent } from './protocol/sse.ts';
export {
  DEFAULT_NEGOTIATED_PROTOCOL_VERSION,
  LATEST_LEGACY_PROTOCOL_VERSION,
  LEGACY_PROTOCOL_VERSIONS,
  MODERN_PROTOCOL_VERSION,
  isLegacyProtocolVersion,
} from './protocol/versions.ts';

export { prefixName, prefixUri, prefixUriTemplate, unprefixName, unprefixUri } from './catalog/tool-prefix.ts';
export { buildCatalog, diffCatalogs } from './catalog/catalog.ts';
export type { Catalog, CatalogKind, CatalogTarget, ServerConflicts } from './catalog/catalog.ts';
export { checkPrompt, checkTool } from './catalog/schema-check.ts';

export {
  DEFAULT_SESSION_TTL_SECONDS,
  MIN_SIGNING_KEY_BYTES,
  assertSigningKey,
  createSessionTokens,
} from './session/session-token.ts';
export type {
  SessionClaims,
  SessionTokenOptions,
  SessionTokens,
  SessionVerifyResult,
} from './session/session-token.ts';
export type { HmacSha256Factory, HmacSha256Signer } from './session/hmac-sha256.ts';
export { callerIdentity } from './session/caller-identity.ts';
export {
  BACKEND_INIT_AUDIENCE,
  BACKEND_INIT_HEADERS,
  BACKEND_INIT_PURPOSE,
  BACKEND_INIT_TTL_SECONDS,
  createBackendInitTokens,
} from './session/backend-init-token.ts';
export type {
  BackendInitClaims,
  BackendInitTokenOptions,
  BackendInitTokens,
  BackendInitVerifyResult,
} from './session/backend-init-token.ts';

export { createMemorySessionStore } from './store/memory-session-store.ts';
export type { MemorySessionStoreOptions } from './store/memory-session-store.ts';
export type { PendingRequest, SessionLookup, SessionStore } from './store/session-store.ts';
export { BROADCAST_TOPIC, createMemoryNotificationBus, sessionTopic } from './store/notification-bus.ts';
export type { BusMessage, NotificationBus } from './store/notification-bus.ts';
export { createSplitNotificationBus } from './store/split-notification-bus.ts';
export type { SplitNotificationBusOptions } from './store/split-notification-bus.ts';

export { createUpstreamClient } from './upstream/upstream-client.ts';
export type { UpstreamClient, UpstreamSession } from './upstream/upstream-client.ts';
export { createUpstreamManager } from './upstream/upstream-manager.ts';
export type { UpstreamManager } from './upstream/upstream-manager.ts';
export type { InvalidItem, JsonObject, UpstreamSnapshot, UpstreamTool } from './upstream/types.ts';

export { createGateway } from './gateway/create-gateway.ts';
export type { Gateway, GatewayOptions, GatewayRouting } from './gateway/create-gateway.ts';
export { createMcpEndpoint } from './gateway/mcp-endpoint.ts';
export { planCall } from './gateway/route-call.ts';
export type { ForwardPlan } from './gateway/forward-call.ts';
export { ROUTER_HEADERS, clientIdentityHeaders } from './gateway/upstream-headers.ts';
export { NO_BACKEND_SESSION, ensureBackendSession } from './gateway/backend-session.ts';
export { isServerRequest, rememberServerRequest } from './gateway/server-requests.ts';
export { toJsonRpcError } from './gateway/error-mapping.ts';
export type { McpEndpoint } from './gateway/mcp-endpoint.ts';
export type { McpEndpointOptions, RequestContext } from './gateway/endpoint-context.ts';
export { DEFAULT_CALL_TIMEOUT_MS } from './gateway/endpoint-context.ts';
export { DEFAULT_MAX_BODY_BYTES } from './gateway/read-body.ts';
export { LOOPBACK_HOSTS, checkOrigin } from './gateway/origin-policy.ts';
export type { OriginPolicy } from './gateway/origin-policy.ts';
export { GATEWAY_CAPABILITIES } from './gateway/local-methods.ts';
export { buildStatusReport } from './status/status-report.ts';
export type { ServerStatus, StatusReport } from './status/status-report.ts';
