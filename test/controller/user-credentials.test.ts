// Issue 15 on a real API server: MCPGatewayExtension urlElicitation (the gateway flag and the
// /tokens HTTPRoute), credentialEncryption (the keys' env var) and userCredentials (the config's
// credentials section with the login's client secret), and a registration's per-user credential
// method in the config Secret with its client secret's value.
import { KubeApiError, objectPath, type KubeObject } from '@mcp-gateway/controller';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  configText,
  extension,
  gateway,
  httpRoute,
  ns,
  readyOf,
  registration,
  service,
  startTestCluster,
  waitFor,
  waitReason,
  type TestCluster,
} from './cluster.ts';

let cluster: TestCluster;
const target = { name: 'mcp-gateway', sectionName: 'http' };
const parent = { name: 'mcp-gateway', namespace: 'mcp-system' };

type Deployment = KubeObject & {
  spec: {
    template: {
      metadata: { annotations?: Record<string, string> };
      spec: { containers: Array<{ args: string[]; env?: Array<{ name: string; valueFrom?: unknown }> }> };
    };
  };
};
type Route = KubeObject & {
  spec: { parentRefs: unknown[]; hostnames: string[]; rules: Array<Record<string, unknown>> };
};

const deployment = () => cluster.api.get<Deployment>(objectPath('apps/v1', 'Deployment', 'mcp-system', 'mcp-gateway'));
const args = async () => (await deployment())?.spec.template.spec.containers[0]?.args ?? [];
const routeOf = (name: string) =>
  cluster.api.get<Route>(objectPath('gateway.networking.k8s.io/v1', 'HTTPRoute', 'mcp-system', name));

/** A Secret the controller may read (labelled mcp.kuadrant.io/secret=true). */
function labelledSecret(namespace: string, name: string, stringData: Record<string, string>) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { namespace, name, labels: { 'mcp.kuadrant.io/secret': 'true' } },
    stringData,
  };
}

const theExtension = (spec: Record<string, unknown>) => extension('mcp-system', 'mcp-gateway', target, spec);

