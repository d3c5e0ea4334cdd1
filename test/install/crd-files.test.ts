import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  CHART_CRD_DIR,
  CRD_DIR,
  CRD_FILE_NAMES,
  readCrd,
  specSchema,
  type Crd,
  type SchemaNode,
} from './install-files.ts';

const crds = Object.fromEntries(
  Object.entries(CRD_FILE_NAMES).map(([kind, file]) => [kind, readCrd(CRD_DIR + file)]),
) as Record<keyof typeof CRD_FILE_NAMES, Crd>;

/** The spec fields of the anchor's mcp.kuadrant.io/v1, which its manifests may set. */
const ANCHOR_V1_SPEC_FIELDS = {
  MCPGatewayExtension: [
    'targetRef',
    'publicHost',
    'privateHost',
    'backendPingIntervalSeconds',
    'trustedHeadersKey',
    'httpRouteManagement',
    'logLevel',
    'sessionStore',
    'urlElicitation',
    'oauthProtectedResource',
    'caCertBundleRef',
    'maxBodyBytes',
  ],
  MCPServerRegistration: [
    'targetRef',
    'prefix',
    'path',
    'credentialRef',
    'state',
    'caCertSecretRef',
    'tokenURLElicitation',
    'userSpecificList',
    'category',
    'hint',
    'tags',
  ],
  MCPVirtualServer: ['description', 'tools', 'prompts'],
} as const;

const SHORT_NAMES = {
  MCPGatewayExtension: 'mcpge',
  MCPServerRegistration: 'mcpsr',
  MCPVirtualServer: 'mcpvs',
} as const;

const PRINTER_COLUMNS = {
  MCPGatewayExtension: ['Ready', 'Gateway', 'Listener', 'Age'],
  MCPServerRegistration: [
    'Prefix',
    'Tool Prefix',
    'Target',
    'Path',
    'Ready',
    'Quarantined',
    'Category',
    'Credentials',
    'Age',
  ],
  MCPVirtualServer: ['Ready', 'Tools', 'Age'],
} as const;

function rules(node: SchemaNode | undefined): string[] {
  return (node?.['x-kubernetes-validations'] ?? []).map((validation) => validation.rule);
}

function messages(node: SchemaNode | undefined): string[] {
  return (node?.['x-kubernetes-validations'] ?? []).map((validation) => validation.message ?? '');
}

describe.each(Object.keys(CRD_FILE_NAMES) as (keyof typeof CRD_FILE_NAMES)[])('the %s CRD', (kind) => {
  const crd = crds[kind];
  const [version] = crd.spec.versions;

  it('is an apiextensions v1 CRD of group mcp.kuadrant.io serving and storing v1 only', () => {
    expect(crd.apiVersion).toBe('apiextensions.k8s.io/v1');
    expect(crd.kind).toBe('CustomResourceDefinition');
    expect(crd.spec.group).toBe('mcp.kuadrant.io');
    expect(crd.metadata.name).toBe(`${crd.spec.names.plural}.mcp.kuadrant.io`);
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.versions.map((v) => [v.name, v.served, v.storage])).toEqual([['v1', true, true]]);
  });

  it('names the kind as the anchor does, with its short name and the mcp category', () => {
    expect(crd.spec.names.kind).toBe(kind);
    expect(crd.spec.names.listKind).toBe(`${kind}List`);
    expect(crd.spec.names.plural).toBe(`${kind.toLowerCase()}s`);
    expect(crd.spec.names.singular).toBe(kind.toLowerCase());
    expect(crd.spec.names.shortNames).toEqual([SHORT_NAMES[kind]]);
    expect(crd.spec.names.categories).toEqual(['mcp']);
  });

  it('has a status subresource with Kubernetes conditions keyed by type', () => {
    expect(version?.subresources?.status).toEqual({});
    const conditions = version?.schema.openAPIV3Schema.properties?.['status']?.properties?.['conditions'];
    expect(conditions?.type).toBe('array');
    expect(conditions?.items?.required).toEqual(['type', 'status', 'reason', 'message', 'lastTransitionTime']);
    expect(conditions).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });
  });

  it('shows its printer columns', () => {
    expect(version?.additionalPrinterColumns?.map((column) => column.name)).toEqual(PRINTER_COLUMNS[kind]);
    const ready = version?.additionalPrinterColumns?.find((column) => column.name === 'Ready');
    expect(ready?.jsonPath).toBe(".status.conditions[?(@.type=='Ready')].status");
  });

  it("accepts every spec field of the anchor's v1 and documents each", () => {
    const properties = specSchema(crd).properties ?? {};
    for (const field of ANCHOR_V1_SPEC_FIELDS[kind]) {
      expect(properties[field], `spec.${field}`).toBeDefined();
    }
    for (const [field, schema] of Object.entries(properties)) {
      expect(schema.description, `spec.${field} has a description`).toMatch(/\w{3}/);
    }
  });
});

