import { parseConfig } from '@mcp-gateway/core';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { McpServerRegistration } from './api-types.ts';
import { planCluster } from './plan.ts';
import { extension, gateway, listener, registration, route, service, state } from './test-objects.ts';

/** One gateway in mcp-test and one registration `moon` whose route attaches to it. */
function planWith(spec: Partial<McpServerRegistration['spec']>) {
  return planCluster(
    state({
      gateways: [gateway('mcp-test', 'gw', [listener('http', 8080, '*.mcp.local')])],
      extensions: [extension('mcp-test', 'ext', { name: 'gw', sectionName: 'http' })],
      services: [service('mcp-test', 'moon-service', [{ port: 8081 }])],
      httpRoutes: [route('mcp-test', 'moon-route', { name: 'gw' }, { name: 'moon-service', port: 8081 })],
      registrations: [registration('mcp-test', 'moon', 'moon-route', { prefix: 'moon_', ...spec })],
    }),
  );
}

/** The `servers[]` entries of the written config file, as YAML mappings (the file's spelling). */
function fileServers(yaml: string | undefined): Record<string, unknown>[] {
  return (parse(yaml ?? '') as { servers: Record<string, unknown>[] }).servers;
}

describe('the server entry of the config file', () => {
  it("carries the registration's tool overrides as written", () => {
    const toolOverrides = [
      {
        tool: 'create_issue',
        name: 'open_ticket',
        description: 'Opens a ticket in the team tracker.',
        descriptionSuffix: 'Ask before opening one.',
        fixedArguments: { owner: 'acme', labels: ['triage'], options: { draft: false } },
        annotations: { destructiveHint: true, title: 'Open ticket' },
        confirm: true,
      },
      { tool: 'delete_repo', hidden: true },
    ];
    const [server] = fileServers(planWith({ toolOverrides }).configYaml('mcp-test'));
    expect(server).toMatchObject({ name: 'mcp-test/moon', prefix: 'moon_' });
    expect(server?.['toolOverrides']).toEqual(toolOverrides);
  });

  it('leaves out empty fields of an override, and fields the file does not know', () => {
    const written = {
      tool: 'search',
      name: '',
      description: '',
      descriptionSuffix: 'Results are cached for a minute.',
      hidden: false,
      fixedArguments: {},
      annotations: {},
      comment: 'not a field of the file',
    };
    const [server] = fileServers(planWith({ toolOverrides: [written] }).configYaml('mcp-test'));
    expect(server?.['toolOverrides']).toEqual([
      { tool: 'search', descriptionSuffix: 'Results are cached for a minute.', hidden: false },
    ]);
  });

  it('carries confirmDestructive when the registration sets it, and nothing otherwise', () => {
    const [confirming] = fileServers(planWith({ confirmDestructive: true }).configYaml('mcp-test'));
    expect(confirming?.['confirmDestructive']).toBe(true);
    const [plain] = fileServers(planWith({ confirmDestructive: false }).configYaml('mcp-test'));
    expect(plain).not.toHaveProperty('confirmDestructive');
  });

  it('has no toolOverrides key when the registration sets none, or an empty list', () => {
    for (const spec of [{}, { toolOverrides: [] }]) {
      const [server] = fileServers(planWith(spec).configYaml('mcp-test'));
      expect(server?.['name']).toBe('mcp-test/moon');
      expect(server).not.toHaveProperty('toolOverrides');
    }
  });

  it("carries the registration's quotas as written, which the gateway reads with its default window", () => {
    const quotas = [
      { tools: ['create_issue', 'delete_repo'], requests: 30, windowSeconds: 120, concurrentCalls: 2 },
      { tools: ['search'], requests: 600 },
      { concurrentCalls: 4 },
    ];
    const yaml = planWith({ quotas }).configYaml('mcp-test');
    const [server] = fileServers(yaml);
    expect(server?.['quotas']).toEqual(quotas);
    const parsed = parseConfig(yaml ?? '', 'config.yaml');
    expect(parsed.ok && parsed.config.servers[0]?.quotas).toEqual([
      { tools: ['create_issue', 'delete_repo'], requests: 30, windowSeconds: 120, concurrentCalls: 2 },
      { tools: ['search'], requests: 600, windowSeconds: 60 },
      { windowSeconds: 60, concurrentCalls: 4 },
    ]);
  });

  it('copies only the four fields of a quota', () => {
    const written = { tools: ['search'], requests: 5, burst: 10, comment: 'not a field of the file' };
    const [server] = fileServers(planWith({ quotas: [written] }).configYaml('mcp-test'));
    expect(server?.['quotas']).toEqual([{ tools: ['search'], requests: 5 }]);
  });

  it('has no quotas key when the registration sets none, or an empty list', () => {
    for (const spec of [{}, { quotas: [] }]) {
      const [server] = fileServers(planWith(spec).configYaml('mcp-test'));
      expect(server?.['name']).toBe('mcp-test/moon');
      expect(server).not.toHaveProperty('quotas');
    }
  });
});
