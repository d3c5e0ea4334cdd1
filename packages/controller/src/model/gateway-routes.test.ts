import { describe, expect, it } from 'vitest';
import { indexState } from './cluster-state.ts';
import { validateExtensions, type ValidExtension } from './extension-validation.ts';
import { gatewayRoute, tokensRoute } from './gateway-routes.ts';
import { extension, gateway, listener, state } from './test-objects.ts';

function valid(spec = {}): ValidExtension {
  const gw = gateway('gateway-system', 'mcp-gateway', [listener('web', 8443, '*.example.com')]);
  const ext = extension('gateway-system', 'ext', { name: 'mcp-gateway', sectionName: 'web' }, spec);
  const verdict = validateExtensions(indexState(state({ gateways: [gw], extensions: [ext] }))).get(
    'gateway-system/ext',
  );
  if (!verdict?.valid) throw new Error('fixture extension is not valid');
  return verdict;
}

type Route = {
  metadata: { name: string; namespace: string; ownerReferences: unknown[] };
  spec: {
    hostnames: string[];
    parentRefs: unknown[];
    rules: Array<{ name: string; matches: unknown[]; backendRefs: unknown[] }>;
  };
};

describe('gateway routes', () => {
  it('routes the public host’s /mcp, OAuth metadata and /status to the gateway Service', () => {
    const r = gatewayRoute(valid()) as unknown as Route;
    expect(r.spec.hostnames).toEqual(['mcp.example.com']);
    expect(r.spec.parentRefs).toEqual([
      {
        group: 'gateway.networking.k8s.io',
        kind: 'Gateway',
        name: 'mcp-gateway',
        namespace: 'gateway-system',
        sectionName: 'web',
      },
    ]);
    expect(r.spec.rules.map((rule) => rule.name)).toEqual(['mcp', 'well-known', 'status']);
  });

  it('routes the public host’s /tokens to the gateway Service on the same listener, owned by the extension', () => {
    const main = gatewayRoute(valid({ urlElicitation: 'Enabled' })) as unknown as Route;
    const tokens = tokensRoute(valid({ urlElicitation: 'Enabled' })) as unknown as Route;
    expect(tokens.metadata).toMatchObject({ name: 'mcp-gateway-tokens-route', namespace: 'gateway-system' });
    expect(tokens.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'MCPGatewayExtension', name: 'ext' }),
    ]);
    expect(tokens.spec.parentRefs).toEqual(main.spec.parentRefs);
    expect(tokens.spec.hostnames).toEqual(['mcp.example.com']);
    expect(tokens.spec.rules).toEqual([
      {
        name: 'tokens',
        matches: [{ path: { type: 'PathPrefix', value: '/tokens' } }],
        backendRefs: [{ name: 'mcp-gateway', port: 8080 }],
      },
    ]);
  });
});
