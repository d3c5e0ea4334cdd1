// The CRDs installed into a real kube-apiserver: the server itself enforces their OpenAPI
// and CEL validation, applies their defaults and serves their status subresource and
// printer columns, with no controller running.
import {
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeApiServer, type KubeApiServer } from '../harness/kube.ts';
import { CRD_FILES } from './install-files.ts';
import { failureCode, failureMessage, kubeGetJson } from './kube-raw.ts';

const API = 'mcp.kuadrant.io/v1';
const NAMESPACE = 'team-alpha';

let kube: KubeApiServer;
let client: KubernetesObjectApi;
let customObjects: CustomObjectsApi;

beforeAll(async () => {
  kube = await startKubeApiServer({ crdFiles: CRD_FILES });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kube.kubeconfigPath);
  client = KubernetesObjectApi.makeApiClient(kubeConfig);
  customObjects = kubeConfig.makeApiClient(CustomObjectsApi);
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
}, 120_000);

afterAll(async () => {
  await kube?.stop();
});

type Spec = Record<string, unknown>;
type Stored = KubernetesObject & { spec: Spec; status?: Spec };

function registration(name: string, spec: Spec): KubernetesObject & { spec: Spec } {
  return { apiVersion: API, kind: 'MCPServerRegistration', metadata: { name, namespace: NAMESPACE }, spec };
}

function extension(name: string, spec: Spec): KubernetesObject & { spec: Spec } {
  return { apiVersion: API, kind: 'MCPGatewayExtension', metadata: { name, namespace: NAMESPACE }, spec };
}

async function create(object: KubernetesObject): Promise<Stored> {
  await client.create(object);
  return read(object);
}

async function read(object: KubernetesObject): Promise<Stored> {
  const { apiVersion, kind, metadata } = object;
  return (await client.read({
    apiVersion: apiVersion!,
    kind: kind!,
    metadata: { name: metadata!.name!, namespace: NAMESPACE },
  })) as Stored;
}

async function mergePatchSpec(object: KubernetesObject, spec: Spec): Promise<Stored> {
  const { apiVersion, kind, metadata } = object;
  const patch = { apiVersion, kind, metadata: { name: metadata!.name, namespace: NAMESPACE }, spec };
  return (await client.patch(patch, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch)) as Stored;
}

/** Resolves with the API server's refusal (HTTP code and Status message); fails the test if it succeeded. */
async function refusal(attempt: Promise<unknown>): Promise<{ code: number | undefined; message: string }> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error === undefined) throw new Error('the API server accepted a request it should have refused');
  return { code: failureCode(error), message: failureMessage(error) };
}

const TARGET = { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'alpha-server-route' };

describe('MCPServerRegistration prefix', () => {
  it('refuses a prefix outside the pattern, naming the field and the pattern', async () => {
    const { code, message } = await refusal(
      client.create(registration('bad', { prefix: 'Alpha-', targetRef: TARGET })),
    );
    expect(code).toBe(422);
    expect(message).toContain('spec.prefix');
    expect(message).toContain('^[a-z0-9][a-z0-9_]*$');
  });

  it('refuses a change of prefix after creation, and its removal', async () => {
    const object = registration('immutable', { prefix: 'weather_', targetRef: TARGET });
    await create(object);
    const changed = await refusal(mergePatchSpec(object, { prefix: 'climate_' }));
    expect(changed.code).toBe(422);
    expect(changed.message).toContain('prefix is immutable once set');
    const removed = await refusal(mergePatchSpec(object, { prefix: null }));
    expect(removed.message).toContain('prefix is immutable once set');
    expect((await read(object)).spec['prefix']).toBe('weather_');
  });

  it('lets other fields change while the prefix stays', async () => {
    const object = registration('mutable', { prefix: 'docs_', targetRef: TARGET });
    await create(object);
    const updated = await mergePatchSpec(object, { state: 'Disabled', path: '/v1/mcp' });
    expect(updated.spec).toMatchObject({ prefix: 'docs_', state: 'Disabled', path: '/v1/mcp' });
  });

  it('accepts the seed walkthrough registration that spells the prefix toolPrefix', async () => {
    // Seed 000, step 4, with only the apiVersion updated.
    const seed = registration('team-alpha-server', { toolPrefix: 'alpha_', targetRef: TARGET });
    const stored = await create(seed);
    expect(stored.spec['toolPrefix']).toBe('alpha_');
    // Writing the same prefix under its main spelling is not a change.
    const both = await mergePatchSpec(seed, { prefix: 'alpha_' });
    expect(both.spec).toMatchObject({ prefix: 'alpha_', toolPrefix: 'alpha_' });
  });

  it('keeps a toolPrefix immutable too, whichever spelling the change uses', async () => {
    const object = registration('alias-immutable', { toolPrefix: 'beta_', targetRef: TARGET });
    await create(object);
    expect((await refusal(mergePatchSpec(object, { toolPrefix: 'gamma_' }))).message).toContain(
      'prefix is immutable once set',
    );
    expect((await refusal(mergePatchSpec(object, { toolPrefix: null, prefix: 'gamma_' }))).message).toContain(
      'prefix is immutable once set',
    );
  });

  it('refuses prefix and toolPrefix with different values', async () => {
    const { code, message } = await refusal(
      client.create(registration('both', { prefix: 'one_', toolPrefix: 'two_', targetRef: TARGET })),
    );
    expect(code).toBe(422);
    expect(message).toContain('spec.prefix and spec.toolPrefix are two spellings of one field');
  });

  it('requires a prefix when userSpecificList is Enabled', async () => {
    const { message } = await refusal(
      client.create(registration('per-user', { userSpecificList: 'Enabled', targetRef: TARGET })),
    );
    expect(message).toContain('prefix is required when userSpecificList is Enabled');
    await create(registration('per-user', { userSpecificList: 'Enabled', toolPrefix: 'mine_', targetRef: TARGET }));
  });
});

