import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  connectSdkClient,
  startGateway,
  startSdkUpstream,
  type RunningGateway,
  type SdkUpstream,
} from '../harness/index.ts';
import { startHttpsSdkUpstream, type HttpsSdkUpstream } from './https-sdk-upstream.ts';
import { createPrivateCa, type PrivateCa } from './private-ca.ts';

/**
 * What /status says of a server whose certificate chains to a CA the gateway does not trust
 * (Node's wording for a leaf-only chain, and for a chain that includes the root).
 */
const UNTRUSTED_CERTIFICATE =
  /^upstream unreachable: .*(unable to verify the first certificate|self-signed certificate in certificate chain)/;

/** One `servers[]` entry; `caCert` is written as a YAML block scalar, as an operator would. */
interface ServerEntry {
  name: string;
  url: string;
  prefix: string;
  caCert?: string;
}

function configYaml(servers: readonly ServerEntry[], gatewayCACertPEM?: string): string {
  const lines = ['servers:'];
  for (const server of servers) {
    lines.push(`  - name: ${server.name}`, `    url: ${server.url}`, `    prefix: ${server.prefix}`);
    if (server.caCert !== undefined) lines.push('    caCert: |', ...indent(server.caCert, 6));
  }
  if (gatewayCACertPEM !== undefined) lines.push('gatewayCACertPEM: |', ...indent(gatewayCACertPEM, 2));
  return `${lines.join('\n')}\n`;
}

function indent(pem: string, spaces: number): string[] {
  return pem
    .trim()
    .split('\n')
    .map((line) => `${' '.repeat(spaces)}${line}`);
}

interface ServerStatus {
  name: string;
  ready: boolean;
  totalTools: number;
  message: string;
}

