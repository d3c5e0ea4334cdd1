// runGateway with the router and an https:// private host, beside the broker and as its own
// process (--router-only, on a real Redis): Envoy asks the router (over real gRPC) about a
// tools/call, and the router opens the backend session by a hairpin initialize to the private
// host over real TLS. A real MCP SDK server on node:https, certified by a throwaway
// private CA, is both the upstream and the private host's stand-in (Envoy's TLS listener in a
// cluster). The server's own `caCert` lets the gateway list its tools; the hairpin trusts only
// `gatewayCACertPEM`, which a config reload adds.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NOOP_LOGGER } from '@mcp-gateway/core';
import { BACKEND_INIT_HEADERS, unverified } from '@mcp-gateway/core/router';
import { createCallerIdentities, createSessionTokens } from '@mcp-gateway/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openSession, pollUntil } from '../../../test/gateway-http/helpers.ts';
import {
  connectExtProc,
  exchange,
  httpHeaders,
  type DecodedAnswer as Decoded,
  type ExtProcClient,
} from '../../../test/harness/ext-proc-client.ts';
import { startRedis, type RunningRedis } from '../../../test/harness/redis.ts';
import { startHttpsSdkUpstream, type HttpsSdkUpstream } from '../../../test/gateway-tls/https-sdk-upstream.ts';
import { createPrivateCa, type PrivateCa } from '../../../test/gateway-tls/private-ca.ts';
import { parseCli } from './cli-options.ts';
import { runGateway, type RunningGateway } from './run-gateway.ts';

const SIGNING_KEY = 'a-run-gateway-private-host-tls-test-key-32-bytes';

function indent(pem: string, spaces: number): string[] {
  return pem
    .trim()
    .split('\n')
    .map((line) => `${' '.repeat(spaces)}${line}`);
}

function configYaml(upstreamUrl: string, caPem: string, gatewayCACertPEM?: string): string {
  const lines = [
    'servers:',
    '  - name: team-a/weather',
    `    url: ${upstreamUrl}`,
    '    hostname: weather.mcp.local',
    '    prefix: weather_',
    '    caCert: |',
    ...indent(caPem, 6),
  ];
  if (gatewayCACertPEM !== undefined) lines.push('gatewayCACertPEM: |', ...indent(gatewayCACertPEM, 2));
  return `${lines.join('\n')}\n`;
}