describe('defaults and other validation', () => {
  it('fills in the defaults of a minimal registration', async () => {
    const stored = await create(registration('minimal', { targetRef: { name: 'route' } }));
    expect(stored.spec).toEqual({
      targetRef: { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'route' },
      path: '/mcp',
      state: 'Enabled',
      userSpecificList: 'Disabled',
      category: ['uncategorised'],
    });
    const withRefs = await create(
      registration('with-refs', {
        targetRef: { name: 'r' },
        credentialRef: { name: 'c' },
        caCertSecretRef: { name: 'ca' },
      }),
    );
    expect(withRefs.spec).toMatchObject({
      credentialRef: { name: 'c', key: 'token' },
      caCertSecretRef: { name: 'ca', key: 'ca.crt' },
    });
  });

  it('fills in the defaults of a minimal extension', async () => {
    const stored = await create(extension('minimal', { targetRef: { name: 'mcp-gateway', sectionName: 'mcp' } }));
    expect(stored.spec).toEqual({
      targetRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'mcp-gateway', sectionName: 'mcp' },
      backendPingIntervalSeconds: 60,
      httpRouteManagement: 'Enabled',
      urlElicitation: 'Disabled',
      maxBodyBytes: 1048576,
    });
  });

  it('refuses an extension without a listener, with a URL as public host or with a bad interval', async () => {
    const missing = await refusal(client.create(extension('no-listener', { targetRef: { name: 'gw' } })));
    expect(missing.message).toContain('spec.targetRef.sectionName: Required value');
    const url = await refusal(
      client.create(
        extension('url-host', { targetRef: { name: 'gw', sectionName: 'mcp' }, publicHost: 'https://mcp.example.com' }),
      ),
    );
    expect(url.message).toContain('publicHost must be a host name such as mcp.example.com, not a URL');
    const interval = await refusal(
      client.create(
        extension('fast', { targetRef: { name: 'gw', sectionName: 'mcp' }, backendPingIntervalSeconds: 5 }),
      ),
    );
    expect(interval.message).toContain('spec.backendPingIntervalSeconds');
    const namespace = await refusal(
      client.create(
        extension('bad-ns', { targetRef: { name: 'gw', sectionName: 'mcp', namespace: 'Gateway_System' } }),
      ),
    );
    expect(namespace.message).toContain('targetRef.namespace must be a namespace name');
  });

  it('refuses a virtual server without tools and stores one with tools', async () => {
    const virtualServer = (tools: string[]) => ({
      apiVersion: API,
      kind: 'MCPVirtualServer',
      metadata: { name: 'dev-tools', namespace: NAMESPACE },
      spec: { description: 'Tools for developers', tools },
    });
    expect((await refusal(client.create(virtualServer([])))).message).toContain('spec.tools');
    expect((await create(virtualServer(['alpha_search', 'beta_time']))).spec['tools']).toEqual([
      'alpha_search',
      'beta_time',
    ]);
  });

  it('stores an anchor v1 extension and registration that set every field, unchanged', async () => {
    const ext = extension('anchor-full', {
      targetRef: {
        group: 'gateway.networking.k8s.io',
        kind: 'Gateway',
        name: 'gw',
        namespace: 'gateway-system',
        sectionName: 'mcp',
      },
      publicHost: 'mcp.example.com',
      privateHost: 'https://gw-istio.gateway-system.svc.cluster.local:443',
      backendPingIntervalSeconds: 120,
      trustedHeadersKey: { secretName: 'trusted', generate: 'Enabled' },
      httpRouteManagement: 'Disabled',
      logLevel: 'debug',
      sessionStore: { secretName: 'redis' },
      urlElicitation: 'Enabled',
      oauthProtectedResource: {
        authorizationServers: ['https://auth.example.com/realms/mcp'],
        resourceName: 'Team MCP',
        resource: 'https://mcp.example.com/mcp',
        bearerMethodsSupported: ['header'],
        scopesSupported: ['basic', 'tools'],
      },
      caCertBundleRef: { name: 'bundle', key: 'bundle.pem' },
      maxBodyBytes: 2097152,
    });
    expect((await create(ext)).spec).toEqual(ext.spec);
    const reg = registration('anchor-full', {
      targetRef: { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'route', namespace: NAMESPACE },
      prefix: 'full_',
      path: '/api/mcp',
      credentialRef: { name: 'cred', key: 'authorization' },
      state: 'Enabled',
      caCertSecretRef: { name: 'ca', key: 'ca.pem' },
      tokenURLElicitation: { url: 'https://vault.example.com/ui' },
      userSpecificList: 'Enabled',
      category: ['data', 'search'],
      hint: 'Searches the team wiki',
      tags: ['wiki', 'search'],
    });
    expect((await create(reg)).spec).toEqual(reg.spec);
  });
});

