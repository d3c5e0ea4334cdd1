import { parseConfig } from '@mcp-gateway/core';
import { describe, expect, it } from 'vitest';
import { planCluster } from './plan.ts';
import { extension, gateway, grant, listener, registration, route, secret, service, state } from './test-objects.ts';
import type { ClusterState } from './cluster-state.ts';

const all = { allowedRoutes: { namespaces: { from: 'All' as const } } };
const extGrant = (namespace: string) =>
  grant(
    'gateway-system',
    { group: 'mcp.kuadrant.io', kind: 'MCPGatewayExtension', namespace },
    { group: 'gateway.networking.k8s.io', kind: 'Gateway' },
  );

/** Seed 000: two teams, each its Gateway listener and extension. */
function twoTeams(): ClusterState {
  return state({
    gateways: [
      gateway('gateway-system', 'mcp-gateway', [listener('http', 8080, '*.example.com', all)]),
      gateway('gateway-system', 'team-beta-gateway', [listener('http', 8080, '*.team-beta.example.com', all)]),
    ],
    extensions: [
      extension('team-alpha', 'mcp-gateway', { name: 'mcp-gateway', namespace: 'gateway-system', sectionName: 'http' }),
      extension('team-beta', 'mcp-gateway', {
        name: 'team-beta-gateway',
        namespace: 'gateway-system',
        sectionName: 'http',
      }),
    ],
    referenceGrants: [extGrant('team-alpha'), extGrant('team-beta')],
    httpRoutes: [
      route(
        'team-alpha',
        'alpha-server-route',
        { name: 'mcp-gateway', namespace: 'gateway-system' },
        { name: 'alpha', port: 9090 },
        ['alpha.example.com'],
      ),
      route(
        'team-beta',
        'beta-server-route',
        { name: 'team-beta-gateway', namespace: 'gateway-system' },
        { name: 'beta', port: 9090 },
        ['beta.team-beta.example.com'],
      ),
    ],
    registrations: [
      registration('team-alpha', 'team-alpha-server', 'alpha-server-route', { toolPrefix: 'alpha_' }),
      registration('team-beta', 'team-beta-server', 'beta-server-route', { prefix: 'beta_' }),
    ],
  });
}

function servers(yaml: string | undefined) {
  const parsed = parseConfig(yaml ?? '', 'config.yaml');
  if (!parsed.ok) throw parsed.error;
  return parsed.config.servers;
}