/** Polls GET /status until server `name` has finished its first check; resolves with its entry. */
async function settledStatus(
  gateway: RunningGateway,
  name: string,
  done = (s: ServerStatus) => s.message !== 'connecting',
): Promise<ServerStatus> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await fetch(`${gateway.baseUrl}/status`);
    const body = (await response.json()) as { servers: ServerStatus[] };
    const server = body.servers.find((entry) => entry.name === name);
    if (server !== undefined && done(server)) return server;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${name} in /status; last: ${JSON.stringify(server)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function readyStatus(gateway: RunningGateway, name: string): Promise<ServerStatus> {
  return settledStatus(gateway, name, (server) => server.ready);
}

/** Runs `body` against a gateway started with `config` (and `env`), stopping the gateway afterwards. */
async function withGateway(
  config: string,
  body: (gateway: RunningGateway) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const gateway = await startGateway({ config, env });
  try {
    await body(gateway);
  } finally {
    await gateway.stop();
  }
}

/** Calls `name` through the gateway with a 1.x client and returns the result's content. */
async function callThroughGateway(gateway: RunningGateway, name: string, text: string): Promise<unknown> {
  const connected = await connectSdkClient(gateway.url, { version: 1 });
  try {
    const result = await connected.client.callTool({ name, arguments: { text } });
    return result.content;
  } finally {
    await connected.close();
  }
}

async function listedTools(gateway: RunningGateway): Promise<string[]> {
  const connected = await connectSdkClient(gateway.url, { version: 1 });
  try {
    return (await connected.client.listTools()).tools.map((tool) => tool.name);
  } finally {
    await connected.close();
  }
}

function echoTool(label: string) {
  return (server: McpServer) => {
    server.registerTool('echo', { description: `${label} echo`, inputSchema: { text: z.string() } }, ({ text }) => ({
      content: [{ type: 'text', text: `${label}: ${text}` }],
    }));
  };
}

describe('an https upstream whose certificate comes from a private CA', () => {
  let ca: PrivateCa;
  let otherCa: PrivateCa;
  let secure: HttpsSdkUpstream;
  let plain: SdkUpstream;

  beforeAll(async () => {
    ca = await createPrivateCa('mcp-gateway test CA');
    otherCa = await createPrivateCa('mcp-gateway unrelated CA');
    secure = await startHttpsSdkUpstream({ certificate: await ca.issueServerCertificate(), setup: echoTool('tls') });
    plain = await startSdkUpstream({ setup: echoTool('plain') });
  });

  afterAll(async () => {
    await secure?.stop();
    await plain?.stop();
    await ca?.remove();
    await otherCa?.remove();
  });

  it('lists and calls its tools when its server entry carries the CA as caCert', async () => {
    const config = configYaml([{ name: 'secure', url: secure.url, prefix: 's_', caCert: ca.certPem }]);
    await withGateway(config, async (gateway) => {
      expect(await readyStatus(gateway, 'secure')).toMatchObject({ ready: true, totalTools: 1 });
      expect(await listedTools(gateway)).toEqual(['s_echo']);

      const callsBefore = secure.requests.filter((request) => request.method === 'tools/call').length;
      expect(await callThroughGateway(gateway, 's_echo', 'over tls')).toEqual([
        { type: 'text', text: 'tls: over tls' },
      ]);
      const calls = secure.requests.filter((request) => request.method === 'tools/call');
      expect(calls).toHaveLength(callsBefore + 1);
      expect(calls.at(-1)?.tlsVersion).toMatch(/^TLSv1\.[23]$/);
    });
  });

  it('reports the certificate problem in /status without caCert and keeps serving the other servers', async () => {
    const config = configYaml([
      { name: 'secure', url: secure.url, prefix: 's_' },
      { name: 'plain', url: plain.url, prefix: 'p_' },
    ]);
    await withGateway(config, async (gateway) => {
      const failed = await settledStatus(gateway, 'secure');
      expect(failed).toMatchObject({ ready: false, totalTools: 0 });
      expect(failed.message).toMatch(UNTRUSTED_CERTIFICATE);

      await readyStatus(gateway, 'plain');
      expect((await fetch(`${gateway.baseUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${gateway.baseUrl}/readyz`)).status).toBe(200);
      expect(await listedTools(gateway)).toEqual(['p_echo']);
      expect(await callThroughGateway(gateway, 'p_echo', 'still here')).toEqual([
        { type: 'text', text: 'plain: still here' },
      ]);
    });
  });

  it('trusts a caCert only for the server entry that carries it', async () => {
    const config = configYaml([
      { name: 'trusted', url: secure.url, prefix: 't_', caCert: ca.certPem },
      { name: 'untrusted', url: secure.url, prefix: 'u_' },
    ]);
    await withGateway(config, async (gateway) => {
      await readyStatus(gateway, 'trusted');
      const untrusted = await settledStatus(gateway, 'untrusted');
      expect(untrusted.ready).toBe(false);
      expect(untrusted.message).toMatch(UNTRUSTED_CERTIFICATE);
      expect(await listedTools(gateway)).toEqual(['t_echo']);
    });
  });

  it('does not connect when caCert holds another CA', async () => {
    const config = configYaml([{ name: 'secure', url: secure.url, prefix: 's_', caCert: otherCa.certPem }]);
    await withGateway(config, async (gateway) => {
      const failed = await settledStatus(gateway, 'secure');
      expect(failed.ready).toBe(false);
      expect(failed.message).toMatch(UNTRUSTED_CERTIFICATE);
    });
  });

  it('trusts gatewayCACertPEM for every https server', async () => {
    const config = configYaml(
      [
        { name: 'secure', url: secure.url, prefix: 's_' },
        { name: 'secure-again', url: secure.url, prefix: 'a_' },
        { name: 'plain', url: plain.url, prefix: 'p_' },
      ],
      ca.certPem,
    );
    await withGateway(config, async (gateway) => {
      await readyStatus(gateway, 'secure');
      await readyStatus(gateway, 'secure-again');
      await readyStatus(gateway, 'plain');
      expect(await listedTools(gateway)).toEqual(['a_echo', 'p_echo', 's_echo']);
      expect(await callThroughGateway(gateway, 's_echo', 'gateway-wide')).toEqual([
        { type: 'text', text: 'tls: gateway-wide' },
      ]);
    });
  });

  it("keeps Node's NODE_EXTRA_CA_CERTS trust when gatewayCACertPEM adds another CA", async () => {
    const config = configYaml([{ name: 'secure', url: secure.url, prefix: 's_' }], otherCa.certPem);
    await withGateway(
      config,
      async (gateway) => {
        expect(await settledStatus(gateway, 'secure')).toMatchObject({ ready: true, totalTools: 1 });
      },
      { NODE_EXTRA_CA_CERTS: ca.certPath },
    );
  });

  it('connects a server that failed the certificate check once a reload adds its caCert', async () => {
    const without = configYaml([{ name: 'secure', url: secure.url, prefix: 's_' }]);
    await withGateway(without, async (gateway) => {
      expect((await settledStatus(gateway, 'secure')).message).toMatch(UNTRUSTED_CERTIFICATE);
      const connected = await connectSdkClient(gateway.url, { version: 1 });
      try {
        expect((await connected.client.listTools()).tools).toEqual([]);

        await gateway.writeConfig(configYaml([{ name: 'secure', url: secure.url, prefix: 's_', caCert: ca.certPem }]));
        expect(await readyStatus(gateway, 'secure')).toMatchObject({ ready: true, totalTools: 1 });
        expect((await connected.client.listTools()).tools.map((tool) => tool.name)).toEqual(['s_echo']);
        const result = await connected.client.callTool({ name: 's_echo', arguments: { text: 'after reload' } });
        expect(result.content).toEqual([{ type: 'text', text: 'tls: after reload' }]);
      } finally {
        await connected.close();
      }
    });
  });
});
