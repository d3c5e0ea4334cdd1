import { fileURLToPath } from 'node:url';
import { ApiException, KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeApiServer, type KubeApiServer } from './kube.ts';

const WIDGET_CRD = fileURLToPath(new URL('./fixtures/widget-crd.yaml', import.meta.url));
const GADGET = fileURLToPath(new URL('./fixtures/gadget.yaml', import.meta.url));

let kube: KubeApiServer;
let client: KubernetesObjectApi;

beforeAll(async () => {
  kube = await startKubeApiServer({ crdFiles: [WIDGET_CRD] });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kube.kubeconfigPath);
  client = KubernetesObjectApi.makeApiClient(kubeConfig);
});

afterAll(async () => {
  await kube?.stop();
});

/** Creates `object` in namespace default and reads it back from the server. */
async function createAndRead<T extends KubernetesObject>(object: T): Promise<T & { spec?: unknown }> {
  await client.create(object);
  return (await client.read({
    apiVersion: object.apiVersion!,
    kind: object.kind!,
    metadata: { name: object.metadata!.name!, namespace: 'default' },
  })) as T & { spec?: unknown };
}

describe('startKubeApiServer', () => {
  it('serves HTTPS on loopback and refuses a request without a valid token', async () => {
    expect(kube.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const anonymous = new KubeConfig();
    anonymous.loadFromString(kube.kubeconfig.replace(/token: "[0-9a-f]+"/, 'token: "not-the-admin-token"'));
    const error = await KubernetesObjectApi.makeApiClient(anonymous)
      .list('v1', 'Namespace')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException<unknown>).code).toBe(401);
  });

  it('stores a Gateway API Gateway and HTTPRoute', async () => {
    const gateway = await createAndRead({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'mcp-gateway' },
      spec: { gatewayClassName: 'istio', listeners: [{ name: 'mcp', port: 8080, protocol: 'HTTP' }] },
    });
    expect(gateway.spec).toMatchObject({ listeners: [{ name: 'mcp', port: 8080 }] });
    // The CRD's CEL rules arrived intact: a TCP listener may not name a hostname.
    const refused = await client
      .create({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: 'tcp-with-hostname' },
        spec: {
          gatewayClassName: 'istio',
          listeners: [{ name: 'tcp', port: 9000, protocol: 'TCP', hostname: 'mcp.example.com' }],
        },
      })
      .catch((e: unknown) => e);
    expect((refused as ApiException<string>).code).toBe(422);
    expect((refused as ApiException<string>).body).toContain(
      "hostname must not be specified for protocols ['TCP', 'UDP']",
    );

    const route = await createAndRead({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'weather' },
      spec: {
        parentRefs: [{ name: 'mcp-gateway' }],
        hostnames: ['weather.mcp.local'],
        rules: [{ backendRefs: [{ name: 'weather', port: 9090 }] }],
      },
    });
    expect(route.spec).toMatchObject({ hostnames: ['weather.mcp.local'], parentRefs: [{ name: 'mcp-gateway' }] });
  });

  it('stores an Istio EnvoyFilter', async () => {
    const filter = await createAndRead({
      apiVersion: 'networking.istio.io/v1alpha3',
      kind: 'EnvoyFilter',
      metadata: { name: 'mcp-ext-proc' },
      spec: {
        targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'mcp-gateway' }],
        configPatches: [{ applyTo: 'HTTP_FILTER', patch: { operation: 'INSERT_FIRST', value: { name: 'ext_proc' } } }],
      },
    });
    expect(filter.spec).toMatchObject({ configPatches: [{ applyTo: 'HTTP_FILTER' }] });
  });

  it('stores a Deployment as an object (no kubelet runs it)', async () => {
    const labels = { app: 'mcp-gateway' };
    const deployment = await createAndRead({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'mcp-gateway' },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: 'gateway', image: 'mcp-gateway:test' }] } },
      },
    });
    expect(deployment.spec).toMatchObject({ replicas: 2 });
  });

  it('serves the CRDs given in crdFiles with their schema enforced', async () => {
    const widget = await createAndRead({
      apiVersion: 'harness.mcpgw.test/v1',
      kind: 'Widget',
      metadata: { name: 'small' },
      spec: { size: 1 },
    });
    expect(widget.spec).toEqual({ size: 1 });
    const invalid = await client
      .create({ apiVersion: 'harness.mcpgw.test/v1', kind: 'Widget', metadata: { name: 'empty' }, spec: { size: 0 } })
      .catch((e: unknown) => e);
    expect((invalid as ApiException<unknown>).code).toBe(422);
  });

  it('refuses a kind no CRD defines', async () => {
    const error = await client
      .create({ apiVersion: 'harness.mcpgw.test/v1', kind: 'Gadget', metadata: { name: 'nope' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toMatch(/Gadget/);
    await expect(kube.applyFiles([GADGET])).rejects.toThrow(/serves no kind Gadget in harness\.mcpgw\.test\/v1/);
  });
});