describe('planCluster', () => {
  it('writes each team’s registrations only into its own config, in the gateway’s schema', () => {
    const plan = planCluster(twoTeams());
    expect(servers(plan.configYaml('team-alpha'))).toEqual([
      expect.objectContaining({
        name: 'team-alpha/team-alpha-server',
        url: 'http://alpha.team-alpha.svc.cluster.local:9090/mcp',
        hostname: 'alpha.example.com',
        prefix: 'alpha_',
        enabled: true,
      }),
    ]);
    expect(servers(plan.configYaml('team-beta')).map((s) => s.name)).toEqual(['team-beta/team-beta-server']);
    expect(plan.registrations.get('team-alpha/team-alpha-server')?.condition).toMatchObject({
      status: 'True',
      reason: 'Ready',
    });
  });

  it('reports NotReady when no valid extension serves the route’s listener', () => {
    const cluster = twoTeams();
    const plan = planCluster({ ...cluster, referenceGrants: [extGrant('team-beta')] });
    expect(plan.registrations.get('team-alpha/team-alpha-server')?.condition).toMatchObject({
      status: 'False',
      reason: 'NotReady',
      message: expect.stringContaining('no valid MCPGatewayExtension'),
    });
    expect(plan.configs.has('team-alpha')).toBe(false);
  });

  it('reports NotReady naming a missing HTTPRoute', () => {
    const cluster = twoTeams();
    const plan = planCluster({ ...cluster, registrations: [registration('team-alpha', 'lost', 'missing-route')] });
    expect(plan.registrations.get('team-alpha/lost')?.condition.message).toBe(
      'HTTPRoute team-alpha/missing-route not found',
    );
  });

  it('leaves a Disabled registration out of the config and says so', () => {
    const cluster = twoTeams();
    const disabled = registration('team-alpha', 'off', 'alpha-server-route', { prefix: 'off_', state: 'Disabled' });
    const plan = planCluster({ ...cluster, registrations: [...cluster.registrations, disabled] });
    expect(plan.registrations.get('team-alpha/off')?.condition).toMatchObject({ status: 'False', reason: 'Disabled' });
    expect(servers(plan.configYaml('team-alpha')).map((s) => s.name)).toEqual(['team-alpha/team-alpha-server']);
  });

  it('gives a prefix to the oldest registration in one config; the newer reports PrefixConflict', () => {
    const cluster = twoTeams();
    const copy = registration('team-alpha', 'copy', 'alpha-server-route', { prefix: 'alpha_' });
    const plan = planCluster({ ...cluster, registrations: [copy, ...cluster.registrations] });
    expect(plan.registrations.get('team-alpha/copy')?.condition).toMatchObject({
      reason: 'PrefixConflict',
      message: expect.stringContaining('already used by MCPServerRegistration team-alpha/team-alpha-server'),
    });
    expect(servers(plan.configYaml('team-alpha')).map((s) => s.name)).toEqual(['team-alpha/team-alpha-server']);
  });

  it('empties the config of a namespace whose extension went away', () => {
    const cluster = twoTeams();
    const config = secret('team-alpha', 'mcp-gateway-config', { 'config.yaml': 'servers: []' });
    const withLabel = {
      ...config,
      metadata: { ...config.metadata, labels: { ...config.metadata.labels, 'mcp.kuadrant.io/aggregated': 'true' } },
    };
    const plan = planCluster({ ...cluster, extensions: cluster.extensions.slice(1), secrets: [withLabel] });
    expect(servers(plan.configYaml('team-alpha'))).toEqual([]);
  });

  it('puts the extension’s CA bundle into its config as gatewayCACertPEM', () => {
    const cluster = twoTeams();
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const [alpha, beta] = cluster.extensions;
    if (alpha === undefined || beta === undefined) throw new Error('fixture');
    const withBundle = { ...alpha, spec: { ...alpha.spec, caCertBundleRef: { name: 'gateway-ca' } } };
    const plan = planCluster({
      ...cluster,
      extensions: [withBundle, beta],
      secrets: [secret('team-alpha', 'gateway-ca', { 'ca.crt': pem })],
    });
    const parsed = parseConfig(plan.configYaml('team-alpha') ?? '', 'config.yaml');
    expect(parsed.ok && parsed.config.gatewayCACertPEM).toBe(pem);
  });

  it('routes by parentRef sectionName: a route on another port’s listener stays out', () => {
    const shared = gateway('gateway-system', 'shared', [
      listener('a', 8080, '*.a.example.com', all),
      listener('b', 8081, '*.b.example.com', all),
    ]);
    const plan = planCluster(
      state({
        gateways: [shared],
        extensions: [extension('gateway-system', 'ext', { name: 'shared', sectionName: 'a' })],
        httpRoutes: [
          route('gateway-system', 'on-a', { name: 'shared', sectionName: 'a' }, { name: 'svc-a', port: 80 }, [
            'x.a.example.com',
          ]),
          route('gateway-system', 'on-b', { name: 'shared', sectionName: 'b' }, { name: 'svc-b', port: 80 }, [
            'x.b.example.com',
          ]),
        ],
        registrations: [
          registration('gateway-system', 'a', 'on-a', { prefix: 'a_' }),
          registration('gateway-system', 'b', 'on-b', { prefix: 'b_' }),
        ],
      }),
    );
    expect(servers(plan.configYaml('gateway-system')).map((s) => s.name)).toEqual(['gateway-system/a']);
  });
});

