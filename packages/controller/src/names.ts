/** API group of the gateway's custom resources (field-compatible with the anchor's v1). */
export const MCP_API_GROUP = 'mcp.kuadrant.io';
/** Served and stored version of the custom resources. */
export const MCP_API_VERSION = 'v1';
/** `apiVersion` of the custom resources. */
export const MCP_API = `${MCP_API_GROUP}/${MCP_API_VERSION}`;
/** The Gateway API group. */
export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
/** Name of the per-namespace Secret that holds the gateway config (key `config.yaml`). */
export const CONFIG_SECRET_NAME = 'mcp-gateway-config';
/** Key of the config file in the config Secret. */
export const CONFIG_SECRET_KEY = 'config.yaml';
/** Name of the per-namespace Secret holding the session signing key (key `key`). */
export const SIGNING_KEY_SECRET_NAME = 'mcp-gateway-session-signing-key';
export const SIGNING_KEY_SECRET_KEY = 'key';
/** Key of the PEM in each Secret of `spec.trustedHeadersKey` (the anchor's). */
export const TRUSTED_KEY_SECRET_KEY = 'key';
/** Environment variable of the gateway that holds the trusted-header public key (the anchor's). */
export const TRUSTED_KEY_ENV = 'TRUSTED_HEADER_PUBLIC_KEY';
/** Pod template annotation with the trusted-header key's fingerprint: a new key rolls the pods. */
export const TRUSTED_KEY_ANNOTATION = 'mcp.kuadrant.io/trusted-headers-key';
/** Name of the gateway's Deployment, Service and ServiceAccount in an extension's namespace. */
export const GATEWAY_NAME = 'mcp-gateway';
/** Name of the HTTPRoute that sends the gateway's public host to the gateway Service. */
export const GATEWAY_ROUTE_NAME = 'mcp-gateway-route';
/** Name of the HTTPRoute that sends the public host's `/tokens` pages to the gateway (URL elicitation). */
export const TOKENS_ROUTE_NAME = 'mcp-gateway-tokens-route';
/** Environment variable of the gateway with the keys that seal users' stored credentials. */
export const CREDENTIAL_KEYS_ENV = 'CREDENTIAL_ENCRYPTION_KEYS';
/** Key of the keys in the Secret of `spec.credentialEncryption`. */
export const CREDENTIAL_KEYS_SECRET_KEY = 'keys';
/** Pod template annotation with the credential keys Secret's version: new keys roll the pods. */
export const CREDENTIAL_KEYS_ANNOTATION = 'mcp.kuadrant.io/credential-encryption-keys';
/** Field manager of every server-side apply the controller makes. */
export const FIELD_MANAGER = 'mcp-gateway-controller';
/** Finalizer on MCPGatewayExtension: removes the EnvoyFilter (in another namespace) first. */
export const FINALIZER = 'mcp.kuadrant.io/finalizer';
/** Label that a Secret must carry to be read by the controller (credentials, CA, Redis). */
export const SECRET_LABEL = 'mcp.kuadrant.io/secret';
/** Label on config Secrets the controller writes. */
export const AGGREGATED_LABEL = 'mcp.kuadrant.io/aggregated';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const NAME_LABEL = 'app.kubernetes.io/name';
export const EXTENSION_NAME_LABEL = 'mcp.kuadrant.io/extension-name';
export const EXTENSION_NAMESPACE_LABEL = 'mcp.kuadrant.io/extension-namespace';
/** Labels on everything the controller creates. */
export const MANAGED_LABELS = { [NAME_LABEL]: GATEWAY_NAME, [MANAGED_BY_LABEL]: FIELD_MANAGER } as const;
/** Ports of the gateway container. */
export const BROKER_PORT = 8080;
export const ROUTER_PORT = 50051;
/** Where the config Secret is mounted in the gateway container (a directory, so updates reach it). */
export const CONFIG_MOUNT_PATH = '/config';
/** Default image of the gateway Deployment. */
export const DEFAULT_GATEWAY_IMAGE = 'ghcr.io/mcp-gateway/mcp-gateway:latest';
/** Condition type on extensions and registrations. */
export const READY = 'Ready';
/** Condition type on registrations with `spec.pinning`: True while a tool definition waits for approval. */
export const TOOLS_QUARANTINED = 'ToolsQuarantined';
/** Annotation on a registration: approved tool digests (`sha256:<64 hex>`), comma or space separated. */
export const APPROVED_DIGESTS_ANNOTATION = 'mcp.kuadrant.io/approved-tool-digests';
