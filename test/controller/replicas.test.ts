// Two controller replicas share a Lease: one reconciles, the other takes over when it stops;
// a controller restarted mid-way converges on what changed while it was down.
import { fileURLToPath } from 'node:url';
import { objectPath } from '@mcp-gateway/controller';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  httpRoute,
  ns,
  registration,
  service,
  sharedGatewayAndExtension,
  startTestCluster,
  waitConfigNames,
  waitReason,
  type TestCluster,
} from './cluster.ts';
import { freePort, startProcess } from '../harness/index.ts';

/** The bundle `node scripts/build.mjs` writes (npm test builds first). */
const CONTROLLER_BUNDLE = fileURLToPath(new URL('../../packages/controller/dist/controller.js', import.meta.url));

let cluster: TestCluster;
const parent = { name: 'mcp-gateway', namespace: 'mcp-system' };
const register = (name: string) => [
  service('mcp-test', name, 8000),
  httpRoute('mcp-test', `${name}-route`, parent, { name, port: 8000 }, [`${name}.mcp.local`]),
  registration('mcp-test', name, `${name}-route`, { prefix: `${name}_` }),
];

beforeAll(async () => {
  cluster = await startTestCluster();
  await cluster.apply(ns('mcp-system'), ns('mcp-test'), ...sharedGatewayAndExtension());
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('controller replicas', () => {
  it('lets one of two replicas lead and the other take over when the leader stops', async () => {
    const first = cluster.startReplica('first');
    await first.leading;
    const second = cluster.startReplica('second');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect([first.isLeader, second.isLeader]).toEqual([true, false]);
    await cluster.apply(...register('alpha'));
    await waitConfigNames(cluster.api, 'mcp-system', ['mcp-test/alpha']);

    const lease = await cluster.api.get<{ metadata: { name: string }; spec: { holderIdentity?: string } }>(
      objectPath('coordination.k8s.io/v1', 'Lease', 'default', 'mcp-gateway-controller'),
    );
    expect(lease?.spec.holderIdentity).toBe('first');

    await first.stop();
    await second.leading;
    expect(second.isLeader).toBe(true);
    await cluster.apply(...register('beta'));
    await waitConfigNames(cluster.api, 'mcp-system', ['mcp-test/alpha', 'mcp-test/beta']);
    await second.stop();
  });

  it('converges after a restart on what changed while no controller ran', async () => {
    await cluster.api.delete(objectPath('mcp.kuadrant.io/v1', 'MCPServerRegistration', 'mcp-test', 'alpha'));
    await cluster.apply(...register('gamma'));
    const restarted = cluster.startReplica('restarted');
    await restarted.leading;
    await waitConfigNames(cluster.api, 'mcp-system', ['mcp-test/beta', 'mcp-test/gamma']);
    await waitReason(cluster.api, 'MCPServerRegistration', 'mcp-test', 'gamma', 'Ready');
    await restarted.stop();
  });
});

describe('the built controller (mcp-gateway-controller)', () => {
  it('leads, serves /readyz, and on SIGTERM exits 0 and releases its Lease', async () => {
    const port = await freePort();
    const controller = await startProcess(
      process.execPath,
      [
        CONTROLLER_BUNDLE,
        '--kubeconfig',
        cluster.server.kubeconfigPath,
        '--lease-namespace',
        'default',
        '--health-address',
        `127.0.0.1:${port}`,
      ],
      { readyWhen: { url: `http://127.0.0.1:${port}/readyz`, stdout: /controller started/ } },
    );
    const lease = () =>
      cluster.api.get<{ metadata: { name: string }; spec: { holderIdentity?: string | null } }>(
        objectPath('coordination.k8s.io/v1', 'Lease', 'default', 'mcp-gateway-controller'),
      );
    expect((await lease())?.spec.holderIdentity).toMatch(/.+-[0-9a-f]{8}$/);
    await cluster.apply(...register('delta'));
    await waitConfigNames(cluster.api, 'mcp-system', ['mcp-test/beta', 'mcp-test/delta', 'mcp-test/gamma']);
    expect(await controller.stop('SIGTERM')).toBe(0);
    expect((await lease())?.spec.holderIdentity ?? null).toBeNull();
    expect(controller.stdout()).not.toMatch(/"level":"error"/);
  });

  it('names the flag and the fix when the kubeconfig cannot be loaded', async () => {
    const controller = await startProcess(process.execPath, [
      CONTROLLER_BUNDLE,
      '--kubeconfig',
      '/nonexistent/kubeconfig',
    ]);
    expect(await controller.exited).toBe(2);
    expect(controller.stderr()).toContain('cannot load the kubeconfig');
  });
});
