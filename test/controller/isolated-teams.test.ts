// Seed 000 ("Isolated MCP Gateway Deployment") against a real API server: two teams, each with
// its own Gateway listener, MCPGatewayExtension and config; then the troubleshooting cases.
import { objectPath, type KubeObject } from '@mcp-gateway/controller';
import { AppsV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configServers,
  extension,
  extensionGrant,
  gateway,
  httpRoute,
  markDeploymentReady,
  ns,
  readyOf,
  registration,
  service,
  startTestCluster,
  TEST_IMAGE,
  waitConfigNames,
  waitFor,
  waitReason,
  type TestCluster,
} from './cluster.ts';

let cluster: TestCluster;
const all = { namespaces: { from: 'All' } };

beforeAll(async () => {
  cluster = await startTestCluster();
  cluster.startReplica();
  await cluster.apply(
    ns('gateway-system'),
    ns('team-alpha'),
    ns('team-beta'),
    gateway('gateway-system', 'mcp-gateway', [
      { name: 'http', port: 8080, protocol: 'HTTP', hostname: '*.example.com', allowedRoutes: all },
    ]),
    // The seed's second Gateway, with routes admitted from every namespace.
    gateway('gateway-system', 'team-beta-gateway', [
      { name: 'http', port: 8080, protocol: 'HTTP', hostname: '*.team-beta.example.com', allowedRoutes: all },
    ]),
    extensionGrant('gateway-system', 'team-alpha'),
    extensionGrant('gateway-system', 'team-beta'),
    extension(
      'team-alpha',
      'mcp-gateway',
      { name: 'mcp-gateway', namespace: 'gateway-system', sectionName: 'http' },
      {
        publicHost: 'team-alpha.mcp.example.com',
      },
    ),
    extension(
      'team-beta',
      'mcp-gateway',
      { name: 'team-beta-gateway', namespace: 'gateway-system', sectionName: 'http' },
      {
        publicHost: 'mcp.team-beta.example.com',
      },
    ),
    service('team-alpha', 'alpha-server', 9090),
    service('team-beta', 'beta-server', 9090),
    httpRoute(
      'team-alpha',
      'alpha-server-route',
      { name: 'mcp-gateway', namespace: 'gateway-system' },
      { name: 'alpha-server', port: 9090 },
      ['alpha.example.com'],
    ),
    httpRoute(
      'team-beta',
      'beta-server-route',
      { name: 'team-beta-gateway', namespace: 'gateway-system' },
      { name: 'beta-server', port: 9090 },
      ['beta.team-beta.example.com'],
    ),
    // As in the seed: the older spelling toolPrefix.
    registration('team-alpha', 'team-alpha-server', 'alpha-server-route', { toolPrefix: 'alpha_' }),
    registration('team-beta', 'team-beta-server', 'beta-server-route', { toolPrefix: 'beta_' }),
  );
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('seed 000: isolated gateways per team', () => {
  it('waits for the gateway Deployment, then reports the extensions Ready', async () => {
    await waitReason(cluster.api, 'MCPGatewayExtension', 'team-alpha', 'mcp-gateway', 'DeploymentNotReady');
    await markDeploymentReady(cluster.api, 'team-alpha');
    await markDeploymentReady(cluster.api, 'team-beta');
    const alpha = await waitReason(
      cluster.api,
      'MCPGatewayExtension',
      'team-alpha',
      'mcp-gateway',
      'ValidMCPGatewayExtension',
    );
    expect(alpha).toMatchObject({ status: 'True', observedGeneration: 1 });
    await waitReason(cluster.api, 'MCPGatewayExtension', 'team-beta', 'mcp-gateway', 'ValidMCPGatewayExtension');
  });

  it('writes each registration only into its own team’s config Secret and reports it Ready', async () => {
    await waitConfigNames(cluster.api, 'team-alpha', ['team-alpha/team-alpha-server']);
    await waitConfigNames(cluster.api, 'team-beta', ['team-beta/team-beta-server']);
    const [alpha] = (await configServers(cluster.api, 'team-alpha')) ?? [];
    expect(alpha).toMatchObject({
      url: 'http://alpha-server.team-alpha.svc.cluster.local:9090/mcp',
      hostname: 'alpha.example.com',
      prefix: 'alpha_',
      enabled: true,
    });
    await waitReason(cluster.api, 'MCPServerRegistration', 'team-alpha', 'team-alpha-server', 'Ready');
    expect(await readyOf(cluster.api, 'MCPServerRegistration', 'team-beta', 'team-beta-server')).toMatchObject({
      status: 'True',
    });
  });

  it('creates the gateway Deployment, Service, ServiceAccount, HTTPRoute and EnvoyFilter', async () => {
    type Deployment = KubeObject & {
      spec: {
        template: {
          spec: {
            containers: Array<{ image: string; args: string[]; env: Array<{ name: string }> }>;
            volumes: unknown[];
          };
        };
      };
    };
    const deployment = await cluster.api.get<Deployment>(
      objectPath('apps/v1', 'Deployment', 'team-alpha', 'mcp-gateway'),
    );
    const container = deployment?.spec.template.spec.containers[0];
    expect(container?.image).toBe(TEST_IMAGE);
    expect(container?.args).toEqual(
      expect.arrayContaining([
        '--mcp-router-address=0.0.0.0:50051',
        '--mcp-gateway-public-host=team-alpha.mcp.example.com',
        '--mcp-gateway-private-host=mcp-gateway-istio.gateway-system.svc.cluster.local:8080',
        '--mcp-gateway-config=/config/config.yaml',
      ]),
    );
    expect(container?.env.map((e) => e.name)).toContain('GATEWAY_SIGNING_KEY');
    expect(deployment?.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'MCPGatewayExtension',
      name: 'mcp-gateway',
      controller: true,
    });

    const svc = await cluster.api.get<KubeObject & { spec: { ports: Array<{ name: string; port: number }> } }>(
      objectPath('v1', 'Service', 'team-alpha', 'mcp-gateway'),
    );
    expect(svc?.spec.ports.map((p) => [p.name, p.port])).toEqual([
      ['http', 8080],
      ['grpc', 50051],
    ]);
    const account = await cluster.api.get<KubeObject & { automountServiceAccountToken?: boolean }>(
      objectPath('v1', 'ServiceAccount', 'team-alpha', 'mcp-gateway'),
    );
    expect(account?.automountServiceAccountToken).toBe(false);
    const route = await cluster.api.get<KubeObject & { spec: { hostnames: string[] } }>(
      objectPath('gateway.networking.k8s.io/v1', 'HTTPRoute', 'team-alpha', 'mcp-gateway-route'),
    );
    expect(route?.spec.hostnames).toEqual(['team-alpha.mcp.example.com']);
    const filter = await waitFor(
      'the EnvoyFilter',
      () =>
        cluster.api.get<
          KubeObject & { spec: { configPatches: Array<{ match: { listener: { portNumber: number } } }> } }
        >(
          objectPath(
            'networking.istio.io/v1alpha3',
            'EnvoyFilter',
            'gateway-system',
            'mcp-ext-proc-team-alpha-gateway',
          ),
        ),
      (f) => f !== undefined,
    );
    expect(filter?.spec.configPatches[0]?.match.listener.portNumber).toBe(8080);
    expect(filter?.metadata.labels).toMatchObject({ 'mcp.kuadrant.io/extension-namespace': 'team-alpha' });
  });

  it('generates the session signing key once and keeps it across reconciles', async () => {
    const read = () =>
      cluster.api.get<KubeObject & { data?: Record<string, string> }>(
        objectPath('v1', 'Secret', 'team-alpha', 'mcp-gateway-session-signing-key'),
      );
    const first = await read();
    const key = Buffer.from(first?.data?.key ?? '', 'base64').toString('utf8');
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    // Any change to the extension makes the controller reconcile it again.
    await cluster.api.mergePatch(objectPath('mcp.kuadrant.io/v1', 'MCPGatewayExtension', 'team-alpha', 'mcp-gateway'), {
      spec: { backendPingIntervalSeconds: 30 },
    });
    await waitFor(
      'the new check interval on the Deployment',
      () =>
        cluster.api.get<KubeObject & { spec: { template: { spec: { containers: Array<{ args: string[] }> } } } }>(
          objectPath('apps/v1', 'Deployment', 'team-alpha', 'mcp-gateway'),
        ),
      (d) => d?.spec.template.spec.containers[0]?.args.includes('--mcp-check-interval=30') ?? false,
    );
    expect((await read())?.data?.key).toBe(first?.data?.key);
  });

  it('keeps a user’s env var, annotation and flag on the Deployment through reconciles', async () => {
    const apps = cluster.kubeConfig.makeApiClient(AppsV1Api);
    const path = objectPath('apps/v1', 'Deployment', 'team-alpha', 'mcp-gateway');
    const current = await cluster.api.get<
      KubeObject & { spec: { template: { spec: { containers: Array<{ args: string[] }> } } } }
    >(path);
    await apps.patchNamespacedDeployment(
      {
        name: 'mcp-gateway',
        namespace: 'team-alpha',
        fieldManager: 'kubectl-edit',
        body: {
          metadata: { annotations: { 'example.com/owner': 'team-alpha' } },
          spec: {
            template: {
              spec: {
                containers: [
                  {
                    name: 'mcp-gateway',
                    env: [{ name: 'OTEL_SERVICE_NAME', value: 'alpha-gateway' }],
                    args: [...(current?.spec.template.spec.containers[0]?.args ?? []), '--upstream-timeout=60'],
                  },
                ],
              },
            },
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    // Reconcile again by changing the extension.
    await cluster.api.mergePatch(objectPath('mcp.kuadrant.io/v1', 'MCPGatewayExtension', 'team-alpha', 'mcp-gateway'), {
      spec: { backendPingIntervalSeconds: 45 },
    });
    const after = await waitFor(
      'the reconciled Deployment',
      () =>
        cluster.api.get<
          KubeObject & {
            spec: {
              template: {
                spec: { containers: Array<{ args: string[]; env: Array<{ name: string; value?: string }> }> };
              };
            };
          }
        >(path),
      (d) => d?.spec.template.spec.containers[0]?.args.includes('--mcp-check-interval=45') ?? false,
    );
    const container = after?.spec.template.spec.containers[0];
    expect(after?.metadata.annotations?.['example.com/owner']).toBe('team-alpha');
    expect(container?.env).toContainEqual({ name: 'OTEL_SERVICE_NAME', value: 'alpha-gateway' });
    expect(container?.args).toContain('--upstream-timeout=60');
    expect(container?.args.filter((a) => a.startsWith('--mcp-check-interval'))).toEqual(['--mcp-check-interval=45']);
  });
  it('marks the Gateway listener in use once the Gateway implementation reports the listener', async () => {
    // Play Istio: report the listener's status, as a Gateway implementation does.
    const gatewayPath = objectPath('gateway.networking.k8s.io/v1', 'Gateway', 'gateway-system', 'team-beta-gateway');
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await cluster.api.mergePatch(`${gatewayPath}/status`, {
      status: {
        listeners: [
          {
            name: 'http',
            attachedRoutes: 1,
            supportedKinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }],
            conditions: [
              { type: 'Accepted', status: 'True', reason: 'Accepted', message: '', lastTransitionTime: now },
            ],
          },
        ],
      },
    });
    type Listeners = KubeObject & {
      status?: {
        listeners?: Array<{ name: string; conditions: Array<{ type: string; reason: string; message: string }> }>;
      };
    };
    const gw = await waitFor(
      'the MCPGatewayExtension listener condition',
      () => cluster.api.get<Listeners>(gatewayPath),
      (g) => g?.status?.listeners?.[0]?.conditions.some((c) => c.type === 'MCPGatewayExtension') ?? false,
    );
    const conditions = gw?.status?.listeners?.[0]?.conditions ?? [];
    expect(conditions.map((c) => c.type).sort()).toEqual(['Accepted', 'MCPGatewayExtension']);
    expect(conditions.find((c) => c.type === 'MCPGatewayExtension')).toMatchObject({
      reason: 'Programmed',
      message:
        'listener in use by MCP Gateway: team-beta/mcp-gateway EnvoyFilter: gateway-system/mcp-ext-proc-team-beta-gateway',
    });
  });
});

describe('seed 000 troubleshooting', () => {
  it('reports ReferenceGrantRequired until the grant exists, then Ready', async () => {
    await cluster.apply(
      ns('team-gamma'),
      gateway('gateway-system', 'gamma-gateway', [
        { name: 'http', port: 8080, protocol: 'HTTP', hostname: '*.gamma.example.com', allowedRoutes: all },
      ]),
      extension('team-gamma', 'mcp-gateway', {
        name: 'gamma-gateway',
        namespace: 'gateway-system',
        sectionName: 'http',
      }),
    );
    const condition = await waitReason(
      cluster.api,
      'MCPGatewayExtension',
      'team-gamma',
      'mcp-gateway',
      'ReferenceGrantRequired',
    );
    expect(condition).toMatchObject({
      status: 'False',
      message: 'ReferenceGrant required in namespace gateway-system to allow cross-namespace reference',
    });
    await cluster.apply(extensionGrant('gateway-system', 'team-gamma'));
    await waitReason(cluster.api, 'MCPGatewayExtension', 'team-gamma', 'mcp-gateway', 'DeploymentNotReady');
    await markDeploymentReady(cluster.api, 'team-gamma');
    await waitReason(cluster.api, 'MCPGatewayExtension', 'team-gamma', 'mcp-gateway', 'ValidMCPGatewayExtension');
  });

  it('reports InvalidMCPGatewayExtension naming the older extension on the same listener', async () => {
    await cluster.apply(
      ns('team-delta'),
      extensionGrant('gateway-system', 'team-delta'),
      extension('team-delta', 'mcp-gateway', { name: 'mcp-gateway', namespace: 'gateway-system', sectionName: 'http' }),
    );
    const condition = await waitReason(
      cluster.api,
      'MCPGatewayExtension',
      'team-delta',
      'mcp-gateway',
      'InvalidMCPGatewayExtension',
    );
    expect(condition?.message).toBe(
      'port 8080 of Gateway gateway-system/mcp-gateway is already served by MCPGatewayExtension team-alpha/mcp-gateway, which is older',
    );
    expect(await configServers(cluster.api, 'team-delta')).toBeUndefined();
  });

  it('reports a listener whose allowedRoutes refuse the namespace (the seed’s Gateway as written)', async () => {
    await cluster.apply(
      ns('team-epsilon'),
      // allowedRoutes left out, as in the seed: Gateway API defaults it to Same.
      gateway('gateway-system', 'epsilon-gateway', [
        { name: 'http', port: 8080, protocol: 'HTTP', hostname: '*.epsilon.example.com' },
      ]),
      extensionGrant('gateway-system', 'team-epsilon'),
      extension('team-epsilon', 'mcp-gateway', {
        name: 'epsilon-gateway',
        namespace: 'gateway-system',
        sectionName: 'http',
      }),
    );
    const condition = await waitReason(
      cluster.api,
      'MCPGatewayExtension',
      'team-epsilon',
      'mcp-gateway',
      'InvalidMCPGatewayExtension',
    );
    expect(condition?.message).toContain('does not allow routes from namespace team-epsilon');
  });

  it('reports a registration NotReady when no valid extension serves its route’s Gateway', async () => {
    await cluster.apply(
      service('team-epsilon', 'eps-server', 9090),
      httpRoute(
        'team-epsilon',
        'eps-route',
        { name: 'epsilon-gateway', namespace: 'gateway-system' },
        { name: 'eps-server', port: 9090 },
        ['eps.epsilon.example.com'],
      ),
      registration('team-epsilon', 'eps', 'eps-route', { prefix: 'eps_' }),
    );
    const condition = await waitReason(cluster.api, 'MCPServerRegistration', 'team-epsilon', 'eps', 'NotReady');
    expect(condition?.message).toContain('no valid MCPGatewayExtension');
  });

  it('removes the EnvoyFilter through the finalizer and empties the config when an extension is deleted', async () => {
    const filterPath = objectPath(
      'networking.istio.io/v1alpha3',
      'EnvoyFilter',
      'gateway-system',
      'mcp-ext-proc-team-gamma-gateway',
    );
    await waitFor(
      'the gamma EnvoyFilter',
      () => cluster.api.get(filterPath),
      (f) => f !== undefined,
    );
    const extensionPath = objectPath('mcp.kuadrant.io/v1', 'MCPGatewayExtension', 'team-gamma', 'mcp-gateway');
    expect((await cluster.api.get(extensionPath))?.metadata.finalizers).toContain('mcp.kuadrant.io/finalizer');
    await cluster.api.delete(extensionPath);
    await waitFor(
      'the extension to be gone',
      () => cluster.api.get(extensionPath),
      (e) => e === undefined,
    );
    expect(await cluster.api.get(filterPath)).toBeUndefined();
    expect(await configServers(cluster.api, 'team-gamma')).toEqual([]);
  });
});
