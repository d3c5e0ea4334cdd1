// Helpers of the controller suites: a real API server with our CRDs, in-process controller
// replicas, and small waits and readers over the objects the controller writes.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { NOOP_LOGGER, parseConfig, type ServerConfig } from '@mcp-gateway/core';
import {
  createKubeApi,
  objectPath,
  runController,
  type KubeApi,
  type KubeObject,
  type RunControllerOptions,
  type RunningController,
} from '@mcp-gateway/controller';
import { REPO_ROOT } from '../harness/index.ts';
import { startKubeApiServer, type KubeApiServer } from '../harness/kube.ts';

/** Our CRD files (infra/crds/mcp.kuadrant.io_*.yaml). */
export const MCP_CRD_FILES = readdirSync(join(REPO_ROOT, 'infra', 'crds'))
  .filter((name) => name.startsWith('mcp.kuadrant.io_') && name.endsWith('.yaml'))
  .map((name) => join(REPO_ROOT, 'infra', 'crds', name));

/** The gateway image the tests' controllers put in Deployments. */
export const TEST_IMAGE = 'example.test/mcp-gateway:test';

/** A real API server with our CRDs, a client for it, and controller replicas started on it. */
export interface TestCluster {
  readonly server: KubeApiServer;
  readonly kubeConfig: KubeConfig;
  readonly api: KubeApi;
  /** Starts a controller replica (leader election on a Lease in `default`, short timings). */
  startReplica(identity?: string, options?: Pick<RunControllerOptions, 'config' | 'gatewayStatus'>): RunningController;
  /** Creates or updates objects (server-side apply as the test's own field manager). */
  apply(...objects: Array<KubeObject & Record<string, unknown>>): Promise<void>;
  stop(): Promise<void>;
}

let replicaCount = 0;

export async function startTestCluster(): Promise<TestCluster> {
  const server = await startKubeApiServer({ crdFiles: MCP_CRD_FILES });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(server.kubeconfig);
  const api = createKubeApi(kubeConfig);
  const replicas: RunningController[] = [];
  const userApi = createKubeApi(kubeConfig, 'test-user');
  return {
    server,
    kubeConfig,
    api,
    startReplica(identity = `replica-${++replicaCount}`, options = {}) {
      const replica = runController({
        kubeConfig,
        logger: NOOP_LOGGER,
        resources: { image: TEST_IMAGE },
        leaseNamespace: 'default',
        identity,
        leaseDurationMs: 3_000,
        renewDeadlineMs: 2_000,
        retryPeriodMs: 500,
        ...options,
      });
      replicas.push(replica);
      return replica;
    },
    async apply(...objects) {
      for (const object of objects) await userApi.apply(object);
    },
    async stop() {
      await Promise.all(replicas.map((r) => r.stop()));
      await server.stop();
    },
  };
}

