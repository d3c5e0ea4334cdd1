import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { McpGatewayExtension, McpServerRegistration, Secret } from './api-types.ts';
import { planCluster } from './plan.ts';
import { extension, gateway, listener, registration, route, secret, service, state } from './test-objects.ts';

/** One gateway in mcp-test and one registration `tracker` whose route attaches to it. */
function planWith(
  spec: Partial<McpServerRegistration['spec']>,
  secrets: Secret[] = [],
  extensionSpec: Partial<McpGatewayExtension['spec']> = { urlElicitation: 'Enabled' },
) {
  return planCluster(
    state({
      gateways: [gateway('mcp-test', 'gw', [listener('http', 8080, '*.mcp.local')])],
      extensions: [extension('mcp-test', 'ext', { name: 'gw', sectionName: 'http' }, extensionSpec)],
      services: [service('mcp-test', 'tracker', [{ port: 8081 }])],
      httpRoutes: [route('mcp-test', 'tracker-route', { name: 'gw' }, { name: 'tracker', port: 8081 })],
      registrations: [registration('mcp-test', 'tracker', 'tracker-route', { prefix: 'tracker_', ...spec })],
      secrets,
    }),
  );
}

/** The only `servers[]` entry of the written config file, as a YAML mapping (the file's spelling). */
function fileServer(plan: ReturnType<typeof planWith>): Record<string, unknown> | undefined {
  return (parse(plan.configYaml('mcp-test') ?? '') as { servers: Record<string, unknown>[] }).servers[0];
}

const idpSecret = secret('mcp-test', 'idp-client', { clientSecret: 's3cret\n', other: 'another' });

describe("a registration's per-user credential method in its config entry", () => {
  it('writes tokenURLElicitation as {} for the built-in page and with the url of an external one', () => {
    expect(fileServer(planWith({ tokenURLElicitation: {} }))?.['tokenURLElicitation']).toEqual({});
    expect(
      fileServer(planWith({ tokenURLElicitation: { url: 'https://vault.example.com/ui' } }))?.['tokenURLElicitation'],
    ).toEqual({ url: 'https://vault.example.com/ui' });
    const plain = fileServer(planWith({}));
    expect(plain).not.toHaveProperty('tokenURLElicitation');
    expect(plain).not.toHaveProperty('tokenExchange');
    expect(plain).not.toHaveProperty('upstreamOAuth');
  });

  it("writes tokenExchange with the client secret's value read from its Secret (key clientSecret by default)", () => {
    const plan = planWith(
      {
        tokenExchange: {
          tokenEndpoint: 'https://idp.example/token',
          clientId: 'gateway',
          clientSecretRef: { name: 'idp-client' },
          audience: 'tracker',
          resource: 'https://tracker.example/mcp',
          scopes: ['tracker:read'],
        },
      },
      [idpSecret],
    );
    expect(fileServer(plan)?.['tokenExchange']).toEqual({
      tokenEndpoint: 'https://idp.example/token',
      clientId: 'gateway',
      clientSecret: 's3cret\n',
      audience: 'tracker',
      resource: 'https://tracker.example/mcp',
      scopes: ['tracker:read'],
    });
    const byIssuer = planWith(
      {
        tokenExchange: {
          issuer: 'https://idp.example',
          clientId: 'gateway',
          clientSecretRef: { name: 'idp-client', key: 'other' },
          scopes: [],
        },
      },
      [idpSecret],
    );
    expect(fileServer(byIssuer)?.['tokenExchange']).toEqual({
      issuer: 'https://idp.example',
      clientId: 'gateway',
      clientSecret: 'another',
    });
  });

  it('writes upstreamOAuth with or without a client (dynamic registration), its secret read', () => {
    const withClient = planWith(
      { upstreamOAuth: { clientId: 'mcp-gateway', clientSecretRef: { name: 'idp-client' }, scopes: ['repo'] } },
      [idpSecret],
    );
    expect(fileServer(withClient)?.['upstreamOAuth']).toEqual({
      clientId: 'mcp-gateway',
      clientSecret: 's3cret\n',
      scopes: ['repo'],
    });
    expect(fileServer(planWith({ upstreamOAuth: {} }))?.['upstreamOAuth']).toEqual({});
  });

  it('leaves a server whose client Secret is missing, lacks the key or holds a blank one out, NotReady naming the Secret and not a value', () => {
    const exchange = {
      tokenExchange: { issuer: 'https://idp.example', clientId: 'gateway', clientSecretRef: { name: 'idp-client' } },
    };
    const missing = planWith(exchange);
    expect(missing.registrations.get('mcp-test/tracker')?.condition).toMatchObject({
      status: 'False',
      reason: 'NotReady',
      message:
        'tokenExchange.clientSecretRef: Secret mcp-test/idp-client not found (it must carry the label mcp.kuadrant.io/secret=true)',
    });
    expect(fileServer(missing)).toBeUndefined();
    const noKey = planWith({ upstreamOAuth: { clientSecretRef: { name: 'idp-client', key: 'absent' } } }, [idpSecret]);
    expect(noKey.registrations.get('mcp-test/tracker')?.condition.message).toBe(
      'upstreamOAuth.clientSecretRef: Secret mcp-test/idp-client has no key absent',
    );
    const blank = planWith(exchange, [secret('mcp-test', 'idp-client', { clientSecret: ' \n' })]);
    expect(blank.registrations.get('mcp-test/tracker')?.condition.message).toBe(
      'tokenExchange.clientSecretRef: key clientSecret of Secret mcp-test/idp-client is blank',
    );
    const ready = planWith(exchange, [idpSecret]).registrations.get('mcp-test/tracker')?.condition;
    expect(ready).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(JSON.stringify(ready)).not.toContain('s3cret');
  });

  it('says on Ready where tokenURLElicitation has no effect: a gateway without urlElicitation Enabled', () => {
    const off = planWith({ tokenURLElicitation: {} }, [], {});
    expect(off.registrations.get('mcp-test/tracker')?.condition).toMatchObject({
      status: 'True',
      message:
        'config written to the gateway in namespace mcp-test; tokenURLElicitation has no effect in the gateway of namespace mcp-test: its MCPGatewayExtension does not set urlElicitation: Enabled',
    });
    expect(planWith({ tokenURLElicitation: {} }).registrations.get('mcp-test/tracker')?.condition.message).toBe(
      'config written to the gateway in namespace mcp-test',
    );
  });

  it('says on Ready where upstreamOAuth cannot complete a login: a gateway whose /tokens pages are not routed', () => {
    const off = planWith({ upstreamOAuth: {} }, [], {});
    expect(off.registrations.get('mcp-test/tracker')?.condition.message).toBe(
      'config written to the gateway in namespace mcp-test; upstreamOAuth cannot complete a login in the gateway of namespace mcp-test, whose /tokens pages are not routed: its MCPGatewayExtension does not set urlElicitation: Enabled',
    );
    expect(planWith({ upstreamOAuth: {} }).registrations.get('mcp-test/tracker')?.condition.message).toBe(
      'config written to the gateway in namespace mcp-test',
    );
    expect(planWith({}, [], {}).registrations.get('mcp-test/tracker')?.condition.message).toBe(
      'config written to the gateway in namespace mcp-test',
    );
  });
});