describe('MCPGatewayExtension identity and policy fields (beyond the anchor)', () => {
  const target = { name: 'gw', sectionName: 'mcp' };
  const oauth = { authorizationServers: ['https://auth.example.com/realms/mcp'] };

  it('stores token verification, a policy, audit options and capability enforcement unchanged', async () => {
    const ext = extension('access-full', {
      targetRef: target,
      trustedHeadersKey: { secretName: 'trusted' },
      enforceCapabilityFiltering: true,
      oauthProtectedResource: oauth,
      tokenVerification: {
        issuers: ['https://idp.example.com', 'http://127.0.0.1:8080/realms/dev'],
        audience: 'https://mcp.example.com/mcp',
        requiredScopes: ['mcp:tools', 'openid'],
      },
      policy: {
        default: 'deny',
        rules: [
          { name: 'readers', effect: 'allow', servers: ['team-a/*'], tools: ['get_*'], when: 'auth.verified' },
          { name: 'no-prompts', effect: 'deny', prompts: ['*'] },
          {
            name: 'confirm-prod',
            effect: 'confirm',
            tools: ['write_file'],
            when: 'mcp.arguments.path.startsWith("/prod")',
          },
        ],
      },
      audit: { arguments: 'values' },
      confirmation: { timeoutSeconds: 300 },
    });
    const stored = await create(ext);
    expect(stored.spec).toMatchObject(ext.spec);
  });

  it('refuses a rule effect other than allow, deny or confirm, and a rule without a name', async () => {
    const effect = await refusal(
      client.create(
        extension('bad-effect', { targetRef: target, policy: { rules: [{ name: 'a', effect: 'permit' }] } }),
      ),
    );
    expect(effect.code).toBe(422);
    expect(effect.message).toContain('spec.policy.rules[0].effect');
    const nameless = await refusal(
      client.create(extension('nameless', { targetRef: target, policy: { rules: [{ effect: 'deny' }] } })),
    );
    expect(nameless.message).toContain('spec.policy.rules[0].name: Required value');
  });

  it('refuses an issuer that is not https (http only on a loopback host), or that repeats', async () => {
    const plain = await refusal(
      client.create(
        extension('http-issuer', { targetRef: target, tokenVerification: { issuers: ['http://idp.example.com'] } }),
      ),
    );
    expect(plain.message).toContain('an issuer must be an https URL without query or fragment');
    const query = await refusal(
      client.create(
        extension('query-issuer', {
          targetRef: target,
          tokenVerification: { issuers: ['https://idp.example.com/?x=1'] },
        }),
      ),
    );
    expect(query.message).toContain('spec.tokenVerification.issuers[0]');
    const twice = await refusal(
      client.create(
        extension('twice', {
          targetRef: target,
          tokenVerification: { issuers: ['https://idp.example.com', 'https://idp.example.com'] },
        }),
      ),
    );
    expect(twice.message).toContain('Duplicate value');
  });

  it('refuses an audience that is not an absolute URI', async () => {
    const relative = await refusal(
      client.create(
        extension('rel-aud', {
          targetRef: target,
          oauthProtectedResource: oauth,
          tokenVerification: { audience: '/mcp' },
        }),
      ),
    );
    expect(relative.message).toContain('audience must be an absolute URI without a fragment');
  });

  it('needs issuers or oauthProtectedResource for token verification, and a key for enforcement', async () => {
    const noIssuers = await refusal(
      client.create(extension('no-issuers', { targetRef: target, tokenVerification: {} })),
    );
    expect(noIssuers.message).toContain('tokenVerification.issuers is required when oauthProtectedResource');
    expect(
      (
        await create(
          extension('defaulted', { targetRef: target, oauthProtectedResource: oauth, tokenVerification: {} }),
        )
      ).spec['tokenVerification'],
    ).toEqual({});
    const noKey = await refusal(
      client.create(extension('no-key', { targetRef: target, enforceCapabilityFiltering: true })),
    );
    expect(noKey.message).toContain('enforceCapabilityFiltering needs trustedHeadersKey');
    await create(extension('not-enforced', { targetRef: target, enforceCapabilityFiltering: false }));
  });
});