describe('endpoints and secrets', () => {
  const base = () =>
    state({
      gateways: [gateway('mcp-test', 'gw', [listener('http', 8080, '*.mcp.local', all)])],
      extensions: [extension('mcp-test', 'ext', { name: 'gw', sectionName: 'http' })],
    });
  const planWith = (parts: Partial<ClusterState>) => planCluster({ ...base(), ...parts });
  const reg = (spec = {}) => registration('mcp-test', 'moon', 'moon-route', { prefix: 'moon_', ...spec });

  it('uses https when the Service port says appProtocol https', () => {
    const plan = planWith({
      httpRoutes: [route('mcp-test', 'moon-route', { name: 'gw' }, { name: 'moon-service', port: 8443 })],
      services: [service('mcp-test', 'moon-service', [{ port: 8443, appProtocol: 'https' }])],
      registrations: [reg()],
    });
    expect(servers(plan.configYaml('mcp-test'))[0]?.url).toBe(
      'https://moon-service.mcp-test.svc.cluster.local:8443/mcp',
    );
  });

  it('uses the external host of an ExternalName Service and the registration’s path', () => {
    const plan = planWith({
      httpRoutes: [route('mcp-test', 'moon-route', { name: 'gw' }, { name: 'ext', port: 443 })],
      services: [
        service('mcp-test', 'ext', [{ port: 443, name: 'https' }], {
          type: 'ExternalName',
          externalName: 'api.example.org',
        }),
      ],
      registrations: [reg({ path: '/v1/mcp' })],
    });
    expect(servers(plan.configYaml('mcp-test'))[0]?.url).toBe('https://api.example.org:443/v1/mcp');
  });

  it('needs a ReferenceGrant for a backend in another namespace (seed 001, strategy 3)', () => {
    const parts = {
      httpRoutes: [
        route('mcp-test', 'moon-route', { name: 'gw' }, { name: 'moon-service', namespace: 'moon-server', port: 8081 }),
      ],
      registrations: [reg()],
    };
    expect(planWith(parts).registrations.get('mcp-test/moon')?.condition.message).toContain(
      'ReferenceGrant required in namespace moon-server',
    );
    const allow = grant(
      'moon-server',
      { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'mcp-test' },
      { group: '', kind: 'Service' },
    );
    const plan = planWith({ ...parts, referenceGrants: [allow] });
    expect(servers(plan.configYaml('mcp-test'))[0]?.url).toBe(
      'http://moon-service.moon-server.svc.cluster.local:8081/mcp',
    );
  });

  it('copies the credential from a labelled Secret and reports a missing one', () => {
    const parts = {
      httpRoutes: [route('mcp-test', 'moon-route', { name: 'gw' }, { name: 'moon-service', port: 8081 })],
      registrations: [reg({ credentialRef: { name: 'moon-token' } })],
    };
    expect(planWith(parts).registrations.get('mcp-test/moon')?.condition.message).toContain(
      'Secret mcp-test/moon-token not found',
    );
    const plan = planWith({ ...parts, secrets: [secret('mcp-test', 'moon-token', { token: 'Bearer abc' })] });
    expect(servers(plan.configYaml('mcp-test'))[0]?.credential).toBe('Bearer abc');
  });

  it('forces https when a CA Secret is set and puts the PEM in the config', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const plan = planWith({
      httpRoutes: [route('mcp-test', 'moon-route', { name: 'gw' }, { name: 'moon-service', port: 8081 })],
      registrations: [reg({ caCertSecretRef: { name: 'moon-ca' } })],
      secrets: [secret('mcp-test', 'moon-ca', { 'ca.crt': pem })],
    });
    const [server] = servers(plan.configYaml('mcp-test'));
    expect(server?.url.startsWith('https://')).toBe(true);
    expect(server?.caCert).toBe(pem);
  });
});