beforeAll(async () => {
  cluster = await startTestCluster();
  cluster.startReplica();
  await cluster.apply(
    ns('mcp-system'),
    ns('mcp-test'),
    gateway('mcp-system', 'mcp-gateway', [
      {
        name: 'http',
        port: 8080,
        protocol: 'HTTP',
        hostname: '*.mcp.local',
        allowedRoutes: { namespaces: { from: 'All' } },
      },
    ]),
    theExtension({}),
  );
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('urlElicitation', () => {
  it('passes --enable-url-elicitation and routes /tokens on the public host to the gateway while Enabled', async () => {
    await cluster.apply(theExtension({ urlElicitation: 'Enabled' }));
    await waitFor('the flag on the gateway', args, (seen) => seen.includes('--enable-url-elicitation'));
    const tokens = await waitFor(
      'the tokens route',
      () => routeOf('mcp-gateway-tokens-route'),
      (r) => r !== undefined,
    );
    const main = await routeOf('mcp-gateway-route');
    expect(tokens?.spec.parentRefs).toEqual(main?.spec.parentRefs);
    expect(tokens?.spec.hostnames).toEqual(['mcp.mcp.local']);
    expect(tokens?.spec.rules).toEqual([
      expect.objectContaining({
        name: 'tokens',
        matches: [{ path: { type: 'PathPrefix', value: '/tokens' } }],
        backendRefs: [expect.objectContaining({ name: 'mcp-gateway', port: 8080 })],
      }),
    ]);
  });

  it('removes the flag and deletes the tokens route once Disabled, keeping the main route', async () => {
    await cluster.apply(theExtension({ urlElicitation: 'Disabled' }));
    await waitFor('the flag gone', args, (seen) => seen.length > 0 && !seen.includes('--enable-url-elicitation'));
    await waitFor(
      'the tokens route deleted',
      () => routeOf('mcp-gateway-tokens-route'),
      (r) => r === undefined,
    );
    expect(await routeOf('mcp-gateway-route')).toBeDefined();
  });
});

describe('credentialEncryption', () => {
  const keysEnv = async () =>
    (await deployment())?.spec.template.spec.containers[0]?.env?.find((e) => e.name === 'CREDENTIAL_ENCRYPTION_KEYS');
  const keysAnnotation = async () =>
    (await deployment())?.spec.template.metadata.annotations?.['mcp.kuadrant.io/credential-encryption-keys'];

  it("refuses a Secret with a short key on Ready without naming a key, then gives the gateway CREDENTIAL_ENCRYPTION_KEYS from the Secret's key keys", async () => {
    const short = 'too-short-to-seal';
    await cluster.apply(
      labelledSecret('mcp-system', 'credential-keys', { keys: `${'n'.repeat(40)}, ${short}` }),
      theExtension({ credentialEncryption: { secretName: 'credential-keys' } }),
    );
    const refused = await waitReason(cluster.api, 'MCPGatewayExtension', 'mcp-system', 'mcp-gateway', 'SecretInvalid');
    expect(refused?.message).toBe(
      'credentialEncryption: Secret mcp-system/credential-keys has a key shorter than 32 bytes in keys (number 2 of 2)',
    );
    expect(JSON.stringify(refused)).not.toContain(short);

    await cluster.apply(
      labelledSecret('mcp-system', 'credential-keys', { keys: `${'n'.repeat(40)}, ${'o'.repeat(40)}` }),
    );
    const env = await waitFor('the keys env var', keysEnv, (e) => e !== undefined);
    expect(env).toEqual({
      name: 'CREDENTIAL_ENCRYPTION_KEYS',
      valueFrom: { secretKeyRef: { name: 'credential-keys', key: 'keys' } },
    });
    const deployed = JSON.stringify(await deployment());
    expect(deployed).not.toContain('n'.repeat(40));
    const first = await waitFor('the keys annotation', keysAnnotation, (a) => a !== undefined);

    // A rotation (a new key in front) rolls the pods: the annotation changes with the Secret.
    await cluster.apply(
      labelledSecret('mcp-system', 'credential-keys', { keys: `${'r'.repeat(40)} ${'n'.repeat(40)}` }),
    );
    await waitFor('a new keys annotation', keysAnnotation, (a) => a !== undefined && a !== first);
  });
});

describe('userCredentials', () => {
  const credentials = async () =>
    (parse((await configText(cluster.api, 'mcp-system')) ?? '{}') as Record<string, unknown> | null)?.['credentials'];
  const login = (clientSecretRef?: Record<string, string>) =>
    theExtension({
      userCredentials: {
        login: {
          issuer: 'https://idp.example.com/realms/mcp',
          clientId: 'mcp-gateway-web',
          ...(clientSecretRef !== undefined ? { clientSecretRef } : {}),
        },
        pastedTokenTtlSeconds: 3600,
      },
    });

  it("says SecretNotFound on Ready while the login's client Secret is missing, then writes the login with the secret's value into the config, never into status", async () => {
    await cluster.apply(login({ name: 'login-client' }));
    const missing = await waitReason(cluster.api, 'MCPGatewayExtension', 'mcp-system', 'mcp-gateway', 'SecretNotFound');
    expect(missing?.message).toBe(
      'userCredentials.login.clientSecretRef: Secret mcp-system/login-client not found (it must carry the label mcp.kuadrant.io/secret=true)',
    );

    await cluster.apply(labelledSecret('mcp-system', 'login-client', { clientSecret: 'login-s3cret' }));
    const written = await waitFor('the credentials section', credentials, (c) => c !== undefined);
    expect(written).toEqual({
      login: {
        issuer: 'https://idp.example.com/realms/mcp',
        clientId: 'mcp-gateway-web',
        clientSecret: 'login-s3cret',
      },
      pastedTokenTtlSeconds: 3600,
    });
    const stored = await cluster.api.get(
      objectPath('mcp.kuadrant.io/v1', 'MCPGatewayExtension', 'mcp-system', 'mcp-gateway'),
    );
    expect(JSON.stringify(stored)).not.toContain('login-s3cret');
  });

  it('follows a change of the login client secret, and says SecretInvalid naming the key once it is blank', async () => {
    await cluster.apply(labelledSecret('mcp-system', 'login-client', { clientSecret: 'rotated-login-s3cret' }));
    await waitFor(
      'the rotated login secret in the config',
      credentials,
      (c) => (c as { login?: { clientSecret?: string } } | undefined)?.login?.clientSecret === 'rotated-login-s3cret',
    );
    await cluster.apply(labelledSecret('mcp-system', 'login-client', { clientSecret: '  ' }));
    const blank = await waitReason(cluster.api, 'MCPGatewayExtension', 'mcp-system', 'mcp-gateway', 'SecretInvalid');
    expect(blank?.message).toBe(
      'userCredentials.login.clientSecretRef: key clientSecret of Secret mcp-system/login-client is blank',
    );
  });

  it('writes a public client (no secret) and drops the section once userCredentials is removed', async () => {
    await cluster.apply(login());
    await waitFor(
      'the public login',
      credentials,
      (c) => c !== undefined && (c as { login?: Record<string, unknown> }).login?.['clientSecret'] === undefined,
    );
    expect(await credentials()).toEqual({
      login: { issuer: 'https://idp.example.com/realms/mcp', clientId: 'mcp-gateway-web' },
      pastedTokenTtlSeconds: 3600,
    });
    await cluster.apply(theExtension({}));
    await waitFor('the section gone', credentials, (c) => c === undefined);
  });
});

describe("a registration's per-user credential method", () => {
  const tracker = (spec: Record<string, unknown>) =>
    registration('mcp-test', 'tracker', 'tracker-route', { prefix: 'tracker_', ...spec });
  const writtenServer = async () =>
    (
      parse((await configText(cluster.api, 'mcp-system')) ?? 'servers: []') as { servers: Record<string, unknown>[] }
    ).servers.find((s) => s['name'] === 'mcp-test/tracker');

  it('writes tokenExchange into the config Secret with the client secret read from its Secret, and none of it on the status', async () => {
    await cluster.apply(
      labelledSecret('mcp-test', 'idp-client', { clientSecret: 'exchange-s3cret' }),
      service('mcp-test', 'tracker', 8000),
      httpRoute('mcp-test', 'tracker-route', parent, { name: 'tracker', port: 8000 }, ['tracker.mcp.local']),
      tracker({
        tokenExchange: {
          tokenEndpoint: 'https://idp.example.com/token',
          clientId: 'gateway',
          clientSecretRef: { name: 'idp-client' },
          audience: 'tracker',
          scopes: ['tracker:read'],
        },
      }),
    );
    const server = await waitFor('the tracker entry', writtenServer, (s) => s?.['tokenExchange'] !== undefined);
    expect(server?.['tokenExchange']).toEqual({
      tokenEndpoint: 'https://idp.example.com/token',
      clientId: 'gateway',
      clientSecret: 'exchange-s3cret',
      audience: 'tracker',
      scopes: ['tracker:read'],
    });
    const ready = await readyOf(cluster.api, 'MCPServerRegistration', 'mcp-test', 'tracker');
    expect(ready).toMatchObject({ status: 'True', reason: 'Ready' });
    const stored = await cluster.api.get(
      objectPath('mcp.kuadrant.io/v1', 'MCPServerRegistration', 'mcp-test', 'tracker'),
    );
    expect(JSON.stringify(stored)).not.toContain('exchange-s3cret');
  });

  it('follows a change of the client secret, and says NotReady naming the Secret when it goes', async () => {
    await cluster.apply(labelledSecret('mcp-test', 'idp-client', { clientSecret: 'rotated-s3cret' }));
    await waitFor(
      'the rotated secret in the config',
      writtenServer,
      (s) => (s?.['tokenExchange'] as { clientSecret?: string } | undefined)?.clientSecret === 'rotated-s3cret',
    );
    await cluster.api.delete(objectPath('v1', 'Secret', 'mcp-test', 'idp-client'));
    const notReady = await waitReason(cluster.api, 'MCPServerRegistration', 'mcp-test', 'tracker', 'NotReady');
    expect(notReady?.message).toBe(
      'tokenExchange.clientSecretRef: Secret mcp-test/idp-client not found (it must carry the label mcp.kuadrant.io/secret=true)',
    );
  });

  it('is refused by the API server when two methods are set at once', async () => {
    await expect(
      cluster.apply(
        tracker({
          tokenURLElicitation: {},
          upstreamOAuth: { clientId: 'mcp-gateway' },
        }),
      ),
    ).rejects.toSatisfy(
      (error: unknown) =>
        error instanceof KubeApiError &&
        error.status === 422 &&
        error.message.includes('set at most one of tokenURLElicitation, tokenExchange and upstreamOAuth'),
    );
  });
});
