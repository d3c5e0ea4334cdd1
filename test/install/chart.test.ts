// The Helm chart rendered by the real helm (helm template), and every object it renders
// created in a real kube-apiserver that has the chart's own CRDs installed.
import { AuthorizationV1Api, KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderChart } from '../harness/helm.ts';
import { startKubeApiServer, type KubeApiServer } from '../harness/kube.ts';
import { CHART_CRD_DIR, CHART_DIR, CRD_FILE_NAMES } from './install-files.ts';

/** A rendered object, loosely typed: the assertions below say what they expect of its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered YAML, checked by the assertions
type Manifest = KubernetesObject & { spec?: any; rules?: any[]; roleRef?: any; subjects?: any[] };

interface Install {
  releaseName: string;
  namespace: string;
  values: object;
}

/** The helm commands of the seed walkthroughs, as releases and values. */
const SEED_INSTALLS = {
  /** Seed 002: controller and an extension for an existing Gateway, in one release. */
  quickInstall: {
    releaseName: 'mcp-gateway',
    namespace: 'mcp-system',
    values: {
      controller: { enabled: true },
      gateway: { publicHost: 'your-hostname.example.com' },
      mcpGatewayExtension: { create: true, gatewayRef: { name: 'your-gateway', namespace: 'gateway-system' } },
    },
  },
  /** Seed 000, step 1: the controller alone, once per cluster. */
  controllerOnly: {
    releaseName: 'mcp-controller',
    namespace: 'mcp-system',
    values: { envoyFilter: { create: false }, mcpGatewayExtension: { create: false } },
  },
  /** Seed 000, step 3: team alpha's extension and EnvoyFilter. */
  teamAlpha: {
    releaseName: 'mcp-gateway',
    namespace: 'team-alpha',
    values: {
      envoyFilter: { create: true, namespace: 'istio-system' },
      gateway: { publicHost: 'team-alpha.mcp.example.com' },
      mcpGatewayExtension: { gatewayRef: { name: 'mcp-gateway', namespace: 'gateway-system' } },
    },
  },
  /** Seed 000, multiple teams: team beta on its own Gateway. */
  teamBeta: {
    releaseName: 'mcp-gateway',
    namespace: 'team-beta',
    values: {
      controller: { enabled: false },
      envoyFilter: { create: true, namespace: 'istio-system' },
      gateway: { publicHost: 'mcp.team-beta.example.com' },
      mcpGatewayExtension: {
        gatewayRef: { name: 'team-beta-gateway', namespace: 'gateway-system', sectionName: 'http' },
      },
    },
  },
} satisfies Record<string, Install>;

/** An extension with identity and policy settings (token verification, policy, audit, enforcement). */
const ACCESS_INSTALL: Install = {
  releaseName: 'mcp',
  namespace: 'team-gamma',
  values: {
    controller: { enabled: false },
    mcpGatewayExtension: {
      name: 'gamma',
      gatewayRef: { name: 'gw', namespace: 'team-gamma', sectionName: 'https' },
      trustedHeadersKey: { secretName: 'trusted', generate: 'Enabled' },
      enforceCapabilityFiltering: true,
      oauthProtectedResource: { authorizationServers: ['https://auth.example.com/realms/mcp'] },
      tokenVerification: {
        enabled: true,
        audience: 'https://mcp.example.com/mcp',
        requiredScopes: ['mcp:tools'],
      },
      policy: {
        default: 'deny',
        rules: [
          { name: 'readers', effect: 'allow', servers: ['team-gamma/*'], tools: ['get_*'], when: 'auth.verified' },
          { name: 'no-delete', effect: 'deny', tools: ['delete_*'] },
        ],
      },
      audit: { arguments: 'values' },
    },
  },
};

async function render(install: Install): Promise<Manifest[]> {
  const { manifests } = await renderChart(CHART_DIR, install);
  return manifests as Manifest[];
}

