import type { ServerConfig } from '../config/schema.ts';
import type { UpstreamSnapshot } from '../upstream/types.ts';

/** A configured server for catalog, routing and status tests (test support; not exported). */
export function fakeServer(name: string, prefix: string, extra: Partial<ServerConfig> = {}): ServerConfig {
  return {
    name,
    url: `http://${name}.internal/mcp`,
    hostname: `${name}.internal`,
    prefix,
    enabled: true,
    userSpecificList: false,
    category: [],
    tags: [],
    ...extra,
  };
}

/** A ready upstream snapshot with no items unless `extra` brings them (test support). */
export function fakeSnapshot(name: string, extra: Partial<UpstreamSnapshot> = {}): UpstreamSnapshot {
  return {
    server: name,
    ready: true,
    message: 'server added successfully',
    protocolVersion: '2025-06-18',
    capabilities: {},
    tools: [],
    prompts: [],
    resources: [],
    resourceTemplates: [],
    invalidTools: [],
    invalidPrompts: [],
    consecutiveFailures: 0,
    ...extra,
  };
}