describe('MCPServerRegistration toolOverrides (beyond the anchor)', () => {
  const withOverrides = (name: string, toolOverrides: unknown[]) =>
    registration(name, { prefix: `${name.replaceAll('-', '_')}_`, targetRef: TARGET, toolOverrides });

  it('stores a list of overrides unchanged, free-form arguments and annotations included', async () => {
    const object = withOverrides('overrides', [
      {
        tool: 'create_issue',
        name: 'open_ticket',
        description: 'Opens a ticket.',
        descriptionSuffix: 'Ask first.',
        fixedArguments: { owner: 'acme', labels: ['triage'], options: { draft: false, retries: 2 } },
        annotations: { destructiveHint: true, title: 'Open ticket' },
        confirm: true,
      },
      { tool: 'delete_repo', hidden: true },
      { tool: 'search', hidden: false, name: 'find.v2' },
    ]);
    expect((await create(object)).spec['toolOverrides']).toEqual(object.spec['toolOverrides']);
  });

  it('stores confirmDestructive, and refuses a hidden tool to confirm', async () => {
    const confirming = registration('confirming', {
      prefix: 'confirming_',
      targetRef: TARGET,
      confirmDestructive: true,
    });
    expect((await create(confirming)).spec['confirmDestructive']).toBe(true);
    const hidden = await refusal(
      client.create(withOverrides('hidden-confirmed', [{ tool: 'delete_repo', hidden: true, confirm: true }])),
    );
    expect(hidden.message).toContain('with hidden true, set no other field than tool');
  });

  it('refuses a hidden tool with any other field, naming the rule', async () => {
    const { code, message } = await refusal(
      client.create(withOverrides('hidden-renamed', [{ tool: 'delete_repo', hidden: true, name: 'drop' }])),
    );
    expect(code).toBe(422);
    expect(message).toContain('spec.toolOverrides[0]');
    expect(message).toContain(
      'a hidden tool is neither listed nor callable: with hidden true, set no other field than tool',
    );
    const annotated = await refusal(
      client.create(withOverrides('hidden-annotated', [{ tool: 'delete_repo', hidden: true, annotations: {} }])),
    );
    expect(annotated.message).toContain('with hidden true, set no other field than tool');
  });

  it('refuses a tool overridden twice, naming the tool', async () => {
    const { code, message } = await refusal(
      client.create(
        withOverrides('twice', [
          { tool: 'search', name: 'find' },
          { tool: 'create_issue', hidden: true },
          { tool: 'search', description: 'Searches.' },
        ]),
      ),
    );
    expect(code).toBe(422);
    expect(message).toContain('spec.toolOverrides');
    expect(message).toContain('tool "search" is overridden more than once: merge its toolOverrides entries into one');
  });

  it('refuses two tools served under one name, naming it', async () => {
    const { message } = await refusal(
      client.create(
        withOverrides('one-name', [
          { tool: 'search', name: 'find' },
          { tool: 'lookup', name: 'find' },
        ]),
      ),
    );
    expect(message).toContain('name "find" is given to more than one tool in toolOverrides');
  });

  it('refuses an entry without tool, a name outside the pattern, a long description and more than 200 entries', async () => {
    const nameless = await refusal(client.create(withOverrides('no-tool', [{ name: 'find' }])));
    expect(nameless.message).toContain('spec.toolOverrides[0].tool: Required value');
    const pattern = await refusal(client.create(withOverrides('bad-name', [{ tool: 'search', name: 'find me' }])));
    expect(pattern.message).toContain('spec.toolOverrides[0].name');
    expect(pattern.message).toContain('^[A-Za-z0-9_.-]{1,128}$');
    const long = await refusal(
      client.create(withOverrides('long', [{ tool: 'search', descriptionSuffix: 'x'.repeat(4097) }])),
    );
    expect(long.message).toContain('spec.toolOverrides[0].descriptionSuffix: Too long');
    const many = Array.from({ length: 201 }, (_, i) => ({ tool: `tool_${i}` }));
    const tooMany = await refusal(client.create(withOverrides('many', many)));
    expect(tooMany.message).toContain('spec.toolOverrides: Too many: 201: must have at most 200 items');
    await create(withOverrides('two-hundred', many.slice(0, 200)));
  });
});

