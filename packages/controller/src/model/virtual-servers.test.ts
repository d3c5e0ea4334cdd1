import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { McpVirtualServer } from './api-types.ts';
import type { ClusterState } from './cluster-state.ts';
import { planCluster } from './plan.ts';
import { extension, gateway, grant, listener, registration, route, state } from './test-objects.ts';

const all = { allowedRoutes: { namespaces: { from: 'All' as const } } };

function virtualServer(namespace: string, name: string, tools: string[], prompts?: string[]): McpVirtualServer {
  return {
    metadata: { namespace, name, generation: 1 },
    spec: { tools, ...(prompts !== undefined ? { prompts } : {}) },
  };
}

/** Two teams with their own extensions on one Gateway, and a shared extension in mcp-system. */
function cluster(virtualServers: McpVirtualServer[]): ClusterState {
  const grantFor = (namespace: string) =>
    grant(
      'gateway-system',
      { group: 'mcp.kuadrant.io', kind: 'MCPGatewayExtension', namespace },
      { group: 'gateway.networking.k8s.io', kind: 'Gateway' },
    );
  return state({
    gateways: [
      gateway('gateway-system', 'gw', [
        listener('alpha', 8080, '*.alpha.example.com', all),
        listener('beta', 8081, '*.beta.example.com', all),
      ]),
    ],
    extensions: [
      extension('team-alpha', 'ext', { name: 'gw', namespace: 'gateway-system', sectionName: 'alpha' }),
      extension('team-beta', 'ext', { name: 'gw', namespace: 'gateway-system', sectionName: 'beta' }),
    ],
    referenceGrants: [grantFor('team-alpha'), grantFor('team-beta')],
    httpRoutes: [
      route('tools', 'r', { name: 'gw', namespace: 'gateway-system', sectionName: 'beta' }, { name: 's', port: 80 }, [
        's.beta.example.com',
      ]),
    ],
    registrations: [registration('tools', 'server', 'r', { prefix: 't_' })],
    virtualServers,
  });
}

function virtualServerNames(yaml: string | undefined): string[] {
  return ((parse(yaml ?? '') as { virtualServers: { name: string }[] }).virtualServers ?? []).map((v) => v.name);
}

describe('virtual servers', () => {
  it('go into the config of the extension in their own namespace only', () => {
    const plan = planCluster(cluster([virtualServer('team-alpha', 'dev', ['a_x'], ['a_p'])]));
    expect(parse(plan.configYaml('team-alpha') ?? '').virtualServers).toEqual([
      { name: 'team-alpha/dev', tools: ['a_x'], prompts: ['a_p'] },
    ]);
    expect(virtualServerNames(plan.configYaml('team-beta'))).toEqual([]);
    expect(plan.virtualServers.get('team-alpha/dev')?.condition).toEqual({
      type: 'Ready',
      status: 'True',
      reason: 'Ready',
      message: 'in the config of the gateway in namespace team-alpha (the extension of its own namespace)',
    });
  });

  it('without an extension of their own, go to the gateways that serve their namespace’s registrations', () => {
    const plan = planCluster(cluster([virtualServer('tools', 'view', ['t_x'])]));
    expect(virtualServerNames(plan.configYaml('team-beta'))).toEqual(['tools/view']);
    expect(virtualServerNames(plan.configYaml('team-alpha'))).toEqual([]);
    expect(plan.virtualServers.get('tools/view')?.condition.message).toBe(
      'in the config of the gateway in namespace team-beta (the gateways serving registrations of tools)',
    );
  });

  it('with neither, go into every config as the anchor writes them', () => {
    const plan = planCluster(cluster([virtualServer('views', 'shared', ['x'])]));
    expect(virtualServerNames(plan.configYaml('team-alpha'))).toEqual(['views/shared']);
    expect(virtualServerNames(plan.configYaml('team-beta'))).toEqual(['views/shared']);
    expect(plan.virtualServers.get('views/shared')?.condition).toMatchObject({
      status: 'True',
      message: expect.stringContaining('namespace team-alpha, team-beta (every gateway'),
    });
  });

  it('report NotReady when the extension of their namespace is not valid', () => {
    const base = cluster([virtualServer('team-alpha', 'dev', ['a_x'])]);
    const plan = planCluster({ ...base, referenceGrants: base.referenceGrants.slice(1) });
    expect(plan.virtualServers.get('team-alpha/dev')?.condition).toEqual({
      type: 'Ready',
      status: 'False',
      reason: 'NotReady',
      message:
        'MCPGatewayExtension team-alpha/ext of its namespace is not valid (ReferenceGrantRequired); see its Ready condition',
    });
    expect(virtualServerNames(plan.configYaml('team-beta'))).toEqual([]);
  });

  it('report NotReady when no extension is valid', () => {
    const plan = planCluster({ ...cluster([virtualServer('views', 'v', ['x'])]), referenceGrants: [] });
    expect(plan.virtualServers.get('views/v')?.condition).toMatchObject({
      status: 'False',
      message: 'no valid MCPGatewayExtension serves it',
    });
  });
});
