/**
 * The Kubernetes controller host: MCPGatewayExtension, MCPServerRegistration and
 * MCPVirtualServer (plus Gateway API objects) in; gateway config Secrets, gateway
 * Deployments, Services, HTTPRoutes and Istio EnvoyFilters out. The model (`planCluster`
 * and its parts) is pure; the kube modules do the I/O.
 */
export {
  AGGREGATED_LABEL,
  APPROVED_DIGESTS_ANNOTATION,
  CONFIG_SECRET_KEY,
  CONFIG_SECRET_NAME,
  DEFAULT_GATEWAY_IMAGE,
  FIELD_MANAGER,
  FINALIZER,
  GATEWAY_NAME,
  GATEWAY_ROUTE_NAME,
  MCP_API,
  MCP_API_GROUP,
  MCP_API_VERSION,
  SECRET_LABEL,
  SIGNING_KEY_SECRET_KEY,
  SIGNING_KEY_SECRET_NAME,
  TOOLS_QUARANTINED,
} from './names.ts';
export type {
  Condition,
  Gateway,
  HttpRoute,
  KubeObject,
  Listener,
  McpGatewayExtension,
  McpServerRegistration,
  McpVirtualServer,
  PinningSpec,
  QuarantinedTool,
  QuotaSpec,
  ReferenceGrant,
  Secret,
  Service,
  ToolOverrideSpec,
  ToolPinsStatus,
} from './model/api-types.ts';
export { EMPTY_STATE } from './model/cluster-state.ts';
export type { ClusterState } from './model/cluster-state.ts';
export { conditionHolds, setCondition } from './model/conditions.ts';
export { derivePrivateHost, derivePublicHost } from './model/hosts.ts';
export { EXTENSION_REASONS, validateExtensions } from './model/extension-validation.ts';
export type { ExtensionVerdict } from './model/extension-validation.ts';
export { REGISTRATION_REASONS } from './model/registrations.ts';
export type { DesiredServer } from './model/registrations.ts';
export { VIRTUAL_SERVER_REASONS } from './model/virtual-servers.ts';
export { toConfigYaml } from './model/config-builder.ts';
export type { DesiredConfig } from './model/config-builder.ts';
export type { ConfigProblem } from './model/access-config.ts';
export { envoyFilterName } from './model/gateway-resources.ts';
export { planCluster } from './model/plan.ts';
export type { ClusterPlan } from './model/plan.ts';
export { createKubeApi, KubeApiError, objectPath } from './kube/kube-api.ts';
export type { KubeApi } from './kube/kube-api.ts';
export { TOOLS_QUARANTINED_REASONS } from './model/tool-pins-status.ts';
export { DEFAULT_GATEWAY_STATUS_URL } from './kube/gateway-status.ts';
export type { GatewayStatusOptions } from './kube/gateway-status.ts';
export { startController } from './kube/controller.ts';
export type { Controller, ControllerOptions } from './kube/controller.ts';
export { runController } from './kube/run-controller.ts';
export type { RunControllerOptions, RunningController } from './kube/run-controller.ts';
