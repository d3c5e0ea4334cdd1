// MCPServerRegistration lifecycle and seed 001's namespace strategies against a real API server.
import { KubeApiError, objectPath } from '@mcp-gateway/controller';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  configServers,
  configText,
  httpRoute,
  ns,
  registration,
  service,
  sharedGatewayAndExtension,
  startTestCluster,
  waitConfigNames,
  waitFor,
  waitReason,
  type TestCluster,
} from './cluster.ts';

let cluster: TestCluster;
const mcpPath = (kind: string, namespace: string, name: string) =>
  objectPath('mcp.kuadrant.io/v1', kind, namespace, name);
const parent = { name: 'mcp-gateway', namespace: 'mcp-system' };

beforeAll(async () => {
  cluster = await startTestCluster();
  cluster.startReplica();
  // The Gateway and extension live in mcp-system (same namespace: no ReferenceGrant needed).
  await cluster.apply(
    ns('mcp-system'),
    ns('mcp-test'),
    ns('moon-server'),
    ns('quotes-server'),
    ...sharedGatewayAndExtension(),
  );
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('registration lifecycle', () => {
  it('adds a new registration to the config and reports it Ready', async () => {
    await cluster.apply(
      service('mcp-test', 'weather', 8000),
      httpRoute('mcp-test', 'weather-route', parent, { name: 'weather', port: 8000 }, ['weather.mcp.local']),
      registration('mcp-test', 'weather', 'weather-route', {
        prefix: 'weather_',
        category: ['forecasts'],
        hint: 'Weather',
      }),
    );
    await waitConfigNames(cluster.api, 'mcp-system', ['mcp-test/weather']);
    const [server] = (await configServers(cluster.api, 'mcp-system')) ?? [];
    expect(server).toMatchObject({
      prefix: 'weather_',
      category: ['forecasts'],
      hint: 'Weather',
      hostname: 'weather.mcp.local',
    });
    const ready = await waitReason(cluster.api, 'MCPServerRegistration', 'mcp-test', 'weather', 'Ready');
    expect(ready).toMatchObject({ status: 'True', observedGeneration: 1 });
  });

  it('applies an update (a new path) to the config', async () => {
    await cluster.api.mergePatch(mcpPath('MCPServerRegistration', 'mcp-test', 'weather'), {
      spec: { path: '/v2/mcp' },
    });
    await waitFor(
      'the new path in the config',
      async () => (await configServers(cluster.api, 'mcp-system'))?.[0]?.url,
      (url) => url === 'http://weather.mcp-test.svc.cluster.local:8000/v2/mcp',
    );
    await waitFor(
      'observedGeneration 2',
      async () =>
        (
          await cluster.api.get<{
            metadata: { name: string };
            status?: { conditions?: Array<{ observedGeneration?: number }> };
          }>(mcpPath('MCPServerRegistration', 'mcp-test', 'weather'))
        )?.status?.conditions?.[0]?.observedGeneration,
      (g) => g === 2,
    );
  });

  it('refuses a prefix change (the CRD keeps the prefix immutable)', async () => {
    const change = cluster.api.mergePatch(mcpPath('MCPServerRegistration', 'mcp-test', 'weather'), {
      spec: { prefix: 'other_' },
    });
    await expect(change).rejects.toSatisfy(
      (error) => error instanceof KubeApiError && error.status === 422 && /immutable/.test(error.message),
    );
  });

  it('takes a Disabled registration out of the config and back in when enabled', async () => {
    await cluster.api.mergePatch(mcpPath('MCPServerRegistration', 'mcp-test', 'weather'), {
      spec: { state: 'Disabled' },
    });
    await waitConfigNames(cluster.api, 'mcp-system', []);
    expect((await waitReason(cluster.api, 'MCPServerRegistration', 'mcp-test', 'weather', 'Disabled'))?.status).toBe(
      'False',
    );
    await cluster.api.mergePatch(mcpPath('MCPServerRegistration', 'mcp-test', 'weather'), {
      spec: { state: 'Enabled' },
    });
    await waitConfigNames(cluster.api, 'mcp-system', ['mcp-test/weather']);
  });

  it('reports PrefixConflict for a second registration with a prefix already in use', async () => {
    await cluster.apply(
      httpRoute('mcp-test', 'weather2-route', parent, { name: 'weather', port: 8000 }, ['weather2.mcp.local']),
      registration('mcp-test', 'weather-copy', 'weather2-route', { prefix: 'weather_' }),
    );
    const conflict = await waitReason(
      cluster.api,
      'MCPServerRegistration',
      'mcp-test',
      'weather-copy',
      'PrefixConflict',
    );
    expect(conflict?.message).toContain('mcp-test/weather');
    expect((await configServers(cluster.api, 'mcp-system'))?.map((s) => s.name)).toEqual(['mcp-test/weather']);
    await cluster.api.delete(mcpPath('MCPServerRegistration', 'mcp-test', 'weather-copy'));
  });

  it('removes a deleted registration from the config', async () => {
    await cluster.api.delete(mcpPath('MCPServerRegistration', 'mcp-test', 'weather'));
    await waitConfigNames(cluster.api, 'mcp-system', []);
  });
});

describe('HTTPRoute status', () => {
  type RouteStatus = {
    metadata: { name: string };
    status?: { parents?: Array<{ conditions: Array<{ type: string; reason: string }> }> };
  };
  const routePath = objectPath('gateway.networking.k8s.io/v1', 'HTTPRoute', 'mcp-test', 'sun-route');
  const inUse = (route: RouteStatus | undefined) =>
    route?.status?.parents?.[0]?.conditions.some((c) => c.reason === 'InUseByMCPServerRegistration') ?? false;

  it('marks the route’s parent Programmed while a registration uses it, and clears it afterwards', async () => {
    await cluster.apply(
      service('mcp-test', 'sun', 8000),
      httpRoute('mcp-test', 'sun-route', parent, { name: 'sun', port: 8000 }, ['sun.mcp.local']),
      registration('mcp-test', 'sun', 'sun-route', { prefix: 'sun_' }),
    );
    // Play Istio: accept the route on the Gateway, as a Gateway implementation does.
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await cluster.api.mergePatch(`${routePath}/status`, {
      status: {
        parents: [
          {
            parentRef: {
              group: 'gateway.networking.k8s.io',
              kind: 'Gateway',
              name: 'mcp-gateway',
              namespace: 'mcp-system',
            },
            controllerName: 'istio.io/gateway-controller',
            conditions: [
              { type: 'Accepted', status: 'True', reason: 'Accepted', message: '', lastTransitionTime: now },
            ],
          },
        ],
      },
    });
    const marked = await waitFor('the Programmed condition', () => cluster.api.get<RouteStatus>(routePath), inUse);
    expect(marked?.status?.parents?.[0]?.conditions.map((c) => c.type).sort()).toEqual(['Accepted', 'Programmed']);
    await cluster.api.delete(mcpPath('MCPServerRegistration', 'mcp-test', 'sun'));
    const cleared = await waitFor(
      'the condition to go',
      () => cluster.api.get<RouteStatus>(routePath),
      (r) => !inUse(r),
    );
    expect(cleared?.status?.parents?.[0]?.conditions.map((c) => c.type)).toEqual(['Accepted']);
  });
});

/** A field of a server entry in the written config file, as the file spells it. */
async function writtenField(name: string, field: string): Promise<unknown> {
  const file = parse((await configText(cluster.api, 'mcp-system')) ?? 'servers: []') as {
    servers: Array<Record<string, unknown>>;
  };
  return file.servers.find((server) => server['name'] === name)?.[field];
}

const refusedWith = (message: string) => (error: unknown) =>
  error instanceof KubeApiError && error.status === 422 && error.message.includes(message);

describe('tool overrides', () => {
  const writtenOverrides = (name: string) => writtenField(name, 'toolOverrides');

  it('writes spec.toolOverrides into the config entry, refuses invalid ones, and drops them when removed', async () => {
    const toolOverrides = [
      {
        tool: 'create_issue',
        name: 'open_ticket',
        description: 'Opens a ticket in the team tracker.',
        descriptionSuffix: 'Ask before opening one.',
        fixedArguments: { owner: 'acme', labels: ['triage'] },
        annotations: { destructiveHint: true },
      },
      { tool: 'delete_repo', hidden: true },
    ];
    const star = (spec: Record<string, unknown>) => registration('mcp-test', 'star', 'star-route', spec);
    await cluster.apply(
      service('mcp-test', 'star', 8000),
      httpRoute('mcp-test', 'star-route', parent, { name: 'star', port: 8000 }, ['star.mcp.local']),
      star({ prefix: 'star_', toolOverrides }),
    );
    const written = await waitFor(
      'the overrides in the config',
      () => writtenOverrides('mcp-test/star'),
      (seen) => seen !== undefined,
    );
    expect(written).toEqual(toolOverrides);

    const hiddenRenamed = [{ tool: 'delete_repo', hidden: true, name: 'drop_repo' }];
    await expect(cluster.apply(star({ prefix: 'star_', toolOverrides: hiddenRenamed }))).rejects.toSatisfy(
      refusedWith('spec.toolOverrides[0]: Invalid value: a hidden tool is neither listed nor callable'),
    );
    const twice = [
      { tool: 'create_issue', name: 'open_ticket' },
      { tool: 'create_issue', hidden: true },
    ];
    await expect(cluster.apply(star({ prefix: 'star_', toolOverrides: twice }))).rejects.toSatisfy(
      refusedWith('spec.toolOverrides: Invalid value: tool "create_issue" is overridden more than once'),
    );
    expect(await writtenOverrides('mcp-test/star')).toEqual(toolOverrides);

    await cluster.apply(star({ prefix: 'star_' }));
    await waitFor(
      'the overrides to leave the config',
      () => configText(cluster.api, 'mcp-system'),
      (text) => text !== undefined && text.includes('mcp-test/star') && !text.includes('toolOverrides'),
    );
    await cluster.api.delete(mcpPath('MCPServerRegistration', 'mcp-test', 'star'));
    await waitConfigNames(cluster.api, 'mcp-system', []);
  });
});

describe('quotas', () => {
  it('writes spec.quotas into the config entry, refuses invalid ones, and drops them when removed', async () => {
    const quotas = [
      { tools: ['create_issue', 'delete_repo'], requests: 30, windowSeconds: 60 },
      { tools: ['search'], requests: 600, concurrentCalls: 8 },
      { concurrentCalls: 4 },
    ];
    const comet = (spec: Record<string, unknown>) => registration('mcp-test', 'comet', 'comet-route', spec);
    await cluster.apply(
      service('mcp-test', 'comet', 8000),
      httpRoute('mcp-test', 'comet-route', parent, { name: 'comet', port: 8000 }, ['comet.mcp.local']),
      comet({ prefix: 'comet_', quotas }),
    );
    const written = await waitFor(
      'the quotas in the config',
      () => writtenField('mcp-test/comet', 'quotas'),
      (seen) => seen !== undefined,
    );
    expect(written).toEqual(quotas);

    const overlapping = [
      { tools: ['search'], requests: 5 },
      { tools: ['search'], concurrentCalls: 1 },
    ];
    await expect(cluster.apply(comet({ prefix: 'comet_', quotas: overlapping }))).rejects.toSatisfy(
      refusedWith('spec.quotas: Invalid value: tool "search" is named more than once in quotas'),
    );
    await expect(
      cluster.apply(comet({ prefix: 'comet_', quotas: [{ tools: ['search'], windowSeconds: 10 }] })),
    ).rejects.toSatisfy(refusedWith('spec.quotas[0]: Invalid value: a quota limits something'));
    expect(await writtenField('mcp-test/comet', 'quotas')).toEqual(quotas);

    await cluster.apply(comet({ prefix: 'comet_' }));
    await waitFor(
      'the quotas to leave the config',
      () => configText(cluster.api, 'mcp-system'),
      (text) => text !== undefined && text.includes('mcp-test/comet') && !text.includes('quotas'),
    );
    await cluster.api.delete(mcpPath('MCPServerRegistration', 'mcp-test', 'comet'));
    await waitConfigNames(cluster.api, 'mcp-system', []);
  });
});

describe('seed 001: namespace strategies', () => {
  it('strategy 1: everything in one namespace', async () => {
    await cluster.apply(
      service('mcp-test', 'moon-service', 8081),
      httpRoute('mcp-test', 'moon-route', parent, { name: 'moon-service', port: 8081 }, ['moon.mcp.local']),
      registration('mcp-test', 'moon-mcp-server', 'moon-route', { prefix: 'moon_' }),
    );
    await waitConfigNames(cluster.api, 'mcp-system', ['mcp-test/moon-mcp-server']);
  });

  it('strategy 2: a namespace per server, the route attaching to the Gateway in mcp-system', async () => {
    await cluster.apply(
      service('quotes-server', 'quotes-service', 8082),
      httpRoute('quotes-server', 'quotes-route', parent, { name: 'quotes-service', port: 8082 }, ['quotes.mcp.local']),
      registration('quotes-server', 'quotes-mcp-server', 'quotes-route', { prefix: 'quotes_' }),
    );
    await waitConfigNames(cluster.api, 'mcp-system', ['mcp-test/moon-mcp-server', 'quotes-server/quotes-mcp-server']);
    const quotes = (await configServers(cluster.api, 'mcp-system'))?.find(
      (s) => s.name === 'quotes-server/quotes-mcp-server',
    );
    expect(quotes?.url).toBe('http://quotes-service.quotes-server.svc.cluster.local:8082/mcp');
  });

  it('strategy 3: routes in mcp-test, backends elsewhere, allowed by a ReferenceGrant', async () => {
    await cluster.apply(
      service('moon-server', 'moon-backend', 8081),
      httpRoute(
        'mcp-test',
        'moon-remote-route',
        parent,
        { name: 'moon-backend', namespace: 'moon-server', port: 8081 },
        ['moon-remote.mcp.local'],
      ),
      registration('mcp-test', 'moon-remote', 'moon-remote-route', { prefix: 'moonr_' }),
    );
    const waiting = await waitReason(cluster.api, 'MCPServerRegistration', 'mcp-test', 'moon-remote', 'NotReady');
    expect(waiting?.message).toContain('ReferenceGrant required in namespace moon-server');
    await cluster.apply({
      apiVersion: 'gateway.networking.k8s.io/v1beta1',
      kind: 'ReferenceGrant',
      metadata: { name: 'allow-mcp-test-httproutes', namespace: 'moon-server' },
      spec: {
        from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'mcp-test' }],
        to: [{ group: '', kind: 'Service' }],
      },
    });
    await waitReason(cluster.api, 'MCPServerRegistration', 'mcp-test', 'moon-remote', 'Ready');
    const remote = (await configServers(cluster.api, 'mcp-system'))?.find((s) => s.name === 'mcp-test/moon-remote');
    expect(remote?.url).toBe('http://moon-backend.moon-server.svc.cluster.local:8081/mcp');
  });

  it('reports a registration whose HTTPRoute is in another namespace as NotReady (not supported)', async () => {
    await cluster.apply(registration('moon-server', 'wrong-namespace', 'moon-route', { prefix: 'wrong_' }));
    const condition = await waitReason(
      cluster.api,
      'MCPServerRegistration',
      'moon-server',
      'wrong-namespace',
      'NotReady',
    );
    expect(condition?.message).toBe('HTTPRoute moon-server/moon-route not found');
  });
});
