// The access sections of an extension's config (token verification, policy, audit) and virtual
// servers against a real API server: what reaches the config Secret, what is held back, and
// that an anchor manifest without the new fields is served as before.
import { isDeepStrictEqual } from 'node:util';
import { parseConfig } from '@mcp-gateway/core';
import { objectPath, type KubeObject } from '@mcp-gateway/controller';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  configText,
  extension,
  extensionGrant,
  gateway,
  httpRoute,
  markDeploymentReady,
  ns,
  registration,
  service,
  startTestCluster,
  waitConfigNames,
  waitFor,
  waitReason,
  type TestCluster,
} from './cluster.ts';

let cluster: TestCluster;
const all = { namespaces: { from: 'All' } };
const target = (sectionName: string) => ({ name: 'mcp-gateway', namespace: 'mcp-system', sectionName });
const AUTH_SERVER = 'https://auth.example.com/realms/mcp';
const extPath = (namespace: string) => objectPath('mcp.kuadrant.io/v1', 'MCPGatewayExtension', namespace, 'ext');

type Deployment = KubeObject & {
  spec: {
    template: {
      metadata: { annotations?: Record<string, string> };
      spec: { containers: Array<{ args: string[]; env?: Array<{ name: string }> }> };
    };
  };
};

async function configFile(namespace: string): Promise<Record<string, unknown>> {
  return parse((await configText(cluster.api, namespace)) ?? '') as Record<string, unknown>;
}

function virtualServer(namespace: string, name: string, tools: string[]) {
  return {
    apiVersion: 'mcp.kuadrant.io/v1',
    kind: 'MCPVirtualServer',
    metadata: { namespace, name },
    spec: { tools },
  };
}

