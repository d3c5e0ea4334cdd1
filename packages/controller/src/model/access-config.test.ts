import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { McpGatewayExtension } from './api-types.ts';
import { planCluster } from './plan.ts';
import { extension, gateway, listener, state } from './test-objects.ts';

/** One Gateway listener on *.mcp.local (public host mcp.mcp.local) and an extension with `spec`. */
function planFor(spec: Partial<McpGatewayExtension['spec']>) {
  return planCluster(
    state({
      gateways: [gateway('mcp-system', 'gw', [listener('http', 8080, '*.mcp.local')])],
      extensions: [extension('mcp-system', 'ext', { name: 'gw', sectionName: 'http' }, spec)],
    }),
  );
}

function file(spec: Partial<McpGatewayExtension['spec']>): Record<string, unknown> {
  const plan = planFor(spec);
  expect(plan.configProblem('mcp-system')).toBeUndefined();
  return parse(plan.configYaml('mcp-system') ?? '') as Record<string, unknown>;
}

const AUTH_SERVER = 'https://auth.example.com/realms/mcp';

describe('the access sections of an extension’s config', () => {
  it('writes none for an extension that sets none of the new fields (the anchor’s config)', () => {
    expect(Object.keys(file({}))).toEqual(['servers', 'virtualServers']);
  });

  it('defaults the issuers and the audience of tokenVerification from oauthProtectedResource', () => {
    expect(
      file({ oauthProtectedResource: { authorizationServers: [AUTH_SERVER] }, tokenVerification: {} })['auth'],
    ).toEqual({ oauth: { issuers: [AUTH_SERVER], audience: 'https://mcp.mcp.local/mcp' } });
    expect(
      file({
        oauthProtectedResource: { authorizationServers: [AUTH_SERVER], resource: 'https://api.example.com/mcp' },
        tokenVerification: { requiredScopes: ['mcp:tools'] },
      })['auth'],
    ).toEqual({
      oauth: { issuers: [AUTH_SERVER], audience: 'https://api.example.com/mcp', requiredScopes: ['mcp:tools'] },
    });
  });

  it('writes the issuers and audience tokenVerification names over the defaults', () => {
    expect(
      file({
        oauthProtectedResource: { authorizationServers: [AUTH_SERVER] },
        tokenVerification: { issuers: ['https://idp.example.org'], audience: 'https://mcp.example.org/mcp' },
      })['auth'],
    ).toEqual({ oauth: { issuers: ['https://idp.example.org'], audience: 'https://mcp.example.org/mcp' } });
  });

  it('turns on the trusted header with the key, and writes enforceCapabilityFiltering', () => {
    expect(file({ trustedHeadersKey: { secretName: 'k' } })['auth']).toEqual({
      trustedHeaders: { enforceCapabilityFiltering: false },
    });
    expect(
      file({ trustedHeadersKey: { secretName: 'k', generate: 'Enabled' }, enforceCapabilityFiltering: true })['auth'],
    ).toEqual({ trustedHeaders: { enforceCapabilityFiltering: true } });
  });

  it('writes the policy, the audit and the confirmation options exactly as the extension has them', () => {
    const policy = {
      default: 'deny',
      rules: [
        { name: 'readers', effect: 'allow', servers: ['team-a/*'], tools: ['get_*'], when: 'auth.verified' },
        { name: 'no-delete', effect: 'deny', tools: ['delete_*'] },
        { name: 'confirm-prod', effect: 'confirm', tools: ['write_*'], when: 'mcp.arguments.path.startsWith("/prod")' },
      ],
    };
    const written = file({ policy, audit: { arguments: 'values' }, confirmation: { timeoutSeconds: 300 } });
    expect(written['policy']).toEqual(policy);
    expect(written['audit']).toEqual({ arguments: 'values' });
    expect(written['confirmation']).toEqual({ timeoutSeconds: 300 });
  });
});

describe('a config the gateway would refuse', () => {
  it('is not rendered, and the problem names the spec field: InvalidPolicy for a duplicate rule name', () => {
    const plan = planFor({
      policy: {
        rules: [
          { name: 'a', effect: 'allow' },
          { name: 'a', effect: 'deny' },
        ],
      },
    });
    expect(plan.configYaml('mcp-system')).toBeUndefined();
    expect(plan.configProblem('mcp-system')).toEqual({
      reason: 'InvalidPolicy',
      message:
        'the policy was not written (the gateway keeps its last good config): spec.policy.rules[1].name: "a" is already used by spec.policy.rules[0]',
    });
  });

  it('names a wrong effect by its spec path', () => {
    const plan = planFor({ policy: { rules: [{ name: 'a', effect: 'permit' }] } });
    expect(plan.configProblem('mcp-system')?.message).toContain(
      'spec.policy.rules[0].effect: must be allow, deny or confirm (got "permit")',
    );
  });

  it('is InvalidConfig naming oauthProtectedResource when the issuers defaulted from there repeat one', () => {
    const plan = planFor({
      oauthProtectedResource: { authorizationServers: [AUTH_SERVER, AUTH_SERVER] },
      tokenVerification: {},
    });
    expect(plan.configProblem('mcp-system')).toEqual({
      reason: 'InvalidConfig',
      message: `the config was not written (the gateway keeps its last good config): spec.oauthProtectedResource.authorizationServers[1]: "${AUTH_SERVER}" is listed twice`,
    });
  });

  it('quotes at most eight issues', () => {
    const rules = Array.from({ length: 12 }, () => ({ name: 'same', effect: 'allow' }));
    const message = planFor({ policy: { rules } }).configProblem('mcp-system')?.message ?? '';
    expect(message.split('; ')).toHaveLength(9);
    expect(message).toMatch(/; and 3 more$/);
  });
});