describe('MCPServerRegistration quotas (beyond the anchor)', () => {
  const withQuotas = (name: string, quotas: unknown[]) =>
    registration(name, { prefix: `${name.replaceAll('-', '_')}_`, targetRef: TARGET, quotas });
  /** `count` quotas naming `perQuota` distinct tools each, every name 128 characters long. */
  const manyNames = (count: number, perQuota: number) =>
    Array.from({ length: count }, (_, i) => ({
      tools: Array.from({ length: perQuota }, (_, j) => `tool_${i}_${j}_`.padEnd(128, 'x')),
      requests: 10,
    }));

  it('stores a list of quotas unchanged, with no window filled in', async () => {
    const object = withQuotas('quotas', [
      { tools: ['create_issue', 'delete_repo'], requests: 30, windowSeconds: 60, concurrentCalls: 2 },
      { tools: ['search'], requests: 1_000_000, windowSeconds: 86_400 },
      { concurrentCalls: 4 },
    ]);
    expect((await create(object)).spec['quotas']).toEqual(object.spec['quotas']);
  });

  it('refuses a quota that limits nothing, and windowSeconds without requests, naming the entry', async () => {
    const nothing = await refusal(
      client.create(withQuotas('quota-nothing', [{ tools: ['search'] }, { concurrentCalls: 1 }])),
    );
    expect(nothing.code).toBe(422);
    expect(nothing.message).toContain(
      'spec.quotas[0]: Invalid value: a quota limits something: give requests (per windowSeconds) or concurrentCalls',
    );
    const window = await refusal(
      client.create(withQuotas('quota-window', [{ tools: ['search'], windowSeconds: 10, concurrentCalls: 1 }])),
    );
    expect(window.code).toBe(422);
    expect(window.message).toContain(
      'spec.quotas[0]: Invalid value: windowSeconds without requests would never apply: set requests or leave windowSeconds out',
    );
  });

  it('refuses two quotas without tools, an empty list counting as none', async () => {
    for (const [name, second] of [
      ['quota-rest', { concurrentCalls: 2 }],
      ['quota-rest-empty', { tools: [], concurrentCalls: 2 }],
    ] as const) {
      const { code, message } = await refusal(client.create(withQuotas(name, [{ requests: 5 }, second])));
      expect(code, name).toBe(422);
      expect(message, name).toContain(
        "spec.quotas: Invalid value: at most one quota may leave out tools (it covers the server's other tools together)",
      );
    }
  });

  it('refuses a tool named by two quotas, or twice in one, naming the tool', async () => {
    const { code, message } = await refusal(
      client.create(
        withQuotas('quota-overlap', [
          { tools: ['search', 'create_issue'], requests: 5 },
          { tools: ['delete_repo', 'search'], concurrentCalls: 1 },
        ]),
      ),
    );
    expect(code).toBe(422);
    expect(message).toContain(
      'spec.quotas: Invalid value: tool "search" is named more than once in quotas: name each tool in one quota only',
    );
    const twice = await refusal(
      client.create(withQuotas('quota-twice', [{ tools: ['search', 'search'], requests: 5 }])),
    );
    expect(twice.message).toContain('spec.quotas[0].tools[1]: Duplicate value: "search"');
  });

  it('refuses values out of bounds, more than 100 quotas and more than 500 tool names', async () => {
    const bounds = await refusal(
      client.create(
        withQuotas('quota-bounds', [
          { tools: ['', 'x'.repeat(129)], requests: 0, windowSeconds: 86_401 },
          { tools: ['search'], requests: 1.5, concurrentCalls: 1_000_001 },
        ]),
      ),
    );
    expect(bounds.message).toContain('spec.quotas[0].tools[0]');
    expect(bounds.message).toContain('spec.quotas[0].tools[1]: Too long');
    expect(bounds.message).toContain('spec.quotas[0].requests in body should be greater than or equal to 1');
    expect(bounds.message).toContain('spec.quotas[0].windowSeconds in body should be less than or equal to 86400');
    expect(bounds.message).toContain('spec.quotas[1].requests in body must be of type integer');
    expect(bounds.message).toContain('spec.quotas[1].concurrentCalls in body should be less than or equal to 1000000');
    const many = Array.from({ length: 101 }, (_, i) => ({ tools: [`tool_${i}`], requests: 1 }));
    const tooMany = await refusal(client.create(withQuotas('quota-many', many)));
    expect(tooMany.message).toContain('spec.quotas: Too many: 101: must have at most 100 items');
    const names = await refusal(
      client.create(withQuotas('quota-names', [...manyNames(5, 100), { tools: ['one_more'], requests: 1 }])),
    );
    expect(names.message).toContain(
      'spec.quotas: Invalid value: the quotas of a server may name at most 500 tools together',
    );
    // Above the bound the uniqueness rule is skipped: checked, 1 000 names would exhaust its cost
    // budget and the refusal would say so instead of naming the bound.
    const farAbove = await refusal(client.create(withQuotas('quota-names-1000', manyNames(10, 100))));
    expect(farAbove.message).toContain('the quotas of a server may name at most 500 tools together');
    expect(farAbove.message).not.toContain('cost');
  });

  it("checks 500 long tool names within the API server's cost budget, and still names a tool given twice", async () => {
    const quotas = manyNames(100, 5);
    expect((await create(withQuotas('quota-500', quotas))).spec['quotas']).toEqual(quotas);
    const last = quotas[99]!;
    const repeated = [...quotas.slice(0, 99), { ...last, tools: [...last.tools.slice(0, 4), quotas[0]!.tools[0]!] }];
    const { message } = await refusal(client.create(withQuotas('quota-500-twice', repeated)));
    expect(message).toContain(`tool "${quotas[0]!.tools[0]!}" is named more than once in quotas`);
  });
});

