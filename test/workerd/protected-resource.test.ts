import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type RunningWorker } from './start-worker.ts';

describe('the built edge worker serving OAuth protected resource metadata', () => {
  let configured: RunningWorker;
  let defaults: RunningWorker;

  beforeAll(async () => {
    [configured, defaults] = await Promise.all([
      startWorker([], {
        bindings: {
          OAUTH_RESOURCE_NAME: 'Edge MCP',
          OAUTH_RESOURCE: 'https://mcp.example.com/mcp',
          OAUTH_AUTHORIZATION_SERVERS: 'https://auth.example.com, https://login.example.com',
          OAUTH_BEARER_METHODS_SUPPORTED: 'header',
          OAUTH_SCOPES_SUPPORTED: 'mcp:read,mcp:write',
        },
      }),
      startWorker([]),
    ]);
  });

  afterAll(async () => {
    await Promise.all([configured?.dispose(), defaults?.dispose()]);
  });

  it('builds the metadata from the OAUTH_* bindings', async () => {
    const response = await configured.fetch('/.well-known/oauth-protected-resource');
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(await response.json()).toEqual({
      resource_name: 'Edge MCP',
      resource: 'https://mcp.example.com/mcp',
      authorization_servers: ['https://auth.example.com', 'https://login.example.com'],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp:read', 'mcp:write'],
    });
  });

  it('serves the same metadata under a path suffix (RFC 9728 resource paths)', async () => {
    const response = await configured.fetch('/.well-known/oauth-protected-resource/mcp');
    expect(((await response.json()) as { resource: string }).resource).toBe('https://mcp.example.com/mcp');
  });

  it("falls back to the anchor's defaults without bindings", async () => {
    const response = await defaults.fetch('/.well-known/oauth-protected-resource');
    expect(await response.json()).toEqual({
      resource_name: 'MCP Server',
      resource: '/mcp',
      authorization_servers: [],
      bearer_methods_supported: ['header'],
      scopes_supported: ['basic'],
    });
  });
});
