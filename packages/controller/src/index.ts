/**
 * The Kubernetes controller host: MCPGatewayExtension, MCPServerRegistration and
 * MCPVirtualServer (plus Gateway API objects) in, gateway config Secrets and deployments out.
 * The reconcilers land with the controller work; this package holds the API's stable names.
 */

/** API group of the gateway's custom resources (field-compatible with the anchor's v1). */
export const MCP_API_GROUP = 'mcp.kuadrant.io';
/** Served and stored version of the custom resources. */
export const MCP_API_VERSION = 'v1';
/** Name of the per-namespace Secret that holds the gateway config (key `config.yaml`). */
export const CONFIG_SECRET_NAME = 'mcp-gateway-config';
