// The repository's Envoy bootstrap (infra/envoy/) on the real Envoy binary: the ext_proc
// variant is validated by Envoy itself; the pass-through variant (no ext_proc filter)
// serves MCP end to end in front of the built gateway and a real SDK upstream.
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  DEFAULT_BOOTSTRAP_OPTIONS,
  renderEnvoyBootstrap,
  type EnvoyBootstrapOptions,
} from '../../infra/envoy/render-bootstrap.mjs';
import {
  connectSdkClient,
  freePort,
  REPO_ROOT,
  startEnvoy,
  startGateway,
  startSdkUpstream,
  validateEnvoyConfig,
  type RunningEnvoy,
  type RunningGateway,
  type SdkUpstream,
} from '../harness/index.ts';

const UPSTREAM_HOST = 'server1.mcp.local';

/** Runs `envoy --mode validate` on `yaml` written to a temp file. */
async function validate(yaml: string): Promise<{ ok: boolean; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'mcpgw-envoy-validate-'));
  try {
    const path = join(dir, 'envoy.yaml');
    await writeFile(path, yaml);
    return validateEnvoyConfig(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('the Envoy bootstrap with the ext_proc filter', () => {
  it('is what infra/envoy/envoy.yaml holds, and Envoy accepts it', async () => {
    const checkedIn = await readFile(join(REPO_ROOT, 'infra/envoy/envoy.yaml'), 'utf8');
    expect(checkedIn).toBe(renderEnvoyBootstrap(DEFAULT_BOOTSTRAP_OPTIONS));
    const verdict = validateEnvoyConfig(join(REPO_ROOT, 'infra/envoy/envoy.yaml'));
    expect(verdict.output).toContain('OK');
    expect(verdict.ok).toBe(true);
  });

  it('passes envoy --mode validate when rendered with host names, several upstreams and other ports', async () => {
    const options: EnvoyBootstrapOptions = {
      listenerPort: await freePort(),
      adminPort: await freePort(),
      brokerAddress: 'mcp-broker.mcp-system.svc.cluster.local:8080',
      extProcAddress: '127.0.0.1:50051',
      upstreams: [
        { name: 'weather', hostname: 'weather.mcp.local', address: 'localhost:9091', path: '/mcp' },
        { name: 'files', hostname: 'Files.MCP.local', address: '[::1]:9092', path: '/v1/mcp' },
      ],
    };
    const yaml = renderEnvoyBootstrap(options);
    expect(yaml).toContain('envoy.filters.http.ext_proc');
    const verdict = await validate(yaml);
    expect(verdict.output).toContain('OK');
    expect(verdict.ok).toBe(true);
  });

  it('rejects options it cannot render, naming the option', () => {
    const base = { listenerPort: 10000, adminPort: 9901, brokerAddress: '127.0.0.1:8080', extProc: false };
    expect(() => renderEnvoyBootstrap({ ...base, brokerAddress: '127.0.0.1' })).toThrow(/brokerAddress/);
    expect(() => renderEnvoyBootstrap({ ...base, extProc: true })).toThrow(/extProcAddress/);
    const upstream = { name: 'a', hostname: 'a.local', address: '127.0.0.1:1', path: '/mcp' };
    expect(() => renderEnvoyBootstrap({ ...base, upstreams: [{ ...upstream, path: "/it's" }] })).toThrow(
      /upstreams\[0\]\.path/,
    );
    expect(() => renderEnvoyBootstrap({ ...base, upstreams: [upstream, { ...upstream, name: 'b' }] })).toThrow(
      /duplicate host a\.local/,
    );
  });
});

function echoSetup(server: McpServer) {
  server.registerTool('echo', { description: 'Echoes text', inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text: `echo: ${text}` }],
  }));
  server.registerTool('steps', {}, async (extra) => {
    const progressToken = extra._meta?.progressToken;
    if (progressToken === undefined) throw new Error('steps needs a progress token');
    for (const progress of [1, 2]) {
      await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, total: 2 } });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return { content: [{ type: 'text', text: 'done' }] };
  });
}