function ofKind(manifests: Manifest[], kind: string): Manifest[] {
  return manifests.filter((manifest) => manifest.kind === kind);
}

function one(manifests: Manifest[], kind: string): Manifest {
  const found = ofKind(manifests, kind);
  expect(found, `exactly one ${kind}`).toHaveLength(1);
  return found[0]!;
}

function kinds(manifests: Manifest[]): string[] {
  return manifests.map((manifest) => manifest.kind!).sort();
}

const CONTROLLER_KINDS = ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Role', 'RoleBinding', 'ServiceAccount'];

describe('rendering', () => {
  it('renders the controller and an extension with its ReferenceGrant by default, and no EnvoyFilter', async () => {
    const manifests = await render({ releaseName: 'mcp-gateway', namespace: 'mcp-system', values: {} });
    expect(kinds(manifests)).toEqual([...CONTROLLER_KINDS, 'MCPGatewayExtension', 'ReferenceGrant'].sort());
    for (const manifest of manifests.filter((m) => !m.kind!.startsWith('Cluster') && m.kind !== 'ReferenceGrant')) {
      expect(manifest.metadata?.namespace, `${manifest.kind} namespace`).toBe('mcp-system');
    }
  });

  it('runs the controller as non-root on a read-only root filesystem with health probes', async () => {
    const deployment = one(await render(SEED_INSTALLS.quickInstall), 'Deployment');
    const pod = deployment.spec.template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const [container] = pod.containers;
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(container.resources).toEqual({
      requests: { cpu: '50m', memory: '64Mi' },
      limits: { cpu: '500m', memory: '256Mi' },
    });
    expect(pod.serviceAccountName).toBe('mcp-gateway-controller');
  });

  it('passes the gateway image (tag defaulting to the chart version), log levels and health port as flags', async () => {
    const container = (manifests: Manifest[]) => one(manifests, 'Deployment').spec.template.spec.containers[0];
    const defaults = container(await render(SEED_INSTALLS.quickInstall));
    expect(defaults.image).toBe('ghcr.io/mcp-gateway/mcp-gateway-controller:0.1.0');
    expect(defaults.args).toEqual([
      '--log-level=info',
      '--health-address=0.0.0.0:8081',
      '--gateway-image=ghcr.io/mcp-gateway/mcp-gateway:0.1.0',
    ]);
    expect(defaults.env.map((e: { name: string }) => e.name)).toEqual(['POD_NAMESPACE', 'POD_NAME']);
    expect(defaults.ports).toEqual([{ name: 'health', containerPort: 8081, protocol: 'TCP' }]);

    const customRender = await render({
      ...SEED_INSTALLS.quickInstall,
      values: {
        image: { repository: 'registry.example.com/mcp-gateway', tag: 'dev' },
        imageController: { repository: 'registry.example.com/mcp-controller', tag: 'dev', pullPolicy: 'Never' },
        controller: {
          replicas: 2,
          logLevel: 'debug',
          gatewayLogLevel: 'warn',
          healthPort: 9000,
          gatewayStatusInterval: '10s',
          extraArgs: ['--no-leader-elect'],
          extraEnv: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=192' }],
        },
        broker: { discoveryToolsEnabled: false, discoveryToolThreshold: 50, confirmationTimeoutSeconds: 300 },
      },
    });
    const custom = container(customRender);
    expect(custom).toMatchObject({ image: 'registry.example.com/mcp-controller:dev', imagePullPolicy: 'Never' });
    expect(custom.args).toEqual([
      '--log-level=debug',
      '--health-address=0.0.0.0:9000',
      '--gateway-image=registry.example.com/mcp-gateway:dev',
      '--gateway-log-level=warn',
      '--gateway-discovery-tools-enabled=false',
      '--gateway-discovery-tool-threshold=50',
      '--gateway-confirmation-timeout=300',
      '--gateway-status-interval=10s',
      '--no-leader-elect',
    ]);
    expect(custom.env).toContainEqual({ name: 'NODE_OPTIONS', value: '--max-old-space-size=192' });
    expect(custom.ports[0].containerPort).toBe(9000);
    expect(one(customRender, 'Deployment').spec.replicas).toBe(2);
  });

  it('drops the controller and its RBAC when controller.enabled is false', async () => {
    const manifests = await render(SEED_INSTALLS.teamBeta);
    expect(kinds(manifests)).toEqual(['EnvoyFilter', 'MCPGatewayExtension', 'ReferenceGrant']);
  });

  it('renders only the controller for seed 000 step 1', async () => {
    expect(kinds(await render(SEED_INSTALLS.controllerOnly))).toEqual(CONTROLLER_KINDS);
  });

  it('renders the MCPGatewayExtension of seed 002 for the given Gateway and public host', async () => {
    const ext = one(await render(SEED_INSTALLS.quickInstall), 'MCPGatewayExtension');
    expect(ext.apiVersion).toBe('mcp.kuadrant.io/v1');
    expect(ext.metadata).toMatchObject({ name: 'mcp-gateway', namespace: 'mcp-system' });
    expect(ext.spec).toEqual({
      targetRef: {
        group: 'gateway.networking.k8s.io',
        kind: 'Gateway',
        name: 'your-gateway',
        namespace: 'gateway-system',
        sectionName: 'mcp',
      },
      publicHost: 'your-hostname.example.com',
    });
  });

  it('passes the optional extension settings through', async () => {
    const ext = one(
      await render({
        releaseName: 'mcp',
        namespace: 'team-gamma',
        values: {
          mcpGatewayExtension: {
            name: 'gamma',
            gatewayRef: { name: 'gw', namespace: 'team-gamma', sectionName: 'https' },
            privateHost: 'https://gw-istio.team-gamma.svc.cluster.local:443',
            backendPingIntervalSeconds: 30,
            httpRouteManagement: 'Disabled',
            logLevel: 'debug',
            sessionStore: { secretName: 'redis' },
            trustedHeadersKey: { secretName: 'trusted', generate: 'Enabled' },
            urlElicitation: 'Enabled',
            credentialEncryption: { secretName: 'credential-keys' },
            userCredentials: {
              login: {
                issuer: 'https://idp.example.com/realms/mcp',
                clientId: 'mcp-gateway-web',
                clientSecretRef: { name: 'login-client', key: 'secret' },
                scopes: ['openid', 'profile'],
              },
              pastedTokenTtlSeconds: 3600,
            },
          },
        },
      }),
      'MCPGatewayExtension',
    );
    expect(ext.metadata?.name).toBe('gamma');
    expect(ext.spec).toMatchObject({
      targetRef: { name: 'gw', namespace: 'team-gamma', sectionName: 'https' },
      privateHost: 'https://gw-istio.team-gamma.svc.cluster.local:443',
      backendPingIntervalSeconds: 30,
      httpRouteManagement: 'Disabled',
      logLevel: 'debug',
      sessionStore: { secretName: 'redis' },
      trustedHeadersKey: { secretName: 'trusted', generate: 'Enabled' },
      urlElicitation: 'Enabled',
      credentialEncryption: { secretName: 'credential-keys' },
    });
    expect(ext.spec.userCredentials).toEqual({
      login: {
        issuer: 'https://idp.example.com/realms/mcp',
        clientId: 'mcp-gateway-web',
        clientSecretRef: { name: 'login-client', key: 'secret' },
        scopes: ['openid', 'profile'],
      },
      pastedTokenTtlSeconds: 3600,
    });
  });

  it('passes token verification, policy, audit and capability enforcement into the extension', async () => {
    const policy = {
      default: 'deny',
      rules: [
        { name: 'readers', effect: 'allow', servers: ['team-gamma/*'], tools: ['get_*'], when: 'auth.verified' },
        { name: 'no-delete', effect: 'deny', tools: ['delete_*'] },
      ],
    };
    const ext = one(await render(ACCESS_INSTALL), 'MCPGatewayExtension');
    expect(ext.spec).toMatchObject({
      trustedHeadersKey: { secretName: 'trusted', generate: 'Enabled' },
      enforceCapabilityFiltering: true,
      oauthProtectedResource: { authorizationServers: ['https://auth.example.com/realms/mcp'] },
      tokenVerification: { audience: 'https://mcp.example.com/mcp', requiredScopes: ['mcp:tools'] },
      policy,
      audit: { arguments: 'values' },
    });
    expect(ext.spec.tokenVerification).not.toHaveProperty('issuers');
    expect(ext.spec.tokenVerification).not.toHaveProperty('enabled');
  });

  it('turns token verification on with every default, and leaves the new fields out unless set', async () => {
    const defaulted = one(
      await render({
        ...SEED_INSTALLS.quickInstall,
        values: {
          ...SEED_INSTALLS.quickInstall.values,
          mcpGatewayExtension: {
            ...SEED_INSTALLS.quickInstall.values.mcpGatewayExtension,
            oauthProtectedResource: { authorizationServers: ['https://auth.example.com'] },
            tokenVerification: { enabled: true },
          },
        },
      }),
      'MCPGatewayExtension',
    );
    expect(defaulted.spec.tokenVerification).toEqual({});
    const plain = one(await render(SEED_INSTALLS.quickInstall), 'MCPGatewayExtension');
    for (const field of [
      'tokenVerification',
      'policy',
      'audit',
      'enforceCapabilityFiltering',
      'oauthProtectedResource',
      'urlElicitation',
      'credentialEncryption',
      'userCredentials',
    ]) {
      expect(plain.spec, field).not.toHaveProperty(field);
    }
  });

  it('grants the release namespace access to a Gateway in another namespace, and only then', async () => {
    const grant = one(await render(SEED_INSTALLS.teamAlpha), 'ReferenceGrant');
    expect(grant.metadata?.namespace).toBe('gateway-system');
    expect(grant.spec).toEqual({
      from: [{ group: 'mcp.kuadrant.io', kind: 'MCPGatewayExtension', namespace: 'team-alpha' }],
      to: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'mcp-gateway' }],
    });
    const sameNamespace = await render({
      releaseName: 'mcp-gateway',
      namespace: 'gateway-system',
      values: { mcpGatewayExtension: { gatewayRef: { name: 'mcp-gateway', namespace: 'gateway-system' } } },
    });
    expect(ofKind(sameNamespace, 'ReferenceGrant')).toEqual([]);
  });

  it("renders seed 000's EnvoyFilter in envoyFilter.namespace, pointing at the team's ext_proc router", async () => {
    const filter = one(await render(SEED_INSTALLS.teamAlpha), 'EnvoyFilter');
    expect(filter.apiVersion).toBe('networking.istio.io/v1alpha3');
    expect(filter.metadata).toMatchObject({ name: 'mcp-ext-proc-team-alpha-gateway', namespace: 'istio-system' });
    expect(filter.spec.workloadSelector).toEqual({
      labels: { 'gateway.networking.k8s.io/gateway-name': 'mcp-gateway' },
    });
    const [patch] = filter.spec.configPatches;
    expect(patch.applyTo).toBe('HTTP_FILTER');
    expect(patch.match).toEqual({
      context: 'GATEWAY',
      listener: {
        portNumber: 8080,
        filterChain: {
          filter: {
            name: 'envoy.filters.network.http_connection_manager',
            subFilter: { name: 'envoy.filters.http.router' },
          },
        },
      },
    });
    expect(patch.patch.operation).toBe('INSERT_FIRST');
    expect(patch.patch.value.name).toBe('envoy.filters.http.ext_proc');
    expect(patch.patch.value.typed_config).toEqual({
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor',
      failure_mode_allow: false,
      allow_mode_override: true,
      mutation_rules: { allow_all_routing: true },
      message_timeout: '10s',
      metadata_options: { receiving_namespaces: { untyped: ['mcp-gateway'] } },
      processing_mode: {
        request_header_mode: 'SEND',
        response_header_mode: 'SEND',
        request_body_mode: 'BUFFERED',
        response_body_mode: 'NONE',
        request_trailer_mode: 'SKIP',
        response_trailer_mode: 'SKIP',
      },
      grpc_service: { envoy_grpc: { cluster_name: 'outbound|50051||mcp-gateway.team-alpha.svc.cluster.local' } },
    });
  });

  it("puts the EnvoyFilter in the Gateway's namespace when envoyFilter.namespace is empty", async () => {
    const filter = one(
      await render({
        ...SEED_INSTALLS.teamAlpha,
        values: { ...SEED_INSTALLS.teamAlpha.values, envoyFilter: { create: true } },
      }),
      'EnvoyFilter',
    );
    expect(filter.metadata?.namespace).toBe('gateway-system');
  });

  it('names its RBAC verbs and resources one by one, without wildcards', async () => {
    const manifests = await render(SEED_INSTALLS.quickInstall);
    const roles = [...ofKind(manifests, 'ClusterRole'), ...ofKind(manifests, 'Role')];
    expect(roles).toHaveLength(2);
    for (const role of roles) {
      for (const rule of role.rules!) {
        for (const field of ['apiGroups', 'resources', 'verbs']) {
          expect(rule[field], `${role.kind} ${field}`).not.toContain('*');
        }
        expect(rule.resourceNames ?? [], 'no resourceNames wildcard either').not.toContain('*');
        expect(rule.nonResourceURLs, 'no non-resource URLs').toBeUndefined();
      }
    }
    const leases = (role: Manifest) =>
      role.rules!.some((rule: { resources: string[] }) => rule.resources.includes('leases'));
    expect(leases(one(manifests, 'ClusterRole')), 'leases only in the namespaced Role').toBe(false);
    expect(leases(one(manifests, 'Role'))).toBe(true);
  });

  it('refuses to render an extension without a Gateway, naming the value', async () => {
    await expect(
      render({ releaseName: 'x', namespace: 'x', values: { mcpGatewayExtension: { gatewayRef: { name: '' } } } }),
    ).rejects.toThrow(/mcpGatewayExtension\.gatewayRef\.name is required/);
  });
});