describe('MCPServerRegistration validation', () => {
  const spec = specSchema(crds.MCPServerRegistration);
  const properties = spec.properties ?? {};

  it("validates prefix with the anchor's pattern and accepts toolPrefix as its documented alias", () => {
    expect(properties['prefix']?.pattern).toBe('^[a-z0-9][a-z0-9_]*$');
    expect(properties['toolPrefix']?.pattern).toBe(properties['prefix']?.pattern);
    expect(properties['toolPrefix']?.description).toMatch(/alias of prefix/i);
  });

  it('refuses prefix and toolPrefix set to different values, and a changed prefix of either spelling', () => {
    expect(rules(spec)).toContain('!has(self.prefix) || !has(self.toolPrefix) || self.prefix == self.toolPrefix');
    const immutability = spec['x-kubernetes-validations']?.find((v) => v.rule.includes('oldSelf'));
    expect(immutability?.rule).toMatch(/oldSelf\.prefix/);
    expect(immutability?.rule).toMatch(/oldSelf\.toolPrefix/);
    expect(immutability?.message).toMatch(/^prefix is immutable once set/);
    expect(messages(spec)).toContain('prefix is required when userSpecificList is Enabled');
  });

  it('defaults what the anchor defaults and keeps its enums and limits', () => {
    expect(properties['path']?.default).toBe('/mcp');
    expect(properties['state']).toMatchObject({ default: 'Enabled', enum: ['Enabled', 'Disabled'] });
    expect(properties['userSpecificList']).toMatchObject({ default: 'Disabled', enum: ['Enabled', 'Disabled'] });
    expect(properties['category']).toMatchObject({ default: ['uncategorised'], maxItems: 3 });
    expect(properties['tags']?.maxItems).toBe(10);
    expect(properties['hint']?.maxLength).toBe(256);
    expect(properties['credentialRef']?.properties?.['key']?.default).toBe('token');
    expect(properties['caCertSecretRef']?.properties?.['key']?.default).toBe('ca.crt');
    expect(properties['targetRef']?.properties?.['kind']).toMatchObject({ default: 'HTTPRoute', enum: ['HTTPRoute'] });
    expect(spec.required).toEqual(['targetRef']);
  });

  it('bounds toolOverrides, keeps its free-form mappings, and refuses a hidden tool with other fields or a tool or name twice', () => {
    const overrides = properties['toolOverrides'];
    expect(overrides).toMatchObject({ type: 'array', maxItems: 200, 'x-kubernetes-list-type': 'atomic' });
    const item = overrides?.items;
    expect(item?.required).toEqual(['tool']);
    expect(Object.keys(item?.properties ?? {})).toEqual([
      'tool',
      'name',
      'description',
      'descriptionSuffix',
      'hidden',
      'fixedArguments',
      'annotations',
      'confirm',
    ]);
    expect(item?.properties?.['tool']).toMatchObject({ minLength: 1, maxLength: 128 });
    expect(item?.properties?.['name']?.pattern).toBe('^[A-Za-z0-9_.-]{1,128}$');
    expect(item?.properties?.['description']?.maxLength).toBe(4096);
    expect(item?.properties?.['descriptionSuffix']?.maxLength).toBe(4096);
    expect(item?.properties?.['hidden']?.type).toBe('boolean');
    expect(item?.properties?.['confirm']?.type).toBe('boolean');
    expect(rules(item)[0]).toContain('has(self.confirm)');
    for (const free of ['fixedArguments', 'annotations']) {
      expect(item?.properties?.[free], free).toMatchObject({
        type: 'object',
        'x-kubernetes-preserve-unknown-fields': true,
      });
    }
    for (const [field, schema] of Object.entries(item?.properties ?? {})) {
      expect(schema.description, `toolOverrides[].${field} has a description`).toMatch(/\w{3}/);
    }
    expect(messages(item)).toEqual([
      'a hidden tool is neither listed nor callable: with hidden true, set no other field than tool',
    ]);
    expect(rules(overrides)).toEqual([
      'self.all(o, self.exists_one(p, p.tool == o.tool))',
      'self.all(o, !has(o.name) || self.exists_one(p, has(p.name) && p.name == o.name))',
    ]);
  });

  it('bounds quotas as the config file does, and refuses what the gateway would: a quota limiting nothing, windowSeconds alone, two catch-alls, a tool twice', () => {
    const quotas = properties['quotas'];
    expect(quotas).toMatchObject({ type: 'array', maxItems: 100, 'x-kubernetes-list-type': 'atomic' });
    const item = quotas?.items;
    expect(item?.required).toBeUndefined();
    expect(Object.keys(item?.properties ?? {})).toEqual(['tools', 'requests', 'windowSeconds', 'concurrentCalls']);
    expect(item?.properties?.['tools']).toMatchObject({
      type: 'array',
      maxItems: 100,
      'x-kubernetes-list-type': 'set',
    });
    expect(item?.properties?.['tools']?.items).toMatchObject({ type: 'string', minLength: 1, maxLength: 128 });
    expect(item?.properties?.['requests']).toMatchObject({ type: 'integer', minimum: 1, maximum: 1_000_000 });
    expect(item?.properties?.['concurrentCalls']).toMatchObject({ type: 'integer', minimum: 1, maximum: 1_000_000 });
    // No default: one would put windowSeconds on quotas without requests, which the rule refuses.
    expect(item?.properties?.['windowSeconds']).toMatchObject({ type: 'integer', minimum: 1, maximum: 86_400 });
    expect(item?.properties?.['windowSeconds']).not.toHaveProperty('default');
    for (const [field, schema] of Object.entries(item?.properties ?? {})) {
      expect(schema.description, `quotas[].${field} has a description`).toMatch(/\w{3}/);
    }
    expect(rules(item)).toEqual([
      'has(self.requests) || has(self.concurrentCalls)',
      '!has(self.windowSeconds) || has(self.requests)',
    ]);
    expect(messages(item)).toEqual([
      'a quota limits something: give requests (per windowSeconds) or concurrentCalls',
      'windowSeconds without requests would never apply: set requests or leave windowSeconds out',
    ]);
    expect(messages(quotas)).toEqual([
      "at most one quota may leave out tools (it covers the server's other tools together)",
      'the quotas of a server may name at most 500 tools together',
      'a tool may be named by one quota only (the tools of quotas must not overlap)',
    ]);
    const [, , unique] = quotas?.['x-kubernetes-validations'] ?? [];
    expect(unique?.rule).toContain('.distinct()');
    expect(unique?.messageExpression).toContain('is named more than once in quotas');
  });

  it('takes pinning with the two onChange modes (serveApproved by default) and confirmDestructive as a boolean', () => {
    expect(properties['confirmDestructive']).toMatchObject({ type: 'boolean' });
    const pinning = properties['pinning'];
    expect(pinning?.type).toBe('object');
    expect(Object.keys(pinning?.properties ?? {})).toEqual(['onChange']);
    expect(pinning?.properties?.['onChange']).toMatchObject({
      type: 'string',
      default: 'serveApproved',
      enum: ['serveApproved', 'withhold'],
    });
    for (const field of ['confirmDestructive', 'pinning']) {
      expect(properties[field]?.description, field).toMatch(/gateway config/);
    }
  });

  it('bounds status.toolPins: at most 32 quarantined changes, each diff at most 4 200 characters, at most 2 000 digests', () => {
    const status = crds.MCPServerRegistration.spec.versions[0]?.schema.openAPIV3Schema.properties?.['status'];
    const toolPins = status?.properties?.['toolPins'];
    expect(Object.keys(toolPins?.properties ?? {})).toEqual([
      'gatewayNamespace',
      'onChange',
      'pinned',
      'digests',
      'storeAvailable',
      'omitted',
      'quarantined',
    ]);
    expect(toolPins?.properties?.['quarantined']).toMatchObject({ maxItems: 32, 'x-kubernetes-list-type': 'atomic' });
    expect(toolPins?.properties?.['quarantined']?.items?.properties?.['diff']?.maxLength).toBe(4200);
    expect(toolPins?.properties?.['digests']).toMatchObject({
      type: 'object',
      maxProperties: 2000,
      additionalProperties: { type: 'string', maxLength: 80 },
    });
  });
});

