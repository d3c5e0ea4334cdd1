import type { Deployment, KubeObject, OwnerReference } from './api-types.ts';
import type { ValidExtension } from './extension-validation.ts';
import type { GatewayEnvVar } from './gateway-env.ts';
import {
  BROKER_PORT,
  CONFIG_MOUNT_PATH,
  CONFIG_SECRET_KEY,
  CONFIG_SECRET_NAME,
  CREDENTIAL_KEYS_ANNOTATION,
  CREDENTIAL_KEYS_ENV,
  CREDENTIAL_KEYS_SECRET_KEY,
  EXTENSION_NAME_LABEL,
  EXTENSION_NAMESPACE_LABEL,
  GATEWAY_NAME,
  MANAGED_LABELS,
  MCP_API,
  NAME_LABEL,
  ROUTER_PORT,
  SIGNING_KEY_SECRET_KEY,
  SIGNING_KEY_SECRET_NAME,
  TRUSTED_KEY_ANNOTATION,
  TRUSTED_KEY_ENV,
  TRUSTED_KEY_SECRET_KEY,
} from '../names.ts';

/** Options of the objects built per extension. */
export interface GatewayResourceOptions {
  /** Image of the gateway container (broker and ext_proc router in one process). */
  readonly image: string;
  /** Log level when the extension sets none. */
  readonly defaultLogLevel?: string;
  /**
   * Variables added to every gateway container after the ones derived from the extension
   * (`--gateway-env`; the chart's `otel` values become the OTEL_* variables). Default none.
   */
  readonly extraEnv?: readonly GatewayEnvVar[];
  /** The gateways' discovery meta-tools (`--discovery-tools-enabled`, `--discovery-tool-threshold`); default on, no threshold. */
  readonly toolDiscovery?: { readonly enabled: boolean; readonly threshold: number };
}

/** A plain object for server-side apply. */
export type ApplyObject = KubeObject & Record<string, unknown>;

/** The flags the controller owns on the gateway container (user-added flags are kept beside them). */
export const MANAGED_FLAGS = [
  '--mcp-broker-public-address',
  '--mcp-router-address',
  '--mcp-gateway-private-host',
  '--mcp-gateway-public-host',
  '--mcp-gateway-config',
  '--mcp-check-interval',
  '--log-level',
  '--discovery-tools-enabled',
  '--discovery-tool-threshold',
  '--enable-url-elicitation',
] as const;