describe('the rendered objects in a real API server', () => {
  let kube: KubeApiServer;
  let client: KubernetesObjectApi;
  let authorization: AuthorizationV1Api;

  beforeAll(async () => {
    // The chart's own copies of the CRDs, as `helm install` would install them.
    kube = await startKubeApiServer({ crdFiles: Object.values(CRD_FILE_NAMES).map((file) => CHART_CRD_DIR + file) });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kube.kubeconfigPath);
    client = KubernetesObjectApi.makeApiClient(kubeConfig);
    authorization = kubeConfig.makeApiClient(AuthorizationV1Api);
    for (const name of ['mcp-system', 'team-alpha', 'team-beta', 'gateway-system', 'istio-system']) {
      await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
  }, 120_000);

  afterAll(async () => {
    await kube?.stop();
  });

  it('creates every object of the seed 000 installs (controller, team alpha, team beta) side by side', async () => {
    for (const install of [SEED_INSTALLS.controllerOnly, SEED_INSTALLS.teamAlpha, SEED_INSTALLS.teamBeta]) {
      for (const manifest of await render(install)) {
        await expect(
          client.create(manifest),
          `${install.namespace}: ${manifest.kind} ${manifest.metadata?.name}`,
        ).resolves.toBeDefined();
      }
    }
    const ext = (await client.read({
      apiVersion: 'mcp.kuadrant.io/v1',
      kind: 'MCPGatewayExtension',
      metadata: { name: 'mcp-gateway', namespace: 'team-alpha' },
    })) as Manifest;
    // The API server applied the CRD's defaults to what the chart rendered.
    expect(ext.spec).toMatchObject({
      backendPingIntervalSeconds: 60,
      httpRouteManagement: 'Enabled',
      publicHost: 'team-alpha.mcp.example.com',
    });
  });

  it('creates the extension with identity and policy settings, as the API server stores them', async () => {
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-gamma' } });
    const ext = one(await render(ACCESS_INSTALL), 'MCPGatewayExtension');
    await client.create(ext);
    const stored = (await client.read({
      apiVersion: 'mcp.kuadrant.io/v1',
      kind: 'MCPGatewayExtension',
      metadata: { name: 'gamma', namespace: 'team-gamma' },
    })) as Manifest;
    expect(stored.spec).toMatchObject(ext.spec);
  });

  it("creates every object of seed 002's one-release install", async () => {
    const manifests = await render({ ...SEED_INSTALLS.quickInstall, releaseName: 'quick' });
    for (const manifest of manifests) {
      await expect(client.create(manifest), `${manifest.kind} ${manifest.metadata?.name}`).resolves.toBeDefined();
    }
  });

  it("lets the controller's ServiceAccount do its work and nothing more (RBAC as the API server evaluates it)", async () => {
    // Runs after the seed 000 objects exist: the controller release is mcp-controller in mcp-system.
    const serviceAccount = 'mcp-controller-mcp-gateway-controller';
    const can = async (verb: string, resource: string, namespace = '', group = '', subresource = '') => {
      const review = await authorization.createSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: `system:serviceaccount:mcp-system:${serviceAccount}`,
            groups: ['system:serviceaccounts', 'system:serviceaccounts:mcp-system', 'system:authenticated'],
            resourceAttributes: { verb, resource, namespace, group, subresource },
          },
        },
      });
      return review.status?.allowed === true;
    };
    const allowed = [
      await can('watch', 'mcpserverregistrations', '', 'mcp.kuadrant.io'),
      await can('patch', 'mcpserverregistrations', 'team-beta', 'mcp.kuadrant.io', 'status'),
      await can('update', 'mcpgatewayextensions', 'team-alpha', 'mcp.kuadrant.io', 'finalizers'),
      await can('create', 'deployments', 'team-alpha', 'apps'),
      await can('patch', 'secrets', 'team-alpha'),
      await can('list', 'referencegrants', '', 'gateway.networking.k8s.io'),
      await can('patch', 'gateways', 'gateway-system', 'gateway.networking.k8s.io', 'status'),
      await can('delete', 'envoyfilters', 'istio-system', 'networking.istio.io'),
      await can('update', 'leases', 'mcp-system', 'coordination.k8s.io'),
      await can('create', 'events', 'team-alpha'),
    ];
    expect(allowed).toEqual(allowed.map(() => true));
    const denied = [
      await can('update', 'leases', 'team-alpha', 'coordination.k8s.io'),
      await can('delete', 'mcpserverregistrations', 'team-alpha', 'mcp.kuadrant.io'),
      await can('create', 'mcpgatewayextensions', 'team-alpha', 'mcp.kuadrant.io'),
      await can('update', 'gateways', 'gateway-system', 'gateway.networking.k8s.io'),
      await can('get', 'configmaps', 'team-alpha'),
      await can('list', 'pods', ''),
      await can('create', 'pods', 'team-alpha', '', 'exec'),
      await can('delete', 'namespaces', ''),
      await can('create', 'clusterroles', '', 'rbac.authorization.k8s.io'),
      await can('create', 'referencegrants', 'gateway-system', 'gateway.networking.k8s.io'),
    ];
    expect(denied).toEqual(denied.map(() => false));
  });
});