beforeAll(async () => {
  cluster = await startTestCluster();
  cluster.startReplica();
  const listener = (name: string, port: number) => ({
    name,
    port,
    protocol: 'HTTP',
    hostname: `*.${name}.mcp.local`,
    allowedRoutes: all,
  });
  await cluster.apply(
    ns('mcp-system'),
    ns('anchor'),
    ns('tokens'),
    ns('policy'),
    ns('views'),
    gateway('mcp-system', 'mcp-gateway', [
      listener('anchor', 8080),
      listener('tokens', 8081),
      listener('policy', 8082),
    ]),
    extensionGrant('mcp-system', 'anchor'),
    extensionGrant('mcp-system', 'tokens'),
    extensionGrant('mcp-system', 'policy'),
  );
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('an anchor manifest without the new fields', () => {
  it('is served as before: a config of servers and virtual servers only, no key variable, Ready', async () => {
    // The anchor's v1 fields only, as its manifests set them.
    await cluster.apply(
      extension('anchor', 'ext', target('anchor'), {
        publicHost: 'mcp.anchor.mcp.local',
        backendPingIntervalSeconds: 30,
        httpRouteManagement: 'Enabled',
        oauthProtectedResource: { authorizationServers: [AUTH_SERVER], scopesSupported: ['basic'] },
      }),
      service('anchor', 'server', 9090),
      httpRoute('anchor', 'server-route', target('anchor'), { name: 'server', port: 9090 }, ['s.anchor.mcp.local']),
      registration('anchor', 'server', 'server-route', { prefix: 's_' }),
    );
    await waitConfigNames(cluster.api, 'anchor', ['anchor/server']);
    expect(Object.keys(await configFile('anchor'))).toEqual(['servers', 'virtualServers']);
    const deployment = await waitFor(
      'the gateway Deployment',
      () => cluster.api.get<Deployment>(objectPath('apps/v1', 'Deployment', 'anchor', 'mcp-gateway')),
      (d) => d !== undefined,
    );
    expect(deployment?.spec.template.spec.containers[0]?.env?.map((e) => e.name)).toEqual([
      'GATEWAY_SIGNING_KEY',
      'OAUTH_RESOURCE_NAME',
      'OAUTH_RESOURCE',
      'OAUTH_AUTHORIZATION_SERVERS',
      'OAUTH_BEARER_METHODS_SUPPORTED',
      'OAUTH_SCOPES_SUPPORTED',
    ]);
    expect(deployment?.spec.template.metadata.annotations).toBeUndefined();
    await markDeploymentReady(cluster.api, 'anchor');
    await waitReason(cluster.api, 'MCPGatewayExtension', 'anchor', 'ext', 'ValidMCPGatewayExtension');
  });
});

describe('token verification and audit', () => {
  it('defaults the issuers and audience from oauthProtectedResource, in a config the gateway accepts', async () => {
    await cluster.apply(
      extension('tokens', 'ext', target('tokens'), {
        oauthProtectedResource: { authorizationServers: [AUTH_SERVER] },
        tokenVerification: { requiredScopes: ['mcp:tools'] },
        audit: { arguments: 'hash' },
      }),
    );
    const text = await waitFor(
      'the auth section',
      () => configText(cluster.api, 'tokens'),
      (t) => t?.includes('auth:') === true,
    );
    const file = parse(text ?? '') as Record<string, unknown>;
    expect(file['auth']).toEqual({
      oauth: { issuers: [AUTH_SERVER], audience: 'https://mcp.tokens.mcp.local/mcp', requiredScopes: ['mcp:tools'] },
    });
    expect(file['audit']).toEqual({ arguments: 'hash' });
    const parsed = parseConfig(text ?? '', 'tokens/mcp-gateway-config');
    expect(parsed.ok && parsed.config.auth?.oauth).toEqual({
      issuers: [{ issuer: AUTH_SERVER }],
      audience: 'https://mcp.tokens.mcp.local/mcp',
      requiredScopes: ['mcp:tools'],
    });
  });
});

describe('policy', () => {
  const goodPolicy = {
    default: 'deny',
    rules: [
      { name: 'readers', effect: 'allow', servers: ['policy/*'], tools: ['get_*'], when: 'auth.verified' },
      { name: 'no-delete', effect: 'deny', tools: ['delete_*'] },
    ],
  };
  let goodText = '';

  it('reaches the config Secret exactly as the extension writes it', async () => {
    await cluster.apply(extension('policy', 'ext', target('policy'), { policy: goodPolicy }));
    goodText =
      (await waitFor(
        'the policy section',
        () => configText(cluster.api, 'policy'),
        (t) => t?.includes('policy:') === true,
      )) ?? '';
    expect((parse(goodText) as Record<string, unknown>)['policy']).toEqual(goodPolicy);
    await markDeploymentReady(cluster.api, 'policy');
    await waitReason(cluster.api, 'MCPGatewayExtension', 'policy', 'ext', 'ValidMCPGatewayExtension');
  });

  it('with a bad rule is not written: the last good config stays, Ready says InvalidPolicy, the rest is applied', async () => {
    const duplicate = { ...goodPolicy, rules: [...goodPolicy.rules, { name: 'readers', effect: 'deny' }] };
    await cluster.api.mergePatch(extPath('policy'), { spec: { policy: duplicate, logLevel: 'debug' } });
    const condition = await waitReason(cluster.api, 'MCPGatewayExtension', 'policy', 'ext', 'InvalidPolicy');
    expect(condition).toMatchObject({ status: 'False', observedGeneration: 2 });
    expect(condition?.message).toBe(
      'the policy was not written (the gateway keeps its last good config): spec.policy.rules[2].name: "readers" is already used by spec.policy.rules[0]',
    );
    // The Deployment still follows the spec (its log level) while the config stays as it was.
    await waitFor(
      'the new log level on the gateway',
      async () =>
        (await cluster.api.get<Deployment>(objectPath('apps/v1', 'Deployment', 'policy', 'mcp-gateway')))?.spec.template
          .spec.containers[0]?.args,
      (args) => args?.includes('--log-level=debug') === true,
    );
    expect(await configText(cluster.api, 'policy')).toBe(goodText);
  });

  it('once fixed, is written and the extension is Ready again', async () => {
    const rules = [{ name: 'only-reads', effect: 'allow', tools: ['get_*'] }];
    await cluster.api.mergePatch(extPath('policy'), { spec: { policy: { rules } } });
    await waitFor(
      'the fixed policy in the config',
      async () => (await configFile('policy'))['policy'],
      (policy) => isDeepStrictEqual(policy, { default: 'deny', rules }),
    );
    await waitReason(cluster.api, 'MCPGatewayExtension', 'policy', 'ext', 'ValidMCPGatewayExtension');
  });
});

describe('virtual servers', () => {
  const names = async (namespace: string) =>
    ((await configFile(namespace))['virtualServers'] as Array<{ name: string }>).map((v) => v.name);

  it('go into the config of their own namespace’s extension only, and say so in their status', async () => {
    await cluster.apply(virtualServer('tokens', 'readers', ['x_get']));
    await waitFor(
      'the virtual server in the tokens config',
      () => names('tokens'),
      (list) => list.includes('tokens/readers'),
    );
    expect(await names('policy')).toEqual([]);
    expect(await names('anchor')).toEqual([]);
    const ready = await waitReason(cluster.api, 'MCPVirtualServer', 'tokens', 'readers', 'Ready');
    expect(ready).toMatchObject({
      status: 'True',
      observedGeneration: 1,
      message: 'in the config of the gateway in namespace tokens (the extension of its own namespace)',
    });
  });

  it('kept in a namespace of their own go into every config, as the anchor writes them', async () => {
    await cluster.apply(virtualServer('views', 'shared', ['s_x']));
    for (const namespace of ['anchor', 'tokens', 'policy']) {
      await waitFor(
        `the shared view in ${namespace}`,
        () => names(namespace),
        (list) => list.includes('views/shared'),
      );
    }
    const ready = await waitReason(cluster.api, 'MCPVirtualServer', 'views', 'shared', 'Ready');
    expect(ready?.message).toContain('namespace anchor, policy, tokens (every gateway');
  });
});