describe('MCPGatewayExtension validation', () => {
  const spec = specSchema(crds.MCPGatewayExtension);
  const properties = spec.properties ?? {};

  it('requires the Gateway and listener and checks the target namespace and public host', () => {
    const targetRef = properties['targetRef'];
    expect(targetRef?.required).toEqual(['name', 'sectionName']);
    expect(targetRef?.properties?.['kind']).toMatchObject({ default: 'Gateway', enum: ['Gateway'] });
    expect(rules(targetRef).join(' ')).toContain('self.__namespace__');
    expect(messages(properties['publicHost'])).toEqual([
      'publicHost must be a host name such as mcp.example.com, not a URL',
    ]);
  });

  it("defaults and bounds the anchor's fields", () => {
    expect(properties['backendPingIntervalSeconds']).toMatchObject({ default: 60, minimum: 10, maximum: 7200 });
    expect(properties['httpRouteManagement']).toMatchObject({ default: 'Enabled', enum: ['Enabled', 'Disabled'] });
    expect(properties['urlElicitation']).toMatchObject({ default: 'Disabled' });
    expect(properties['logLevel']?.enum).toEqual(['debug', 'info', 'warn', 'error']);
    expect(properties['maxBodyBytes']?.default).toBe(1048576);
    expect(properties['oauthProtectedResource']?.properties?.['authorizationServers']).toMatchObject({
      minItems: 1,
      maxItems: 10,
      items: { pattern: '^https?://[^,]+$' },
    });
  });
});

describe('the CRD files', () => {
  it('are listed in the kustomization, so kubectl apply -k infra/crds installs all three', () => {
    const kustomization = parse(readFileSync(CRD_DIR + 'kustomization.yaml', 'utf8')) as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual(Object.values(CRD_FILE_NAMES).sort());
  });

  it("are byte-identical in the Helm chart's crds/ directory (node infra/helm/sync-crds.mjs copies them)", () => {
    const chartFiles = readdirSync(CHART_CRD_DIR).sort();
    expect(chartFiles).toEqual(Object.values(CRD_FILE_NAMES).sort());
    for (const file of chartFiles) {
      expect(readFileSync(CHART_CRD_DIR + file, 'utf8'), file).toBe(readFileSync(CRD_DIR + file, 'utf8'));
    }
  });
});