describe.each([
  { mode: 'beside the broker', routerOnly: false },
  { mode: 'as its own process (--router-only)', routerOnly: true },
])('runGateway: the router’s hairpin initialize to an https:// private host, $mode', ({ routerOnly }) => {
  let ca: PrivateCa;
  let redis: RunningRedis | undefined;
  let upstream: HttpsSdkUpstream;
  let dir: string;
  let configPath: string;
  let running: RunningGateway;
  let client: ExtProcClient;
  let privateHost: string;

  beforeAll(async () => {
    ca = await createPrivateCa('mcp-gateway private host test CA');
    upstream = await startHttpsSdkUpstream({
      certificate: await ca.issueServerCertificate(),
      setup(server) {
        server.registerTool('forecast', { inputSchema: { city: z.string() } }, ({ city }) => ({
          content: [{ type: 'text', text: `sunny in ${city}` }],
        }));
      },
    });
    privateHost = new URL(upstream.url).origin;
    dir = await mkdtemp(join(tmpdir(), 'mcp-gateway-private-host-'));
    configPath = join(dir, 'config.yaml');
    await writeFile(configPath, configYaml(upstream.url, ca.certPem));
    const env: Record<string, string> = { GATEWAY_SIGNING_KEY: SIGNING_KEY };
    if (routerOnly) {
      redis = await startRedis();
      env['CACHE_CONNECTION_STRING'] = redis.url;
    }
    const parsed = parseCli(
      [
        '--mcp-gateway-config',
        configPath,
        ...(routerOnly ? ['--router-only'] : ['--mcp-broker-public-address', '127.0.0.1:0']),
        '--mcp-router-address',
        '127.0.0.1:0',
        '--mcp-gateway-public-host',
        'mcp.example.com',
        '--mcp-gateway-private-host',
        privateHost,
      ],
      env,
    );
    if (parsed.kind !== 'run') throw new Error(`unexpected parse result: ${JSON.stringify(parsed)}`);
    running = await runGateway(parsed.options, NOOP_LOGGER);
    client = connectExtProc(running.router!.port);
  });

  afterAll(async () => {
    client?.close();
    await running?.stop();
    await upstream?.stop();
    await redis?.stop();
    await ca?.remove();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /**
   * A session of the `Bearer user-token` caller the router is asked about: opened on the broker,
   * or (router only) issued with the broker's key as the broker would.
   */
  async function newSession(): Promise<string> {
    if (!routerOnly) {
      return openSession(`http://127.0.0.1:${running.broker!.port}/mcp`, { authorization: 'Bearer user-token' });
    }
    const tokens = createSessionTokens({ key: SIGNING_KEY });
    const caller = (await createCallerIdentities().identify(unverified('Bearer user-token'))) as string;
    return (await tokens.issue({ protocolVersion: '2025-11-25', clientCapabilities: {}, caller })).token;
  }

  /** Envoy's first two phases of a tools/call on `sessionId`; resolves with the processor's answers. */
  function askRouter(sessionId: string): Promise<Decoded[]> {
    const messages = [
      {
        request_headers: httpHeaders({
          ':method': 'POST',
          ':authority': 'mcp.example.com',
          ':path': '/mcp',
          'content-type': 'application/json',
          'mcp-session-id': sessionId,
          authorization: 'Bearer user-token',
        }),
      },
      {
        request_body: {
          body: Buffer.from(
            JSON.stringify({
              jsonrpc: '2.0',
              id: 1,
              method: 'tools/call',
              params: { name: 'weather_forecast', arguments: { city: 'Oslo' } },
            }),
          ),
          end_of_stream: true,
        },
      },
    ];
    return exchange(client, messages);
  }

  const initializes = () => upstream.requests.filter((request) => request.method === 'initialize');

  it('refuses the call naming the certificate problem while gatewayCACertPEM lacks the CA, and routes it once a reload adds it', async () => {
    const sessionId = await newSession();

    // Once the gateway has listed the upstream (directly, trusting the server's caCert), the
    // router routes its tools; the hairpin to the private host fails the certificate check.
    const answers = await pollUntil(
      () => askRouter(sessionId),
      (answers) => answers.some((answer) => answer['immediate_response']?.['status']?.['code'] === 'BadGateway'),
      { what: 'the router’s refusal' },
    );
    const refused = answers.find((answer) => 'immediate_response' in answer);
    expect(refused?.['immediate_response']?.['status']?.['code']).toBe('BadGateway');
    const reason = Buffer.from(refused?.['immediate_response']?.['body'] ?? '').toString();
    expect(reason).toMatch(/unable to verify the first certificate/);
    expect(reason).toContain(`through --mcp-gateway-private-host ${privateHost}`);

    const before = initializes().length;
    await writeFile(configPath, configYaml(upstream.url, ca.certPem, ca.certPem));
    const after = await pollUntil(
      () => askRouter(sessionId),
      (answers) => answers.some((answer) => 'request_body' in answer),
      { what: 'the call routed after the reload' },
    );

    const routed = after.find((answer) => 'request_body' in answer)?.['request_body']?.['response'];
    const set = Object.fromEntries(
      (routed?.['header_mutation']?.['set_headers'] ?? []).map((option: Decoded) => [
        option['header']['key'],
        Buffer.from(option['header']['raw_value']).toString(),
      ]),
    );
    expect(set[':authority']).toBe('weather.mcp.local');
    // The gateway's own initializes (listing, health) carry no mcp-init-host; the hairpin's do.
    const hairpin = initializes()
      .slice(before)
      .filter((request) => request.headers[BACKEND_INIT_HEADERS.host] !== undefined);
    expect(hairpin).toHaveLength(1);
    expect(hairpin[0]?.headers[BACKEND_INIT_HEADERS.host]).toBe('weather.mcp.local');
    expect(hairpin[0]?.headers[BACKEND_INIT_HEADERS.token]).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(hairpin[0]?.headers.authorization).toBe('Bearer user-token');
    // The backend session the hairpin opened is the one the call goes on.
    expect(set['mcp-session-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