describe('status subresource', () => {
  it('takes status only through /status, without bumping the generation', async () => {
    const object = registration('status', { prefix: 'status_', targetRef: TARGET });
    const created = await create(object);
    const condition = {
      type: 'Ready',
      status: 'False',
      reason: 'NotReady',
      message: 'no valid mcpgatewayextensions configured',
      lastTransitionTime: '2026-01-01T00:00:00Z',
      observedGeneration: created.metadata!.generation,
    };
    // Status sent with the main resource is dropped.
    await client.replace({ ...created, status: { conditions: [condition] } });
    expect((await read(object)).status).toBeUndefined();

    await customObjects.replaceNamespacedCustomObjectStatus({
      group: 'mcp.kuadrant.io',
      version: 'v1',
      namespace: NAMESPACE,
      plural: 'mcpserverregistrations',
      name: 'status',
      body: { ...(await read(object)), status: { conditions: [condition] } },
    });
    const stored = await read(object);
    expect(stored.status).toEqual({ conditions: [condition] });
    expect(stored.metadata!.generation).toBe(created.metadata!.generation);
  });

  it('refuses a condition with an invalid status value', async () => {
    const object = registration('bad-status', { targetRef: TARGET });
    const created = await create(object);
    const { message } = await refusal(
      customObjects.replaceNamespacedCustomObjectStatus({
        group: 'mcp.kuadrant.io',
        version: 'v1',
        namespace: NAMESPACE,
        plural: 'mcpserverregistrations',
        name: 'bad-status',
        body: {
          ...created,
          status: {
            conditions: [
              {
                type: 'Ready',
                status: 'Yes',
                reason: 'Ready',
                message: '',
                lastTransitionTime: '2026-01-01T00:00:00Z',
              },
            ],
          },
        },
      }),
    );
    expect(message).toContain('status.conditions[0].status');
  });
});

