import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { McpGatewayExtension, Secret } from './api-types.ts';
import { planCluster } from './plan.ts';
import { extension, gateway, listener, secret, state } from './test-objects.ts';

/** One gateway in mcp-test whose extension sets `spec` (no servers: the section is the extension's). */
function planWith(spec: Partial<McpGatewayExtension['spec']>, secrets: Secret[] = []) {
  return planCluster(
    state({
      gateways: [gateway('mcp-test', 'gw', [listener('http', 8080, '*.mcp.local')])],
      extensions: [extension('mcp-test', 'ext', { name: 'gw', sectionName: 'http' }, spec)],
      secrets,
    }),
  );
}

/** The `credentials` section of the written config file, in the file's spelling. */
function fileCredentials(plan: ReturnType<typeof planWith>): unknown {
  return (parse(plan.configYaml('mcp-test') ?? '{}') as Record<string, unknown>)['credentials'];
}

function verdictOf(plan: ReturnType<typeof planWith>) {
  return plan.extensions.get('mcp-test/ext');
}

const loginSecret = secret('mcp-test', 'login-client', { clientSecret: 'login-s3cret', other: 'another' });

describe("an extension's userCredentials in its config's credentials section", () => {
  it("writes the login with the client secret's value read from its Secret, its scopes and the pasted token TTL", () => {
    const plan = planWith(
      {
        userCredentials: {
          login: {
            issuer: 'https://idp.example.com/realms/mcp',
            clientId: 'mcp-gateway-web',
            clientSecretRef: { name: 'login-client' },
            scopes: ['openid', 'profile'],
          },
          pastedTokenTtlSeconds: 3600,
        },
      },
      [loginSecret],
    );
    expect(fileCredentials(plan)).toEqual({
      login: {
        issuer: 'https://idp.example.com/realms/mcp',
        clientId: 'mcp-gateway-web',
        clientSecret: 'login-s3cret',
        scopes: ['openid', 'profile'],
      },
      pastedTokenTtlSeconds: 3600,
    });
    const otherKey = planWith(
      { userCredentials: { login: { clientId: 'web', clientSecretRef: { name: 'login-client', key: 'other' } } } },
      [loginSecret],
    );
    expect(fileCredentials(otherKey)).toEqual({ login: { clientId: 'web', clientSecret: 'another' } });
  });

  it("leaves out what the extension leaves out, so the gateway's defaults apply", () => {
    expect(fileCredentials(planWith({ userCredentials: { login: { clientId: 'web', scopes: [] } } }))).toEqual({
      login: { clientId: 'web' },
    });
    expect(fileCredentials(planWith({ userCredentials: { pastedTokenTtlSeconds: 60 } }))).toEqual({
      pastedTokenTtlSeconds: 60,
    });
    expect(fileCredentials(planWith({ userCredentials: {} }))).toEqual({});
    expect(planWith({}).configYaml('mcp-test')).not.toContain('credentials');
  });

  it('says SecretNotFound or SecretInvalid on Ready for a missing Secret, a missing key or a blank value, naming no value', () => {
    const login = { userCredentials: { login: { clientId: 'web', clientSecretRef: { name: 'login-client' } } } };
    expect(verdictOf(planWith(login))).toMatchObject({
      valid: false,
      reason: 'SecretNotFound',
      message:
        'userCredentials.login.clientSecretRef: Secret mcp-test/login-client not found (it must carry the label mcp.kuadrant.io/secret=true)',
    });
    expect(verdictOf(planWith(login, [secret('mcp-test', 'login-client', { other: 'login-s3cret' })]))).toMatchObject({
      valid: false,
      reason: 'SecretInvalid',
      message: 'userCredentials.login.clientSecretRef: Secret mcp-test/login-client has no key clientSecret',
    });
    const blank = verdictOf(planWith(login, [secret('mcp-test', 'login-client', { clientSecret: ' \n' })]));
    expect(blank).toMatchObject({
      valid: false,
      reason: 'SecretInvalid',
      message: 'userCredentials.login.clientSecretRef: key clientSecret of Secret mcp-test/login-client is blank',
    });
    const valid = verdictOf(planWith(login, [loginSecret]));
    expect(valid).toMatchObject({ valid: true });
  });

  it('names the spec field of an issue the gateway finds, and writes no config', () => {
    const plan = planWith({ userCredentials: { pastedTokenTtlSeconds: 10 } });
    expect(plan.configYaml('mcp-test')).toBeUndefined();
    expect(plan.configProblem('mcp-test')).toEqual({
      reason: 'InvalidConfig',
      message:
        'the config was not written (the gateway keeps its last good config): spec.userCredentials.pastedTokenTtlSeconds: must be at least 60 (got 10)',
    });
  });
});