/** Owner reference to the extension: its namespaced children are garbage-collected with it. */
export function ownerReference(valid: ValidExtension): OwnerReference {
  return {
    apiVersion: MCP_API,
    kind: 'MCPGatewayExtension',
    name: valid.extension.metadata.name,
    uid: valid.extension.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Metadata of a namespaced object the extension owns. */
export function meta(valid: ValidExtension, name: string) {
  return {
    name,
    namespace: valid.extension.metadata.namespace ?? '',
    labels: { ...MANAGED_LABELS },
    ownerReferences: [ownerReference(valid)],
  };
}

/** The gateway container's flags: the managed ones derived from the listener, then user-added ones. */
export function gatewayArgs(valid: ValidExtension, options: GatewayResourceOptions, current?: Deployment): string[] {
  const spec = valid.extension.spec;
  const logLevel = spec.logLevel ?? options.defaultLogLevel;
  const managed = [
    `--mcp-broker-public-address=0.0.0.0:${BROKER_PORT}`,
    `--mcp-router-address=0.0.0.0:${ROUTER_PORT}`,
    `--mcp-gateway-private-host=${valid.privateHost}`,
    `--mcp-gateway-public-host=${valid.publicHost}`,
    `--mcp-gateway-config=${CONFIG_MOUNT_PATH}/${CONFIG_SECRET_KEY}`,
    ...(spec.backendPingIntervalSeconds !== undefined
      ? [`--mcp-check-interval=${spec.backendPingIntervalSeconds}`]
      : []),
    ...(logLevel !== undefined ? [`--log-level=${logLevel}`] : []),
    ...(options.toolDiscovery?.enabled === false ? ['--discovery-tools-enabled=false'] : []),
    ...(options.toolDiscovery !== undefined && options.toolDiscovery.threshold > 0
      ? [`--discovery-tool-threshold=${options.toolDiscovery.threshold}`]
      : []),
    ...(spec.urlElicitation === 'Enabled' ? ['--enable-url-elicitation'] : []),
  ];
  const currentArgs = current?.spec?.template?.spec?.containers?.find((c) => c.name === GATEWAY_NAME)?.args ?? [];
  return [...managed, ...userArgs(currentArgs)];
}

/** Flags a user added to the container (anything not managed), with the values that follow them. */
function userArgs(args: readonly string[]): string[] {
  const kept: string[] = [];
  let skipValue = false;
  for (const arg of args) {
    if (skipValue) {
      skipValue = false;
      if (!arg.startsWith('-')) continue;
    }
    const flag = arg.split('=', 1)[0] ?? arg;
    if ((MANAGED_FLAGS as readonly string[]).includes(flag)) {
      skipValue = !arg.includes('=');
      continue;
    }
    kept.push(arg);
  }
  return kept;
}

function env(valid: ValidExtension, extra: readonly GatewayEnvVar[] = []): Record<string, unknown>[] {
  const spec = valid.extension.spec;
  const vars: Record<string, unknown>[] = [
    {
      name: 'GATEWAY_SIGNING_KEY',
      valueFrom: { secretKeyRef: { name: SIGNING_KEY_SECRET_NAME, key: SIGNING_KEY_SECRET_KEY } },
    },
  ];
  if (spec.trustedHeadersKey !== undefined) {
    vars.push({
      name: TRUSTED_KEY_ENV,
      valueFrom: { secretKeyRef: { name: spec.trustedHeadersKey.secretName, key: TRUSTED_KEY_SECRET_KEY } },
    });
  }
  if (spec.sessionStore !== undefined) {
    vars.push({
      name: 'CACHE_CONNECTION_STRING',
      valueFrom: { secretKeyRef: { name: spec.sessionStore.secretName, key: 'CACHE_CONNECTION_STRING' } },
    });
  }
  if (spec.credentialEncryption !== undefined) {
    vars.push({
      name: CREDENTIAL_KEYS_ENV,
      valueFrom: { secretKeyRef: { name: spec.credentialEncryption.secretName, key: CREDENTIAL_KEYS_SECRET_KEY } },
    });
  }
  const oauth = spec.oauthProtectedResource;
  if (oauth !== undefined) {
    const add = (name: string, value: string | undefined) => {
      if (value !== undefined && value !== '') vars.push({ name, value });
    };
    add('OAUTH_RESOURCE_NAME', oauth.resourceName ?? 'MCP Server');
    add('OAUTH_RESOURCE', oauth.resource ?? `https://${valid.publicHost}/mcp`);
    add('OAUTH_AUTHORIZATION_SERVERS', oauth.authorizationServers?.join(','));
    add('OAUTH_BEARER_METHODS_SUPPORTED', (oauth.bearerMethodsSupported ?? ['header']).join(','));
    add('OAUTH_SCOPES_SUPPORTED', (oauth.scopesSupported ?? ['basic']).join(','));
  }
  for (const { name, value } of extra) vars.push({ name, value });
  return vars;
}

/**
 * The gateway Deployment as the controller applies it (server-side apply: fields other managers
 * own, such as a user's env var, annotation or replica count, are left alone). The config Secret
 * is mounted as a directory so the kubelet's updates reach the running gateway (hot reload).
 * The trusted-header key and the credential keys come by environment variable, which a running
 * container never sees change, so the key's fingerprint and the keys Secret's resourceVersion (not
 * a digest of the keys, which would let a Deployment reader test guesses) are pod template
 * annotations: a new key rolls the pods.
 * @param trustedKeyFingerprint Fingerprint of the checked `spec.trustedHeadersKey` public key.
 */
export function gatewayDeployment(
  valid: ValidExtension,
  options: GatewayResourceOptions,
  current?: Deployment,
  trustedKeyFingerprint?: string,
): ApplyObject {
  const selector = { [NAME_LABEL]: GATEWAY_NAME, [EXTENSION_NAME_LABEL]: valid.extension.metadata.name };
  const keysVersion = valid.credentialKeys?.metadata.resourceVersion;
  const annotations = {
    ...(trustedKeyFingerprint !== undefined ? { [TRUSTED_KEY_ANNOTATION]: trustedKeyFingerprint } : {}),
    ...(keysVersion !== undefined ? { [CREDENTIAL_KEYS_ANNOTATION]: keysVersion } : {}),
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(valid, GATEWAY_NAME),
    spec: {
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: { ...MANAGED_LABELS, ...selector },
          ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
        },
        spec: {
          serviceAccountName: GATEWAY_NAME,
          containers: [
            {
              name: GATEWAY_NAME,
              image: options.image,
              args: gatewayArgs(valid, options, current),
              env: env(valid, options.extraEnv),
              ports: [
                { name: 'http', containerPort: BROKER_PORT, protocol: 'TCP' },
                { name: 'grpc', containerPort: ROUTER_PORT, protocol: 'TCP' },
              ],
              volumeMounts: [
                { name: 'config-volume', mountPath: CONFIG_MOUNT_PATH, readOnly: true },
                // The router writes its protocol definitions to a temp file at start.
                { name: 'tmp', mountPath: '/tmp' },
              ],
              securityContext: {
                runAsNonRoot: true,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              readinessProbe: {
                httpGet: { path: '/readyz', port: 'http' },
                initialDelaySeconds: 5,
                periodSeconds: 10,
                timeoutSeconds: 1,
                failureThreshold: 3,
              },
            },
          ],
          volumes: [
            { name: 'config-volume', secret: { secretName: CONFIG_SECRET_NAME, defaultMode: 0o644 } },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  };
}

export function gatewayService(valid: ValidExtension): ApplyObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(valid, GATEWAY_NAME),
    spec: {
      selector: { [NAME_LABEL]: GATEWAY_NAME, [EXTENSION_NAME_LABEL]: valid.extension.metadata.name },
      ports: [
        { name: 'http', port: BROKER_PORT, targetPort: 'http', protocol: 'TCP' },
        { name: 'grpc', port: ROUTER_PORT, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'grpc' },
      ],
    },
  };
}

export function gatewayServiceAccount(valid: ValidExtension): ApplyObject {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: meta(valid, GATEWAY_NAME),
    automountServiceAccountToken: false,
  };
}

/** Name of the EnvoyFilter for an extension (in the Gateway's namespace). */
export function envoyFilterName(extensionNamespace: string): string {
  return `mcp-ext-proc-${extensionNamespace}-gateway`;
}

/**
 * The Istio EnvoyFilter that puts the gateway's ext_proc router first in the listener's HTTP
 * filter chain: buffered request bodies, fail closed, mode override and route mutations allowed.
 * It lives in the Gateway's namespace, so it has no owner reference; a finalizer removes it.
 */
export function gatewayEnvoyFilter(valid: ValidExtension): ApplyObject {
  const namespace = valid.extension.metadata.namespace ?? '';
  return {
    apiVersion: 'networking.istio.io/v1alpha3',
    kind: 'EnvoyFilter',
    metadata: {
      name: envoyFilterName(namespace),
      namespace: valid.gateway.metadata.namespace ?? '',
      labels: {
        ...MANAGED_LABELS,
        [EXTENSION_NAME_LABEL]: valid.extension.metadata.name,
        [EXTENSION_NAMESPACE_LABEL]: namespace,
        'istio.io/rev': valid.gateway.metadata.labels?.['istio.io/rev'] ?? 'default',
      },
    },
    spec: {
      workloadSelector: { labels: { 'gateway.networking.k8s.io/gateway-name': valid.gateway.metadata.name } },
      configPatches: [
        {
          applyTo: 'HTTP_FILTER',
          match: {
            context: 'GATEWAY',
            listener: {
              portNumber: valid.listener.port,
              filterChain: {
                filter: {
                  name: 'envoy.filters.network.http_connection_manager',
                  subFilter: { name: 'envoy.filters.http.router' },
                },
              },
            },
          },
          patch: {
            operation: 'INSERT_FIRST',
            value: {
              name: 'envoy.filters.http.ext_proc',
              typed_config: {
                '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor',
                failure_mode_allow: false,
                allow_mode_override: true,
                mutation_rules: { allow_all_routing: true },
                message_timeout: '10s',
                // Keep the router's dynamic metadata (method, server, tool) for RBAC, ext_authz and access logs.
                metadata_options: { receiving_namespaces: { untyped: ['mcp-gateway'] } },
                processing_mode: {
                  request_header_mode: 'SEND',
                  response_header_mode: 'SEND',
                  request_body_mode: 'BUFFERED',
                  response_body_mode: 'NONE',
                  request_trailer_mode: 'SKIP',
                  response_trailer_mode: 'SKIP',
                },
                grpc_service: {
                  envoy_grpc: {
                    cluster_name: `outbound|${ROUTER_PORT}||${GATEWAY_NAME}.${namespace}.svc.cluster.local`,
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
}

/** The config Secret (no owner reference: it outlives the extension, emptied rather than deleted). */
export function configSecret(namespace: string, configYaml: string): ApplyObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: CONFIG_SECRET_NAME,
      namespace,
      labels: { app: GATEWAY_NAME, 'mcp.kuadrant.io/aggregated': 'true', 'mcp.kuadrant.io/secret': 'true' },
    },
    type: 'Opaque',
    stringData: { [CONFIG_SECRET_KEY]: configYaml },
  };
}

/** The session signing key Secret, created once with a fresh random key (hex of 32 bytes). */
export function signingKeySecret(valid: ValidExtension, keyHex: string): ApplyObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      ...meta(valid, SIGNING_KEY_SECRET_NAME),
      labels: { ...MANAGED_LABELS, 'mcp.kuadrant.io/secret': 'true' },
    },
    type: 'Opaque',
    stringData: { [SIGNING_KEY_SECRET_KEY]: keyHex },
  };
}