describe('discovery and printer columns', () => {
  it('serves the kinds with their short names and the mcp category', async () => {
    const { body } = await kubeGetJson(kube, '/apis/mcp.kuadrant.io/v1');
    const resources = (
      body as { resources: { name: string; kind: string; shortNames?: string[]; categories?: string[] }[] }
    ).resources
      .filter((resource) => !resource.name.includes('/'))
      .map(({ kind, shortNames, categories }) => ({ kind, shortNames, categories }))
      .sort((a, b) => a.kind.localeCompare(b.kind));
    expect(resources).toEqual([
      { kind: 'MCPGatewayExtension', shortNames: ['mcpge'], categories: ['mcp'] },
      { kind: 'MCPServerRegistration', shortNames: ['mcpsr'], categories: ['mcp'] },
      { kind: 'MCPVirtualServer', shortNames: ['mcpvs'], categories: ['mcp'] },
    ]);
  });

  it('prints the columns kubectl get shows for registrations', async () => {
    const { status, body } = await kubeGetJson(
      kube,
      `/apis/mcp.kuadrant.io/v1/namespaces/${NAMESPACE}/mcpserverregistrations/status`,
      'application/json;as=Table;v=v1;g=meta.k8s.io',
    );
    expect(status).toBe(200);
    const table = body as { columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
    const columns = table.columnDefinitions.map((column) => column.name);
    expect(columns).toEqual([
      'Name',
      'Prefix',
      'Tool Prefix',
      'Target',
      'Path',
      'Ready',
      'Quarantined',
      'Category',
      'Credentials',
      'Age',
    ]);
    const cells = Object.fromEntries(columns.map((name, index) => [name, table.rows[0]!.cells[index]]));
    expect(cells).toMatchObject({
      Name: 'status',
      Prefix: 'status_',
      Target: 'alpha-server-route',
      Path: '/mcp',
      Ready: 'False',
    });
  });
});

describe('per-user upstream credentials (beyond the anchor)', () => {
  const exchange = { clientId: 'gateway', clientSecretRef: { name: 'idp-client' } };

  it('stores an extension with credentialEncryption and registrations with tokenExchange or upstreamOAuth, defaulting the secret key', async () => {
    const ext = extension('credential-keys', {
      targetRef: { name: 'gw', sectionName: 'mcp' },
      urlElicitation: 'Enabled',
      credentialEncryption: { secretName: 'credential-keys' },
    });
    expect((await create(ext)).spec).toMatchObject(ext.spec);
    const exchanged = await create(
      registration('exchanged', {
        targetRef: TARGET,
        tokenExchange: {
          ...exchange,
          tokenEndpoint: 'https://idp.example.com/token',
          audience: 'tracker',
          resource: 'https://tracker.example.com/mcp',
          scopes: ['tracker:read'],
        },
      }),
    );
    expect(exchanged.spec['tokenExchange']).toEqual({
      tokenEndpoint: 'https://idp.example.com/token',
      clientId: 'gateway',
      clientSecretRef: { name: 'idp-client', key: 'clientSecret' },
      audience: 'tracker',
      resource: 'https://tracker.example.com/mcp',
      scopes: ['tracker:read'],
    });
    const oauth = await create(
      registration('own-login', { targetRef: TARGET, upstreamOAuth: { clientSecretRef: { name: 'c', key: 'k' } } }),
    );
    expect(oauth.spec['upstreamOAuth']).toEqual({ clientSecretRef: { name: 'c', key: 'k' } });
  });

  it('refuses a registration with two per-user methods at once', async () => {
    const both = await refusal(
      client.create(
        registration('two-methods', {
          targetRef: TARGET,
          tokenURLElicitation: {},
          tokenExchange: { ...exchange, issuer: 'https://idp.example.com' },
        }),
      ),
    );
    expect(both.message).toContain('set at most one of tokenURLElicitation, tokenExchange and upstreamOAuth');
    const three = await refusal(
      client.create(
        registration('three-methods', {
          targetRef: TARGET,
          tokenURLElicitation: {},
          tokenExchange: { ...exchange, issuer: 'https://idp.example.com' },
          upstreamOAuth: {},
        }),
      ),
    );
    expect(three.message).toContain('set at most one of');
  });

  it('refuses a tokenExchange with neither or both of tokenEndpoint and issuer, without a client secret, with a bad URL or a blank client', async () => {
    for (const [name, fields] of [
      ['neither', {}],
      ['both', { tokenEndpoint: 'https://idp.example.com/token', issuer: 'https://idp.example.com' }],
    ] as const) {
      const refused = await refusal(
        client.create(
          registration(`exchange-${name}`, { targetRef: TARGET, tokenExchange: { ...exchange, ...fields } }),
        ),
      );
      expect(refused.message, name).toContain('tokenExchange needs exactly one of tokenEndpoint');
    }
    const noSecret = await refusal(
      client.create(
        registration('exchange-no-secret', {
          targetRef: TARGET,
          tokenExchange: { clientId: 'gateway', issuer: 'https://idp.example.com' },
        }),
      ),
    );
    expect(noSecret.message).toContain('spec.tokenExchange.clientSecretRef: Required value');
    const badUrl = await refusal(
      client.create(
        registration('exchange-bad-url', {
          targetRef: TARGET,
          tokenExchange: { ...exchange, tokenEndpoint: 'idp.example.com/token' },
        }),
      ),
    );
    expect(badUrl.message).toContain('spec.tokenExchange.tokenEndpoint');
    // What the gateway's config parser would refuse is refused here: one bad server entry would
    // otherwise hold back the gateway's whole config.
    const badResource = await refusal(
      client.create(
        registration('exchange-bad-resource', {
          targetRef: TARGET,
          tokenExchange: { ...exchange, issuer: 'https://idp.example.com', resource: 'tracker' },
        }),
      ),
    );
    expect(badResource.message).toContain('spec.tokenExchange.resource');
    const blankClient = await refusal(
      client.create(
        registration('exchange-blank-client', {
          targetRef: TARGET,
          tokenExchange: { ...exchange, clientId: '  ', issuer: 'https://idp.example.com' },
        }),
      ),
    );
    expect(blankClient.message).toContain('spec.tokenExchange.clientId');
  });

  it('refuses credentialEncryption without a secret name', async () => {
    const refused = await refusal(
      client.create(
        extension('no-keys-name', { targetRef: { name: 'gw', sectionName: 'mcp' }, credentialEncryption: {} }),
      ),
    );
    expect(refused.message).toContain('spec.credentialEncryption.secretName: Required value');
  });

  it("stores an extension's userCredentials, defaulting the login secret's key", async () => {
    const ext = extension('login', {
      targetRef: { name: 'gw', sectionName: 'mcp' },
      userCredentials: {
        login: {
          issuer: 'https://idp.example.com/realms/mcp',
          clientId: 'mcp-gateway-web',
          clientSecretRef: { name: 'login-client' },
          scopes: ['openid', 'profile'],
        },
        pastedTokenTtlSeconds: 3600,
      },
    });
    expect((await create(ext)).spec['userCredentials']).toEqual({
      login: {
        issuer: 'https://idp.example.com/realms/mcp',
        clientId: 'mcp-gateway-web',
        clientSecretRef: { name: 'login-client', key: 'clientSecret' },
        scopes: ['openid', 'profile'],
      },
      pastedTokenTtlSeconds: 3600,
    });
    const local = extension('login-local', {
      targetRef: { name: 'gw', sectionName: 'mcp' },
      userCredentials: { login: { issuer: 'http://127.0.0.1:8443', clientId: 'web' } },
    });
    expect((await create(local)).spec['userCredentials']).toEqual({
      login: { issuer: 'http://127.0.0.1:8443', clientId: 'web' },
    });
  });

  it('refuses a login without a client, with a blank client, a plain-http or query issuer, a bad scope, and a TTL out of bounds', async () => {
    const refusedWith = async (name: string, userCredentials: Spec) =>
      (
        await refusal(
          client.create(extension(name, { targetRef: { name: 'gw', sectionName: 'mcp' }, userCredentials })),
        )
      ).message;
    expect(await refusedWith('login-no-client', { login: {} })).toContain(
      'spec.userCredentials.login.clientId: Required value',
    );
    expect(await refusedWith('login-blank-client', { login: { clientId: ' ' } })).toContain(
      'spec.userCredentials.login.clientId',
    );
    expect(await refusedWith('login-http', { login: { clientId: 'web', issuer: 'http://idp.example.com' } })).toContain(
      'the login issuer must be an https URL without query or fragment',
    );
    expect(
      await refusedWith('login-query', { login: { clientId: 'web', issuer: 'https://idp.example.com/?x=1' } }),
    ).toContain('spec.userCredentials.login.issuer');
    expect(await refusedWith('login-scope', { login: { clientId: 'web', scopes: ['open id'] } })).toContain(
      'spec.userCredentials.login.scopes[0]',
    );
    expect(
      await refusedWith('login-scopes', {
        login: { clientId: 'web', scopes: Array.from({ length: 51 }, (_, i) => `s${i}`) },
      }),
    ).toContain('spec.userCredentials.login.scopes');
    expect(await refusedWith('login-no-secret-name', { login: { clientId: 'web', clientSecretRef: {} } })).toContain(
      'spec.userCredentials.login.clientSecretRef.name: Required value',
    );
    for (const ttl of [59, 2_592_001]) {
      expect(await refusedWith(`ttl-${ttl}`, { pastedTokenTtlSeconds: ttl }), String(ttl)).toContain(
        'spec.userCredentials.pastedTokenTtlSeconds',
      );
    }
  });
});
