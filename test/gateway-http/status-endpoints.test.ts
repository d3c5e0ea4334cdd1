import { ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startGateway, startSdkUpstream, type RunningGateway, type SdkUpstream } from '../harness/index.ts';
import {
  echoAndGreet,
  readStatus,
  waitForHealthy,
  waitForStatus,
  type ServerStatusBody,
  type StatusBody,
} from './helpers.ts';

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe('GET /status with two upstreams', () => {
  let alpha: SdkUpstream;
  let weather: SdkUpstream;
  let gateway: RunningGateway;

  beforeAll(async () => {
    alpha = await startSdkUpstream({
      setup(server) {
        echoAndGreet(server);
        server.registerTool('shout', { inputSchema: { text: z.string() } }, ({ text }) => ({
          content: [{ type: 'text', text: text.toUpperCase() }],
        }));
      },
    });
    weather = await startSdkUpstream({
      setup(server) {
        server.registerTool('forecast', { inputSchema: { city: z.string() } }, () => ({ content: [] }));
        // A tool list with one unservable entry (its inputSchema is not an object schema), which
        // McpServer's own registration cannot produce.
        server.server.setRequestHandler(ListToolsRequestSchema, () => ({
          tools: [
            { name: 'forecast', inputSchema: { type: 'object', properties: { city: { type: 'string' } } } },
            { name: 'broken', inputSchema: { type: 'string' } },
          ],
        }));
      },
    });
    gateway = await startGateway({
      config: [
        'servers:',
        '  - name: alpha',
        `    url: ${alpha.url}`,
        '    prefix: a_',
        '  - name: team-a/weather',
        `    url: ${weather.url}`,
        '    hostname: weather.mcp.local',
        '    prefix: w_',
        '',
      ].join('\n'),
    });
    await waitForHealthy(gateway, 2);
  });

  afterAll(async () => {
    await gateway?.stop();
    await Promise.all([alpha?.stop(), weather?.stop()]);
  });

  it('reports every server with its counts and the totals', async () => {
    const response = await fetch(`${gateway.baseUrl}/status`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const status = (await response.json()) as StatusBody;

    expect(status).toEqual({
      servers: [expect.any(Object), expect.any(Object)],
      overallValid: true,
      totalServers: 2,
      healthyServers: 2,
      unHealthyServers: 0,
      toolConflicts: 0,
      timestamp: expect.stringMatching(ISO_TIME),
    });
    const [first, second] = status.servers as [ServerStatusBody, ServerStatusBody];
    expect(first).toMatchObject({
      id: `alpha:a_:127.0.0.1:${alpha.port}`,
      name: 'alpha',
      prefix: 'a_',
      ready: true,
      totalTools: 2,
      totalPrompts: 1,
      invalidTools: 0,
      message: expect.stringMatching(/Total tools added 2\. Total prompts added 1/),
      protocolValidation: {
        isValid: true,
        supportedVersion: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
        expectedVersion: '2025-11-25',
      },
      lastValidated: expect.stringMatching(ISO_TIME),
    });
    expect(second).toMatchObject({
      id: 'team-a/weather:w_:weather.mcp.local',
      name: 'team-a/weather',
      prefix: 'w_',
      ready: true,
      totalTools: 1,
      totalPrompts: 0,
      invalidTools: 1,
      invalidToolList: [{ name: 'broken', errors: [expect.stringContaining('inputSchema')] }],
      message: expect.stringMatching(/Total tools added 1\. Total prompts added 0/),
      protocolValidation: { isValid: true, expectedVersion: '2025-11-25' },
      lastValidated: expect.stringMatching(ISO_TIME),
    });
  });

  it('reports one server by its config name, slash included', async () => {
    const all = await readStatus(gateway);
    for (const path of ['/status/team-a/weather', '/status/team-a%2Fweather']) {
      const response = await fetch(`${gateway.baseUrl}${path}`);
      expect(response.status).toBe(200);
      const server = (await response.json()) as ServerStatusBody;
      expect(server).toEqual({ ...all.servers[1], lastValidated: server.lastValidated });
    }
  });

  it('answers an unknown server name with 404 and a message naming it', async () => {
    const response = await fetch(`${gateway.baseUrl}/status/team-b/nowhere`);
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: string };
    expect(body.error).toContain('team-b/nowhere');
    expect(body.error).toMatch(/not found/);
  });

  it('answers POST /status with 405', async () => {
    const response = await fetch(`${gateway.baseUrl}/status`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(405);
    expect(await response.json()).toEqual({ error: expect.stringMatching(/method not allowed/i) });
  });

  it('is live and ready', async () => {
    expect((await fetch(`${gateway.baseUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${gateway.baseUrl}/readyz`)).status).toBe(200);
  });
});

describe('GET /readyz', () => {
  it('is 200 with no servers configured', async () => {
    const gateway = await startGateway({ config: 'servers: []\n' });
    try {
      expect((await fetch(`${gateway.baseUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${gateway.baseUrl}/readyz`)).status).toBe(200);
    } finally {
      await gateway.stop();
    }
  });

  it('is 503 while the only upstream is down and 200 once a ready upstream is configured', async () => {
    // A port nothing listens on: the upstream is down from the start.
    const down = await startSdkUpstream({ setup: echoAndGreet });
    const downUrl = down.url;
    await down.stop();
    const gateway = await startGateway({ config: `servers:\n  - name: down\n    url: ${downUrl}\n    prefix: d_\n` });
    const up = await startSdkUpstream({ setup: echoAndGreet });
    try {
      // Wait until the gateway has tried and failed, so the 503 is about a down upstream.
      const status = await waitForStatus(gateway, (s) => s.servers[0]?.message !== 'connecting');
      expect(status.servers[0]).toMatchObject({ ready: false, totalTools: 0 });
      expect(status).toMatchObject({ overallValid: false, healthyServers: 0, unHealthyServers: 1 });
      expect((await fetch(`${gateway.baseUrl}/healthz`)).status).toBe(200);
      const readyz = await fetch(`${gateway.baseUrl}/readyz`);
      expect(readyz.status).toBe(503);
      expect(await readyz.text()).toMatch(/no upstream MCP server is ready/);

      await gateway.writeConfig(
        `servers:\n  - name: down\n    url: ${downUrl}\n    prefix: d_\n  - name: up\n    url: ${up.url}\n    prefix: u_\n`,
      );
      await waitForHealthy(gateway, 1);
      expect((await fetch(`${gateway.baseUrl}/readyz`)).status).toBe(200);
    } finally {
      await gateway.stop();
      await up.stop();
    }
  });
});

describe('GET /.well-known/oauth-protected-resource', () => {
  it("serves the anchor's defaults with open CORS", async () => {
    const gateway = await startGateway({ config: 'servers: []\n' });
    try {
      const response = await fetch(`${gateway.baseUrl}/.well-known/oauth-protected-resource`);
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(await response.json()).toEqual({
        resource_name: 'MCP Server',
        resource: '/mcp',
        authorization_servers: [],
        bearer_methods_supported: ['header'],
        scopes_supported: ['basic'],
      });
    } finally {
      await gateway.stop();
    }
  });

  it('serves the OAUTH_* environment, splitting comma lists', async () => {
    const gateway = await startGateway({
      config: 'servers: []\n',
      env: {
        OAUTH_RESOURCE_NAME: 'Team Tools',
        OAUTH_RESOURCE: 'https://mcp.example.com/mcp',
        OAUTH_AUTHORIZATION_SERVERS: 'https://idp.example.com, https://idp2.example.com',
        OAUTH_BEARER_METHODS_SUPPORTED: 'header,body',
        OAUTH_SCOPES_SUPPORTED: 'read, write,admin',
      },
    });
    try {
      const response = await fetch(`${gateway.baseUrl}/.well-known/oauth-protected-resource`);
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(await response.json()).toEqual({
        resource_name: 'Team Tools',
        resource: 'https://mcp.example.com/mcp',
        authorization_servers: ['https://idp.example.com', 'https://idp2.example.com'],
        bearer_methods_supported: ['header', 'body'],
        scopes_supported: ['read', 'write', 'admin'],
      });
    } finally {
      await gateway.stop();
    }
  });
});