/** POSTs a JSON-RPC initialize to Envoy's listener with a chosen Host header; resolves with status and headers. */
function initializeWithHost(
  listenerPort: number,
  host: string,
  path = '/mcp',
): Promise<{ status: number; headers: Record<string, unknown> }> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1.0.0' } },
  });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: listenerPort,
        method: 'POST',
        path,
        headers: {
          host,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'content-length': Buffer.byteLength(body),
        },
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.once('timeout', () => req.destroy(new Error('initialize through Envoy timed out')));
    req.once('error', reject);
    req.end(body);
  });
}

describe('Envoy with the pass-through bootstrap in front of the gateway', () => {
  let upstream: SdkUpstream;
  let gateway: RunningGateway;
  let envoy: RunningEnvoy;
  let listenerPort: number;
  let mcpUrl: string;

  beforeAll(async () => {
    upstream = await startSdkUpstream({ name: 'server1', setup: echoSetup });
    gateway = await startGateway({
      config: `servers:\n  - name: server1\n    url: ${JSON.stringify(upstream.url)}\n    prefix: s1_\n`,
    });
    listenerPort = await freePort();
    envoy = await startEnvoy({
      config: renderEnvoyBootstrap({
        listenerPort,
        adminPort: await freePort(),
        brokerAddress: `127.0.0.1:${gateway.port}`,
        extProc: false,
        upstreams: [{ name: 'server1', hostname: UPSTREAM_HOST, address: `127.0.0.1:${upstream.port}`, path: '/mcp' }],
      }),
    });
    mcpUrl = `${envoy.listenerUrl(listenerPort)}/mcp`;
  });

  afterAll(async () => {
    await envoy?.stop();
    await gateway?.stop();
    await upstream?.stop();
  });

  for (const version of [1, 2] as const) {
    it(`lets a ${version}.x SDK client list and call the upstream's tools through Envoy's listener`, async () => {
      const connected =
        version === 1 ? await connectSdkClient(mcpUrl, { version: 1 }) : await connectSdkClient(mcpUrl, { version: 2 });
      try {
        // The gateway discovers the upstream in the background; poll within the test's bound.
        const deadline = Date.now() + 15_000;
        let names: string[] = [];
        while (!names.includes('s1_echo') && Date.now() < deadline) {
          names = (await connected.client.listTools()).tools.map((tool) => tool.name);
          if (!names.includes('s1_echo')) await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(names).toEqual(['s1_echo', 's1_steps']);
        const result = await connected.client.callTool({ name: 's1_echo', arguments: { text: 'via envoy' } });
        expect(result.content).toEqual([{ type: 'text', text: 'echo: via envoy' }]);
      } finally {
        await connected.close();
      }
      // Envoy's access log shows the calls went through its listener to the broker cluster.
      expect(envoy.logs()).toMatch(/"POST \/mcp HTTP\/1\.1" 200/);
    });
  }

  it('streams progress notifications of a tools/call through Envoy before the result', async () => {
    const connected = await connectSdkClient(mcpUrl, { version: 1 });
    try {
      const progress: number[] = [];
      const result = await connected.client.callTool({ name: 's1_steps', arguments: {} }, undefined, {
        onprogress: ({ progress: value }) => progress.push(value),
        timeout: 10_000,
      });
      expect(progress).toEqual([1, 2]);
      expect(result.content).toEqual([{ type: 'text', text: 'done' }]);
    } finally {
      await connected.close();
    }
  });

  it("routes a request for an upstream's hostname straight to that upstream, bypassing the broker", async () => {
    const before = upstream.initializeCount;
    expect((await initializeWithHost(listenerPort, UPSTREAM_HOST)).status).toBe(200);
    expect(upstream.initializeCount).toBe(before + 1);
    // The gateway would have sent its own Host; this one is the client's, as Envoy matched it.
    const last = upstream.requests.at(-1);
    expect(last?.method).toBe('initialize');
    expect(last?.headers.host).toBe(UPSTREAM_HOST);
    expect(last?.headers['x-forwarded-proto']).toBe('http');
  });

  it("answers 404 itself for a path outside the upstream's route on that upstream's hostname", async () => {
    const before = upstream.httpRequests.length;
    const response = await initializeWithHost(listenerPort, `${UPSTREAM_HOST}:${listenerPort}`, '/elsewhere');
    expect(response.status).toBe(404);
    expect(response.headers.server).toBe('envoy');
    expect(upstream.httpRequests.length).toBe(before);
  });
});