/** Polls `read` until `check` accepts its value; fails with the last value seen. */
export async function waitFor<T>(
  what: string,
  read: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (check(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface Conditioned extends KubeObject {
  status?: {
    conditions?: Array<{
      type: string;
      status: string;
      reason: string;
      message: string;
      observedGeneration?: number;
      lastTransitionTime: string;
    }>;
  };
}

/** The Ready condition of an MCP object (extension or registration). */
export async function readyOf(
  api: KubeApi,
  kind: 'MCPGatewayExtension' | 'MCPServerRegistration' | 'MCPVirtualServer',
  namespace: string,
  name: string,
) {
  const object = await api.get<Conditioned>(objectPath('mcp.kuadrant.io/v1', kind, namespace, name));
  return object?.status?.conditions?.find((c) => c.type === 'Ready');
}

/** Waits until the object's Ready condition has `reason`, and returns it. */
export function waitReason(
  api: KubeApi,
  kind: 'MCPGatewayExtension' | 'MCPServerRegistration' | 'MCPVirtualServer',
  namespace: string,
  name: string,
  reason: string,
  timeoutMs?: number,
) {
  return waitFor(
    `${kind} ${namespace}/${name} reason ${reason}`,
    () => readyOf(api, kind, namespace, name),
    (c) => c?.reason === reason,
    timeoutMs,
  );
}

/** One key of a Secret, decoded; undefined when the Secret or the key is missing. */
export async function secretText(
  api: KubeApi,
  namespace: string,
  name: string,
  key: string,
): Promise<string | undefined> {
  const secret = await api.get<KubeObject & { data?: Record<string, string> }>(
    objectPath('v1', 'Secret', namespace, name),
  );
  const encoded = secret?.data?.[key];
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
}

/** The text of a namespace's config file (`config.yaml` of Secret mcp-gateway-config). */
export function configText(api: KubeApi, namespace: string): Promise<string | undefined> {
  return secretText(api, namespace, 'mcp-gateway-config', 'config.yaml');
}

/** The servers of a namespace's config Secret, parsed with the gateway's own config parser. */
export async function configServers(api: KubeApi, namespace: string): Promise<ServerConfig[] | undefined> {
  const secret = await api.get<KubeObject & { data?: Record<string, string> }>(
    objectPath('v1', 'Secret', namespace, 'mcp-gateway-config'),
  );
  const encoded = secret?.data?.['config.yaml'];
  if (encoded === undefined) return undefined;
  const parsed = parseConfig(Buffer.from(encoded, 'base64').toString('utf8'), `${namespace}/mcp-gateway-config`);
  if (!parsed.ok) throw parsed.error;
  return [...parsed.config.servers];
}

/** Waits until the namespace's config holds exactly these server names. */
export function waitConfigNames(api: KubeApi, namespace: string, names: string[], timeoutMs?: number) {
  const sorted = [...names].sort();
  return waitFor(
    `config of ${namespace} to hold ${sorted.join(', ') || 'no servers'}`,
    async () => (await configServers(api, namespace))?.map((s) => s.name).sort(),
    (seen) => JSON.stringify(seen) === JSON.stringify(sorted),
    timeoutMs,
  );
}

/** Plays the kubelet and Deployment controller (there are none): marks the gateway Deployment ready. */
export async function markDeploymentReady(api: KubeApi, namespace: string): Promise<void> {
  await waitFor(
    'the gateway Deployment',
    () => api.get(objectPath('apps/v1', 'Deployment', namespace, 'mcp-gateway')),
    (d) => d !== undefined,
  );
  await api.mergePatch(`${objectPath('apps/v1', 'Deployment', namespace, 'mcp-gateway')}/status`, {
    status: { replicas: 1, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 1 },
  });
}

export const ns = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});

export function gateway(namespace: string, name: string, listeners: Array<Record<string, unknown>>) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { namespace, name },
    spec: { gatewayClassName: 'istio', listeners },
  };
}

export function extensionGrant(gatewayNamespace: string, namespace: string) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1beta1',
    kind: 'ReferenceGrant',
    metadata: { name: `allow-${namespace}`, namespace: gatewayNamespace },
    spec: {
      from: [{ group: 'mcp.kuadrant.io', kind: 'MCPGatewayExtension', namespace }],
      to: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway' }],
    },
  };
}

export function extension(
  namespace: string,
  name: string,
  targetRef: Record<string, unknown>,
  spec: Record<string, unknown> = {},
) {
  return {
    apiVersion: 'mcp.kuadrant.io/v1',
    kind: 'MCPGatewayExtension',
    metadata: { namespace, name },
    spec: { targetRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', ...targetRef }, ...spec },
  };
}

export function service(namespace: string, name: string, port: number) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace, name },
    spec: { ports: [{ name: 'http', port, targetPort: port }], selector: { app: name } },
  };
}

export function httpRoute(
  namespace: string,
  name: string,
  parentRef: Record<string, unknown>,
  backendRef: Record<string, unknown>,
  hostnames: string[],
) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { namespace, name },
    spec: { parentRefs: [parentRef], hostnames, rules: [{ backendRefs: [backendRef] }] },
  };
}

export function registration(namespace: string, name: string, routeName: string, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'mcp.kuadrant.io/v1',
    kind: 'MCPServerRegistration',
    metadata: { namespace, name },
    spec: { targetRef: { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: routeName }, ...spec },
  };
}

/**
 * The Gateway `mcp-gateway` in mcp-system with one HTTP listener `http` on *.mcp.local admitting
 * routes from every namespace, and the extension that targets it (the suites' common base).
 */
export function sharedGatewayAndExtension() {
  return [
    gateway('mcp-system', 'mcp-gateway', [
      {
        name: 'http',
        port: 8080,
        protocol: 'HTTP',
        hostname: '*.mcp.local',
        allowedRoutes: { namespaces: { from: 'All' } },
      },
    ]),
    extension('mcp-system', 'mcp-gateway', { name: 'mcp-gateway', sectionName: 'http' }),
  ];
}
