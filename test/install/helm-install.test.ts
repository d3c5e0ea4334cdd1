// `helm install` of the chart into a real kube-apiserver that has no MCP CRDs yet: Helm
// installs them from the chart's crds/, then the templates, exactly as the seed walkthroughs
// run it; then upgrade and uninstall.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeBinaries, startKubeApiServer, type KubeApiServer } from '../harness/kube.ts';
import { CHART_DIR } from './install-files.ts';
import { failureCode } from './kube-raw.ts';

const run = promisify(execFile);

let kube: KubeApiServer;
let client: KubernetesObjectApi;
let helmHome: string;

beforeAll(async () => {
  kube = await startKubeApiServer();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kube.kubeconfigPath);
  client = KubernetesObjectApi.makeApiClient(kubeConfig);
  helmHome = await mkdtemp(join(tmpdir(), 'mcpgw-helm-install-'));
  for (const name of ['gateway-system', 'istio-system']) {
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
}, 120_000);

afterAll(async () => {
  await kube?.stop();
  if (helmHome) await rm(helmHome, { recursive: true, force: true });
});

/** Runs helm against the test API server; resolves with its stdout, rejects with its stderr. */
async function helm(...args: string[]): Promise<string> {
  const env = {
    ...process.env,
    KUBECONFIG: kube.kubeconfigPath,
    HELM_CACHE_HOME: join(helmHome, 'cache'),
    HELM_CONFIG_HOME: join(helmHome, 'config'),
    HELM_DATA_HOME: join(helmHome, 'data'),
  };
  try {
    const { stdout } = await run(kubeBinaries().helm, args, { env, timeout: 60_000, maxBuffer: 4 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    throw new Error(`helm ${args.join(' ')} failed: ${(error as { stderr?: string }).stderr ?? String(error)}`, {
      cause: error,
    });
  }
}

async function read(
  apiVersion: string,
  kind: string,
  name: string,
  namespace?: string,
): Promise<KubernetesObject & { spec?: Record<string, unknown> }> {
  return client.read({ apiVersion, kind, metadata: namespace === undefined ? { name } : { name, namespace } });
}

async function exists(apiVersion: string, kind: string, name: string, namespace?: string): Promise<boolean> {
  return read(apiVersion, kind, name, namespace).then(
    () => true,
    (error: unknown) => {
      if (failureCode(error) === 404) return false;
      throw error;
    },
  );
}

describe('helm lint', () => {
  it('passes helm lint --strict with the defaults and with a team release without controller', async () => {
    expect(await helm('lint', '--strict', CHART_DIR)).toContain('0 chart(s) failed');
    const team = await helm(
      'lint',
      '--strict',
      CHART_DIR,
      '--set',
      'controller.enabled=false',
      '--set',
      'envoyFilter.create=true',
    );
    expect(team).toContain('0 chart(s) failed');
  });
});

describe('helm install', () => {
  it("installs the CRDs and seed 002's controller and extension in one release", async () => {
    const notes = await helm(
      'upgrade',
      '-i',
      'mcp-gateway',
      CHART_DIR,
      '--namespace',
      'mcp-system',
      '--create-namespace',
      '--set',
      'controller.enabled=true',
      '--set',
      'gateway.publicHost=your-hostname.example.com',
      '--set',
      'mcpGatewayExtension.create=true',
      '--set',
      'mcpGatewayExtension.gatewayRef.name=your-gateway',
      '--set',
      'mcpGatewayExtension.gatewayRef.namespace=gateway-system',
    );
    expect(notes).toContain('STATUS: deployed');
    expect(notes).toContain('kubectl -n mcp-system wait --for=condition=Ready mcpgatewayextension/mcp-gateway');

    for (const crd of ['mcpgatewayextensions', 'mcpserverregistrations', 'mcpvirtualservers']) {
      expect(await exists('apiextensions.k8s.io/v1', 'CustomResourceDefinition', `${crd}.mcp.kuadrant.io`)).toBe(true);
    }
    const ext = await read('mcp.kuadrant.io/v1', 'MCPGatewayExtension', 'mcp-gateway', 'mcp-system');
    expect(ext.spec).toMatchObject({
      targetRef: { name: 'your-gateway', namespace: 'gateway-system', sectionName: 'mcp' },
      publicHost: 'your-hostname.example.com',
      backendPingIntervalSeconds: 60,
    });
    expect(await exists('apps/v1', 'Deployment', 'mcp-gateway-controller', 'mcp-system')).toBe(true);
    expect(
      await exists(
        'gateway.networking.k8s.io/v1beta1',
        'ReferenceGrant',
        'mcp-mcp-system-to-your-gateway',
        'gateway-system',
      ),
    ).toBe(true);
  });

  it("installs seed 000's team release beside it, reusing the installed CRDs", async () => {
    const notes = await helm(
      'install',
      'mcp-gateway',
      CHART_DIR,
      '--namespace',
      'team-alpha',
      '--create-namespace',
      '--set',
      'controller.enabled=false',
      '--set',
      'envoyFilter.create=true',
      '--set',
      'envoyFilter.namespace=istio-system',
      '--set',
      'gateway.publicHost=team-alpha.mcp.example.com',
      '--set',
      'mcpGatewayExtension.gatewayRef.name=mcp-gateway',
      '--set',
      'mcpGatewayExtension.gatewayRef.namespace=gateway-system',
    );
    expect(notes).toContain('STATUS: deployed');
    // The chart warns when it renders an EnvoyFilter that a controller would also create.
    expect(notes).toContain('envoyFilter.create=true renders an EnvoyFilter although the controller also creates one');
    expect(
      await exists('networking.istio.io/v1alpha3', 'EnvoyFilter', 'mcp-ext-proc-team-alpha-gateway', 'istio-system'),
    ).toBe(true);
    expect(await exists('mcp.kuadrant.io/v1', 'MCPGatewayExtension', 'mcp-gateway', 'team-alpha')).toBe(true);
    expect(await exists('apps/v1', 'Deployment', 'mcp-gateway-controller', 'team-alpha')).toBe(false);
  });

  it('upgrades a release to new values and uninstalls it, keeping the CRDs', async () => {
    await helm(
      'upgrade',
      'mcp-gateway',
      CHART_DIR,
      '--namespace',
      'team-alpha',
      '--reuse-values',
      '--set',
      'envoyFilter.create=false',
    );
    expect(
      await exists('networking.istio.io/v1alpha3', 'EnvoyFilter', 'mcp-ext-proc-team-alpha-gateway', 'istio-system'),
    ).toBe(false);

    await helm('uninstall', 'mcp-gateway', '--namespace', 'team-alpha');
    expect(await exists('mcp.kuadrant.io/v1', 'MCPGatewayExtension', 'mcp-gateway', 'team-alpha')).toBe(false);
    expect(
      await exists(
        'gateway.networking.k8s.io/v1beta1',
        'ReferenceGrant',
        'mcp-team-alpha-to-mcp-gateway',
        'gateway-system',
      ),
    ).toBe(false);
    // Helm never deletes CRDs from crds/: other releases' objects stay.
    expect(
      await exists('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'mcpserverregistrations.mcp.kuadrant.io'),
    ).toBe(true);
    expect(await exists('mcp.kuadrant.io/v1', 'MCPGatewayExtension', 'mcp-gateway', 'mcp-system')).toBe(true);
  });
});
