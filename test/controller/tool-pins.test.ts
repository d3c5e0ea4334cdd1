// MCPServerRegistration spec.pinning, spec.confirmDestructive, toolOverrides[].confirm and the
// approval annotation against a real API server: what the CRD refuses, and what reaches the
// config Secret.
import { KubeApiError, objectPath } from '@mcp-gateway/controller';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  configText,
  httpRoute,
  ns,
  readyOf,
  registration,
  service,
  sharedGatewayAndExtension,
  startTestCluster,
  waitConfigNames,
  waitFor,
  type TestCluster,
} from './cluster.ts';

let cluster: TestCluster;
const parent = { name: 'mcp-gateway', namespace: 'mcp-system' };
const registrationPath = (name: string) => objectPath('mcp.kuadrant.io/v1', 'MCPServerRegistration', 'mcp-test', name);
const ANNOTATION = 'mcp.kuadrant.io/approved-tool-digests';
const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

beforeAll(async () => {
  cluster = await startTestCluster();
  cluster.startReplica(undefined, { config: { confirmationTimeoutSeconds: 45 } });
  await cluster.apply(ns('mcp-system'), ns('mcp-test'), ...sharedGatewayAndExtension());
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

/** The written config file, as YAML mappings. */
async function writtenFile(): Promise<{ servers: Array<Record<string, unknown>> } & Record<string, unknown>> {
  return parse((await configText(cluster.api, 'mcp-system')) ?? 'servers: []') as {
    servers: Array<Record<string, unknown>>;
  };
}

async function writtenServer(name: string): Promise<Record<string, unknown> | undefined> {
  return (await writtenFile()).servers.find((server) => server['name'] === name);
}

const refusedWith = (message: string) => (error: unknown) =>
  error instanceof KubeApiError && error.status === 422 && error.message.includes(message);

describe('pinning and confirmation fields', () => {
  const vault = (spec: Record<string, unknown>) =>
    registration('mcp-test', 'vault', 'vault-route', { prefix: 'vault_', ...spec });

  it('writes pinning, confirmDestructive and an override’s confirm into the config entry, and the confirmation timeout at the top', async () => {
    await cluster.apply(
      service('mcp-test', 'vault', 8000),
      httpRoute('mcp-test', 'vault-route', parent, { name: 'vault', port: 8000 }, ['vault.mcp.local']),
      vault({ pinning: {}, confirmDestructive: true, toolOverrides: [{ tool: 'rm', confirm: true }] }),
    );
    const server = await waitFor(
      'the vault server in the config',
      () => writtenServer('mcp-test/vault'),
      (seen) => seen !== undefined,
    );
    // The CRD fills in onChange; no annotation, so nothing is approved.
    expect(server?.['pinning']).toEqual({ onChange: 'serveApproved' });
    expect(server?.['confirmDestructive']).toBe(true);
    expect(server?.['toolOverrides']).toEqual([{ tool: 'rm', confirm: true }]);
    expect((await writtenFile())['confirmation']).toEqual({ timeoutSeconds: 45 });
  });

  it('refuses an unknown onChange, a confirmDestructive that is not a boolean, and a hidden tool with confirm', async () => {
    await expect(cluster.apply(vault({ pinning: { onChange: 'sometimes' } }))).rejects.toSatisfy(
      refusedWith(
        'spec.pinning.onChange: Unsupported value: "sometimes": supported values: "serveApproved", "withhold"',
      ),
    );
    // A server-side apply of a wrong type fails before validation (500); a create is validated.
    const typo = registration('mcp-test', 'vault-typo', 'vault-route', { confirmDestructive: 'yes' });
    await expect(cluster.api.create(typo)).rejects.toSatisfy(
      refusedWith(
        'spec.confirmDestructive: Invalid value: "string": spec.confirmDestructive in body must be of type boolean',
      ),
    );
    await expect(
      cluster.apply(vault({ toolOverrides: [{ tool: 'rm', hidden: true, confirm: true }] })),
    ).rejects.toSatisfy(
      refusedWith(
        'spec.toolOverrides[0]: Invalid value: a hidden tool is neither listed nor callable: with hidden true, set no other field than tool',
      ),
    );
  });

  it('drops the fields from the config entry when they are removed', async () => {
    await cluster.apply(vault({ pinning: { onChange: 'withhold' } }));
    await waitFor(
      'withhold without confirmDestructive',
      () => writtenServer('mcp-test/vault'),
      (seen) => JSON.stringify(seen?.['pinning']) === '{"onChange":"withhold"}' && !('confirmDestructive' in seen!),
    );
    await cluster.apply(vault({}));
    const server = await waitFor(
      'no pinning',
      () => writtenServer('mcp-test/vault'),
      (seen) => seen !== undefined && !('pinning' in seen),
    );
    expect(server).not.toHaveProperty('toolOverrides');
  });
});

describe('the approval annotation', () => {
  const pinned = (annotations: Record<string, string>) => {
    const object = registration('mcp-test', 'files', 'files-route', {
      prefix: 'files_',
      pinning: { onChange: 'serveApproved' },
    });
    return { ...object, metadata: { ...object.metadata, annotations } };
  };

  it('reaches pinning.approve, and a change of it alone (no new generation) is applied', async () => {
    await cluster.apply(
      service('mcp-test', 'files', 8000),
      httpRoute('mcp-test', 'files-route', parent, { name: 'files', port: 8000 }, ['files.mcp.local']),
      pinned({ [ANNOTATION]: A }),
    );
    await waitFor(
      'the approval in the config',
      async () => (await writtenServer('mcp-test/files'))?.['pinning'],
      (seen) => JSON.stringify(seen) === JSON.stringify({ onChange: 'serveApproved', approve: [A] }),
    );
    await cluster.api.mergePatch(registrationPath('files'), {
      metadata: { annotations: { [ANNOTATION]: `${A}, ${B}` } },
    });
    await waitFor(
      'both approvals in the config',
      async () => (await writtenServer('mcp-test/files'))?.['pinning'],
      (seen) => JSON.stringify(seen) === JSON.stringify({ onChange: 'serveApproved', approve: [A, B] }),
    );
    const stored = await cluster.api.get(registrationPath('files'));
    expect(stored?.metadata.generation).toBe(1);
  });

  it('names a malformed entry on the Ready condition and uses the others', async () => {
    await cluster.api.mergePatch(registrationPath('files'), {
      metadata: { annotations: { [ANNOTATION]: `${B} sha256:not-a-digest` } },
    });
    const ready = await waitFor(
      'the malformed entry on Ready',
      () => readyOf(cluster.api, 'MCPServerRegistration', 'mcp-test', 'files'),
      (condition) => condition?.message.includes('sha256:not-a-digest') === true,
    );
    expect(ready).toMatchObject({
      status: 'True',
      reason: 'Ready',
      message:
        'config written to the gateway in namespace mcp-system; annotation mcp.kuadrant.io/approved-tool-digests: ' +
        'ignored "sha256:not-a-digest" (each entry must be sha256:<64 hex digits>)',
    });
    expect((await writtenServer('mcp-test/files'))?.['pinning']).toEqual({ onChange: 'serveApproved', approve: [B] });
  });

  it('leaves the config when the registration is deleted', async () => {
    await cluster.api.delete(registrationPath('files'));
    await cluster.api.delete(registrationPath('vault'));
    await waitConfigNames(cluster.api, 'mcp-system', []);
  });
});

describe('the digests of status.toolPins', () => {
  const toolPins = {
    gatewayNamespace: 'mcp-system',
    onChange: 'serveApproved',
    pinned: 2,
    digests: { write_note: A, read_note: B },
    storeAvailable: true,
    quarantined: [],
  };

  it('reach pinning.pinned of the server in the config Secret, sorted by tool name', async () => {
    await cluster.apply(
      service('mcp-test', 'notes', 8000),
      httpRoute('mcp-test', 'notes-route', parent, { name: 'notes', port: 8000 }, ['notes.mcp.local']),
      registration('mcp-test', 'notes', 'notes-route', { prefix: 'notes_', pinning: {} }),
    );
    await waitFor(
      'the notes server in the config',
      () => writtenServer('mcp-test/notes'),
      (seen) => seen !== undefined,
    );
    // What the controller writes from a gateway's report (this suite runs no gateway; see
    // tool-pins-gateway.test.ts for the report of a real one).
    const object = await cluster.api.get(registrationPath('notes'));
    await cluster.api.applyStatus(object!, { toolPins });

    const pinning = await waitFor(
      'the digests in the config',
      async () => (await writtenServer('mcp-test/notes'))?.['pinning'],
      (seen) =>
        JSON.stringify(seen) === JSON.stringify({ onChange: 'serveApproved', pinned: { read_note: B, write_note: A } }),
    );
    expect(pinning).toBeDefined();
  });

  it('refuses more than 2 000 digests in the status', async () => {
    const object = await cluster.api.get(registrationPath('notes'));
    const digests = Object.fromEntries(Array.from({ length: 2001 }, (_, i) => [`tool_${i}`, A]));
    await expect(cluster.api.applyStatus(object!, { toolPins: { ...toolPins, digests } })).rejects.toSatisfy(
      refusedWith('status.toolPins.digests: Too many: 2001: must have at most 2000 items'),
    );
    await cluster.api.delete(registrationPath('notes'));
  });
});
