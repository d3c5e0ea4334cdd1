import { describe, expect, it } from 'vitest';
import { indexState } from './cluster-state.ts';
import { validateExtensions, type ExtensionVerdict } from './extension-validation.ts';
import { extension, gateway, grant, listener, namespaceObject, secret, state } from './test-objects.ts';

const gw = () =>
  gateway('gateway-system', 'mcp-gateway', [
    listener('http', 8080, '*.example.com', { allowedRoutes: { namespaces: { from: 'All' } } }),
  ]);
const extGrant = (namespace: string) =>
  grant(
    'gateway-system',
    { group: 'mcp.kuadrant.io', kind: 'MCPGatewayExtension', namespace },
    { group: 'gateway.networking.k8s.io', kind: 'Gateway' },
  );
const verdicts = (parts: Parameters<typeof state>[0]) => validateExtensions(indexState(state(parts)));
const summary = (v: ExtensionVerdict | undefined) =>
  v === undefined
    ? undefined
    : v.valid
      ? { valid: true, publicHost: v.publicHost, privateHost: v.privateHost }
      : { reason: v.reason, message: v.message };

describe('validateExtensions', () => {
  it('accepts a cross-namespace target with a ReferenceGrant and derives both hosts', () => {
    const ext = extension('team-a', 'gw', { name: 'mcp-gateway', namespace: 'gateway-system', sectionName: 'http' });
    expect(
      summary(
        verdicts({ gateways: [gw()], extensions: [ext], referenceGrants: [extGrant('team-a')] }).get('team-a/gw'),
      ),
    ).toEqual({
      valid: true,
      publicHost: 'mcp.example.com',
      privateHost: 'mcp-gateway-istio.gateway-system.svc.cluster.local:8080',
    });
  });

  it('reports ReferenceGrantRequired naming the Gateway namespace until a grant exists', () => {
    const ext = extension('team-a', 'gw', { name: 'mcp-gateway', namespace: 'gateway-system', sectionName: 'http' });
    expect(summary(verdicts({ gateways: [gw()], extensions: [ext] }).get('team-a/gw'))).toEqual({
      reason: 'ReferenceGrantRequired',
      message: 'ReferenceGrant required in namespace gateway-system to allow cross-namespace reference',
    });
  });

  it('accepts the seed documents’ older ReferenceGrant group mcp.kagenti.com', () => {
    const ext = extension('team-a', 'gw', { name: 'mcp-gateway', namespace: 'gateway-system', sectionName: 'http' });
    const old = grant(
      'gateway-system',
      { group: 'mcp.kagenti.com', kind: 'MCPGatewayExtension', namespace: 'team-a' },
      { group: 'gateway.networking.k8s.io', kind: 'Gateway' },
    );
    expect(verdicts({ gateways: [gw()], extensions: [ext], referenceGrants: [old] }).get('team-a/gw')?.valid).toBe(
      true,
    );
  });

  it('serves one extension per namespace: the oldest wins and the other says which', () => {
    const first = extension('team-a', 'first', {
      name: 'mcp-gateway',
      namespace: 'gateway-system',
      sectionName: 'http',
    });
    const second = extension('team-a', 'second', {
      name: 'mcp-gateway',
      namespace: 'gateway-system',
      sectionName: 'http',
    });
    const result = verdicts({ gateways: [gw()], extensions: [second, first], referenceGrants: [extGrant('team-a')] });
    expect(result.get('team-a/first')?.valid).toBe(true);
    expect(summary(result.get('team-a/second'))).toMatchObject({
      reason: 'InvalidMCPGatewayExtension',
      message: expect.stringContaining('already has MCPGatewayExtension first'),
    });
  });

  it('serves one extension per Gateway listener port: the oldest wins', () => {
    const a = extension('team-a', 'gw', { name: 'mcp-gateway', namespace: 'gateway-system', sectionName: 'http' });
    const b = extension('team-b', 'gw', { name: 'mcp-gateway', namespace: 'gateway-system', sectionName: 'http' });
    const result = verdicts({
      gateways: [gw()],
      extensions: [b, a],
      referenceGrants: [extGrant('team-a'), extGrant('team-b')],
    });
    expect(result.get('team-a/gw')?.valid).toBe(true);
    expect(summary(result.get('team-b/gw'))).toMatchObject({
      reason: 'InvalidMCPGatewayExtension',
      message:
        'port 8080 of Gateway gateway-system/mcp-gateway is already served by MCPGatewayExtension team-a/gw, which is older',
    });
  });

  it('lets two teams use two listeners on different ports of one Gateway', () => {
    const shared = gateway('gateway-system', 'shared', [
      listener('team-a', 8080, 'a.example.com', { allowedRoutes: { namespaces: { from: 'All' } } }),
      listener('team-b', 8081, 'b.example.com', { allowedRoutes: { namespaces: { from: 'All' } } }),
    ]);
    const a = extension('team-a', 'gw', { name: 'shared', namespace: 'gateway-system', sectionName: 'team-a' });
    const b = extension('team-b', 'gw', { name: 'shared', namespace: 'gateway-system', sectionName: 'team-b' });
    const result = verdicts({
      gateways: [shared],
      extensions: [a, b],
      referenceGrants: [extGrant('team-a'), extGrant('team-b')],
    });
    expect([result.get('team-a/gw')?.valid, result.get('team-b/gw')?.valid]).toEqual([true, true]);
  });

  it('reports a missing Gateway and a missing listener by name', () => {
    const noGateway = extension('team-a', 'gw', { name: 'nope', sectionName: 'http' });
    const noListener = extension('gateway-system', 'gw', { name: 'mcp-gateway', sectionName: 'https' });
    const result = verdicts({ gateways: [gw()], extensions: [noGateway, noListener] });
    expect(summary(result.get('team-a/gw'))).toMatchObject({ message: 'Gateway team-a/nope not found' });
    expect(summary(result.get('gateway-system/gw'))).toMatchObject({
      message: 'listener https not found on Gateway gateway-system/mcp-gateway',
    });
  });

  it('refuses a namespace the listener does not admit (allowedRoutes Same by default)', () => {
    const same = gateway('gateway-system', 'mcp-gateway', [listener('http', 8080, '*.example.com')]);
    const ext = extension('team-a', 'gw', { name: 'mcp-gateway', namespace: 'gateway-system', sectionName: 'http' });
    expect(
      summary(
        verdicts({ gateways: [same], extensions: [ext], referenceGrants: [extGrant('team-a')] }).get('team-a/gw'),
      ),
    ).toMatchObject({
      reason: 'InvalidMCPGatewayExtension',
      message: expect.stringContaining(
        'does not allow routes from namespace team-a (allowedRoutes.namespaces.from: Same)',
      ),
    });
  });

  it('admits a namespace by the listener’s label selector', () => {
    const selective = gateway('gateway-system', 'mcp-gateway', [
      listener('http', 8080, '*.example.com', {
        allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { mcp: 'yes' } } } },
      }),
    ]);
    const ext = extension('team-a', 'gw', { name: 'mcp-gateway', namespace: 'gateway-system', sectionName: 'http' });
    const parts = { gateways: [selective], extensions: [ext], referenceGrants: [extGrant('team-a')] };
    expect(
      verdicts({ ...parts, namespaces: [namespaceObject('team-a', { mcp: 'yes' })] }).get('team-a/gw')?.valid,
    ).toBe(true);
    expect(verdicts({ ...parts, namespaces: [namespaceObject('team-a', { mcp: 'no' })] }).get('team-a/gw')?.valid).toBe(
      false,
    );
  });

  it('checks the session store Secret: present, labelled and holding CACHE_CONNECTION_STRING', () => {
    const ext = extension(
      'gateway-system',
      'gw',
      { name: 'mcp-gateway', sectionName: 'http' },
      { sessionStore: { secretName: 'redis' } },
    );
    expect(summary(verdicts({ gateways: [gw()], extensions: [ext] }).get('gateway-system/gw'))).toMatchObject({
      reason: 'SecretNotFound',
    });
    const empty = secret('gateway-system', 'redis', { OTHER: 'x' });
    expect(
      summary(verdicts({ gateways: [gw()], extensions: [ext], secrets: [empty] }).get('gateway-system/gw')),
    ).toMatchObject({
      reason: 'SecretInvalid',
    });
    const good = secret('gateway-system', 'redis', { CACHE_CONNECTION_STRING: 'redis://redis:6379' });
    expect(verdicts({ gateways: [gw()], extensions: [ext], secrets: [good] }).get('gateway-system/gw')?.valid).toBe(
      true,
    );
  });

  it('checks the credentialEncryption Secret: present, labelled, keys of at least 32 bytes each, naming no key', () => {
    const ext = extension(
      'gateway-system',
      'gw',
      { name: 'mcp-gateway', sectionName: 'http' },
      { credentialEncryption: { secretName: 'credential-keys' } },
    );
    const judge = (keys?: string) =>
      summary(
        verdicts({
          gateways: [gw()],
          extensions: [ext],
          secrets: keys === undefined ? [] : [secret('gateway-system', 'credential-keys', { keys })],
        }).get('gateway-system/gw'),
      );
    expect(judge()).toEqual({
      reason: 'SecretNotFound',
      message:
        'credentialEncryption: Secret gateway-system/credential-keys not found (it must carry the label mcp.kuadrant.io/secret=true)',
    });
    expect(judge(' , \n')).toEqual({
      reason: 'SecretInvalid',
      message: 'credentialEncryption: Secret gateway-system/credential-keys has no key keys',
    });
    const newest = 'n'.repeat(32);
    const short = 'short-and-secret';
    expect(judge(`${newest},\n${short}`)).toEqual({
      reason: 'SecretInvalid',
      message:
        'credentialEncryption: Secret gateway-system/credential-keys has a key shorter than 32 bytes in keys (number 2 of 2)',
    });
    // Bytes, not characters: 16 two-byte characters make a usable key.
    expect(judge(`${newest} ${'é'.repeat(16)}`)).toMatchObject({ valid: true });
  });

  it('leaves out extensions being deleted', () => {
    const ext = extension('gateway-system', 'gw', { name: 'mcp-gateway', sectionName: 'http' });
    const deleting = { ...ext, metadata: { ...ext.metadata, deletionTimestamp: '2026-01-02T00:00:00Z' } };
    expect(verdicts({ gateways: [gw()], extensions: [deleting] }).size).toBe(0);
  });
});
