import { parseConfig } from '@mcp-gateway/core';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { McpServerRegistration } from './api-types.ts';
import type { ConfigOptions } from './config-builder.ts';
import { planCluster } from './plan.ts';
import { extension, gateway, listener, registration, route, service, state } from './test-objects.ts';
import { parseApprovedDigests } from './tool-pins.ts';
import { APPROVED_DIGESTS_ANNOTATION } from '../names.ts';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'0123456789abcdef'.repeat(4)}`;
const TOOL_PINS = {
  gatewayNamespace: 'mcp-test',
  onChange: 'serveApproved',
  pinned: 2,
  storeAvailable: true,
  quarantined: [],
};

/** One gateway in mcp-test and one registration `moon` (with these annotations) whose route attaches to it. */
function planWith(
  spec: Partial<McpServerRegistration['spec']>,
  annotations: Record<string, string> = {},
  options: ConfigOptions = {},
  status?: McpServerRegistration['status'],
) {
  const base = registration('mcp-test', 'moon', 'moon-route', { prefix: 'moon_', ...spec });
  const moon = status === undefined ? base : { ...base, status };
  return planCluster(
    state({
      gateways: [gateway('mcp-test', 'gw', [listener('http', 8080, '*.mcp.local')])],
      extensions: [extension('mcp-test', 'ext', { name: 'gw', sectionName: 'http' })],
      services: [service('mcp-test', 'moon-service', [{ port: 8081 }])],
      httpRoutes: [route('mcp-test', 'moon-route', { name: 'gw' }, { name: 'moon-service', port: 8081 })],
      registrations: [{ ...moon, metadata: { ...moon.metadata, annotations } }],
    }),
    options,
  );
}

function fileOf(plan: ReturnType<typeof planWith>): { servers: Record<string, unknown>[] } & Record<string, unknown> {
  return parse(plan.configYaml('mcp-test') ?? '') as { servers: Record<string, unknown>[] };
}

describe('the approval annotation', () => {
  it('takes digests separated by commas, spaces or new lines, lower-cased, sorted and each once', () => {
    const upper = `sha256:${'0123456789ABCDEF'.repeat(4)}`;
    expect(parseApprovedDigests(` ${A},${upper}\n${B} ,, ${A}`)).toEqual({
      digests: [B, A],
      malformed: [],
      dropped: 0,
    });
  });

  it('reports entries that are not sha256:<64 hex> and keeps the others', () => {
    const parsed = parseApprovedDigests(`${A}, sha256:abc, md5:${'a'.repeat(32)} ${'a'.repeat(64)}`);
    expect(parsed.digests).toEqual([A]);
    expect(parsed.malformed).toEqual(['sha256:abc', `md5:${'a'.repeat(32)}`, 'a'.repeat(64)]);
  });

  it('keeps at most 2 000 digests, the bound of the config file, and counts the others', () => {
    const many = Array.from({ length: 2003 }, (_, i) => `sha256:${i.toString(16).padStart(64, '0')}`);
    const parsed = parseApprovedDigests(many.join(' '));
    expect(parsed.digests).toHaveLength(2000);
    expect(parsed.digests[0]).toBe(many[0]);
    expect(parsed.dropped).toBe(3);
  });

  it('is empty when absent or blank', () => {
    expect(parseApprovedDigests(undefined)).toEqual({ digests: [], malformed: [], dropped: 0 });
    expect(parseApprovedDigests(' , \n')).toEqual({ digests: [], malformed: [], dropped: 0 });
  });
});

describe('the server entry of the config file', () => {
  it('carries spec.pinning with the approved digests of the annotation', () => {
    const plan = planWith({ pinning: { onChange: 'withhold' } }, { [APPROVED_DIGESTS_ANNOTATION]: `${B} ${A}` });
    expect(fileOf(plan).servers[0]?.['pinning']).toEqual({ onChange: 'withhold', approve: [B, A] });
    expect(plan.registrations.get('mcp-test/moon')?.condition).toMatchObject({
      status: 'True',
      message: 'config written to the gateway in namespace mcp-test',
    });
  });

  it('writes pinning without approve when nothing is approved, onChange serveApproved when the CRD default is missing', () => {
    expect(fileOf(planWith({ pinning: {} })).servers[0]?.['pinning']).toEqual({ onChange: 'serveApproved' });
  });

  it('names a malformed approval in the Ready message and uses the other digests', () => {
    const plan = planWith(
      { pinning: { onChange: 'serveApproved' } },
      { [APPROVED_DIGESTS_ANNOTATION]: `${A},sha256:xyz` },
    );
    expect(fileOf(plan).servers[0]?.['pinning']).toEqual({ onChange: 'serveApproved', approve: [A] });
    const condition = plan.registrations.get('mcp-test/moon')?.condition;
    expect(condition?.status).toBe('True');
    expect(condition?.message).toBe(
      'config written to the gateway in namespace mcp-test; annotation mcp.kuadrant.io/approved-tool-digests: ' +
        'ignored "sha256:xyz" (each entry must be sha256:<64 hex digits>)',
    );
  });

  it('does not pin a server for an annotation alone, and says that the annotation has no effect', () => {
    const plan = planWith({}, { [APPROVED_DIGESTS_ANNOTATION]: A });
    expect(fileOf(plan).servers[0]).not.toHaveProperty('pinning');
    expect(plan.registrations.get('mcp-test/moon')?.condition.message).toContain(
      'annotation mcp.kuadrant.io/approved-tool-digests has no effect: spec.pinning is not set',
    );
  });

  it('carries status.toolPins.digests as pinning.pinned, sorted by tool name, in a config the gateway accepts', () => {
    const digests = { write_file: A, read_file: B };
    const plan = planWith({ pinning: {} }, {}, {}, { toolPins: { ...TOOL_PINS, digests } });
    const pinning = fileOf(plan).servers[0]?.['pinning'] as Record<string, unknown>;
    expect(pinning).toEqual({ onChange: 'serveApproved', pinned: { read_file: B, write_file: A } });
    expect(Object.keys(pinning['pinned'] as object)).toEqual(['read_file', 'write_file']);
    const parsed = parseConfig(plan.configYaml('mcp-test') ?? '', 'config.yaml');
    expect(parsed.ok && parsed.config.servers[0]?.pinning?.pinned).toEqual(digests);
  });

  it('leaves out a malformed status digest, and pinned altogether without spec.pinning', () => {
    const toolPins = { ...TOOL_PINS, digests: { read_file: 'sha256:xyz', write_file: A } };
    expect(fileOf(planWith({ pinning: {} }, {}, {}, { toolPins })).servers[0]?.['pinning']).toEqual({
      onChange: 'serveApproved',
      pinned: { write_file: A },
    });
    expect(fileOf(planWith({}, {}, {}, { toolPins })).servers[0]).not.toHaveProperty('pinning');
  });

  it('has no pinning, confirmDestructive or confirmation key when nothing asks for them', () => {
    const file = fileOf(planWith({}));
    expect(file.servers[0]).not.toHaveProperty('pinning');
    expect(file.servers[0]).not.toHaveProperty('confirmDestructive');
    expect(file).not.toHaveProperty('confirmation');
  });
});

describe('the confirmation timeout of the controller', () => {
  it('is written at the top of the config of an extension that sets none', () => {
    const file = fileOf(planWith({}, {}, { confirmationTimeoutSeconds: 300 }));
    expect(file['confirmation']).toEqual({ timeoutSeconds: 300 });
  });

  it("gives way to the extension's spec.confirmation, and fills in an empty one", () => {
    const planFor = (confirmation: { timeoutSeconds?: number }) => {
      const plan = planWith({}, {}, { confirmationTimeoutSeconds: 300 });
      const [verdict] = plan.extensions.values();
      const ext = verdict!.extension;
      return planCluster(
        { ...plan.index.state, extensions: [{ ...ext, spec: { ...ext.spec, confirmation } }] },
        { confirmationTimeoutSeconds: 300 },
      );
    };
    expect(fileOf(planFor({ timeoutSeconds: 30 }))['confirmation']).toEqual({ timeoutSeconds: 30 });
    expect(fileOf(planFor({}))['confirmation']).toEqual({ timeoutSeconds: 300 });
  });
});
