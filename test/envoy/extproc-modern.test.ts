// 2026-07-28 requests through a real Envoy and the router: routed from their Mcp-Method and
// Mcp-Name headers, checked against the body. A call for a tool of a 2026-07-28 upstream (SDK
// 2.x createMcpHandler) goes from Envoy straight to it, the prefix stripped in the body and in
// Mcp-Name, no session header; a header that disagrees with the body gets HeaderMismatch from
// the router; an unknown tool, and a call for a legacy upstream, go to the broker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { renderEnvoyBootstrap } from '../../infra/envoy/render-bootstrap.mjs';
import { echoAndGreet, waitForHealthy } from '../gateway-http/helpers.ts';
import {
  freePort,
  startEnvoy,
  startGateway,
  startModernUpstream,
  startSdkUpstream,
  type ModernUpstream,
  type RunningEnvoy,
  type RunningGateway,
  type SdkUpstream,
} from '../harness/index.ts';
import { BROKER_REQUESTS, envoyStat, PUBLIC_HOST, toolCalls } from './extproc-stack.ts';

const MODERN_CLUSTER_REQUESTS = 'cluster.upstream_modern.upstream_rq_total';
/** Messages Envoy sent the processor, over all streams. */
const EXT_PROC_MESSAGES = 'http.mcp.ext_proc.stream_msgs_sent';
const envelope = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

describe('Envoy routing 2026-07-28 requests by their Mcp-Method and Mcp-Name headers', () => {
  let modern: ModernUpstream;
  let legacy: SdkUpstream;
  let gateway: RunningGateway;
  let envoy: RunningEnvoy;
  let mcpUrl: string;

  beforeAll(async () => {
    modern = await startModernUpstream({
      setup(server) {
        server.registerTool('shout', { inputSchema: z.object({ text: z.string() }) }, ({ text }) => ({
          content: [{ type: 'text', text: text.toUpperCase() }],
        }));
      },
    });
    legacy = await startSdkUpstream({ name: 'legacy', setup: echoAndGreet });
    const routerPort = await freePort();
    gateway = await startGateway({
      config: [
        'servers:',
        `  - { name: modern, url: ${JSON.stringify(modern.url)}, prefix: m_, hostname: modern.mcp.local }`,
        `  - { name: legacy, url: ${JSON.stringify(legacy.url)}, prefix: l_, hostname: legacy.mcp.local }`,
        '',
      ].join('\n'),
      args: ['--mcp-router-address', `127.0.0.1:${routerPort}`, '--mcp-gateway-public-host', PUBLIC_HOST],
    });
    await waitForHealthy(gateway, 2);
    const listenerPort = await freePort();
    envoy = await startEnvoy({
      config: renderEnvoyBootstrap({
        listenerPort,
        adminPort: await freePort(),
        brokerAddress: `127.0.0.1:${gateway.port}`,
        extProcAddress: `127.0.0.1:${routerPort}`,
        upstreams: [
          { name: 'modern', hostname: 'modern.mcp.local', address: new URL(modern.url).host, path: '/mcp' },
          { name: 'legacy', hostname: 'legacy.mcp.local', address: `127.0.0.1:${legacy.port}`, path: '/mcp' },
        ],
      }),
    });
    mcpUrl = `${envoy.listenerUrl(listenerPort)}/mcp`;
  });

  afterAll(async () => {
    await envoy?.stop();
    await gateway?.stop();
    await modern?.stop();
    await legacy?.stop();
  });

  /** A raw 2026-07-28 POST: MCP-Protocol-Version and Mcp-Method always, Mcp-Name when given. */
  function modernPost(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': String(body['method']),
        ...headers,
      },
      body: JSON.stringify({ jsonrpc: '2.0', ...body }),
    });
  }

  it('sends a tools/call from Envoy straight to the 2026-07-28 upstream, prefix stripped in header and body', async () => {
    const brokerBefore = await envoyStat(envoy, BROKER_REQUESTS);
    const routedBefore = await envoyStat(envoy, MODERN_CLUSTER_REQUESTS);
    const messagesBefore = await envoyStat(envoy, EXT_PROC_MESSAGES);
    const response = await modernPost(
      { id: 1, method: 'tools/call', params: { name: 'm_shout', arguments: { text: 'hi' }, _meta: envelope } },
      { 'mcp-name': 'm_shout', 'mcp-session-id': 'not-a-session' },
    );
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('"text":"HI"');
    expect(response.headers.get('mcp-session-id')).toBeNull();
    expect(await envoyStat(envoy, MODERN_CLUSTER_REQUESTS)).toBe(routedBefore + 1);
    expect(await envoyStat(envoy, BROKER_REQUESTS)).toBe(brokerBefore);
    // Request headers and body, then the answer's headers and body: only what answers the call may reach the client.
    expect(await envoyStat(envoy, EXT_PROC_MESSAGES)).toBe(messagesBefore + 4);

    const call = modern.calls('tools/call').at(-1);
    expect(call?.body?.params).toMatchObject({ name: 'shout', arguments: { text: 'hi' } });
    expect(call?.headers['mcp-name']).toBe('shout');
    expect(call?.headers['mcp-method']).toBe('tools/call');
    expect(call?.headers['x-mcp-servername']).toBe('modern');
    expect(call?.headers['mcp-session-id']).toBeUndefined();
    expect(call?.headers.host).toBe('modern.mcp.local');
  });

  it('answers HeaderMismatch (400, -32020, JSON-RPC) when Mcp-Name disagrees with the body, reaching no one', async () => {
    const brokerBefore = await envoyStat(envoy, BROKER_REQUESTS);
    const callsBefore = modern.calls('tools/call').length;
    const response = await modernPost(
      { id: 2, method: 'tools/call', params: { name: 'm_shout', arguments: { text: 'x' }, _meta: envelope } },
      { 'mcp-name': 'm_other' },
    );
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/json');
    const body = (await response.json()) as { id: unknown; error: { code: number; message: string } };
    expect(body.id).toBe(2);
    expect(body.error.code).toBe(-32020);
    expect(body.error.message).toContain('Mcp-Name');
    expect(modern.calls('tools/call').length).toBe(callsBefore);
    expect(await envoyStat(envoy, BROKER_REQUESTS)).toBe(brokerBefore);
  });

  it('sends a request no upstream is routed for to the broker on its headers alone', async () => {
    const before = await envoyStat(envoy, EXT_PROC_MESSAGES);
    const response = await modernPost({ id: 5, method: 'tools/list', params: { _meta: envelope } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { result: { tools: { name: string }[] } };
    expect(body.result.tools.map((tool) => tool.name).sort()).toEqual(['l_echo', 'm_shout']);
    // Only the request headers went to the processor: no body, no response headers.
    expect(await envoyStat(envoy, EXT_PROC_MESSAGES)).toBe(before + 1);
  });

  it('sends an unknown tool and a call for a legacy upstream to the broker', async () => {
    const unknown = await modernPost(
      { id: 3, method: 'tools/call', params: { name: 'm_nothing', arguments: {}, _meta: envelope } },
      { 'mcp-name': 'm_nothing' },
    );
    const unknownText = await unknown.text();
    expect(unknownText).toContain('m_nothing');
    expect(unknownText).toContain('-32602');

    const brokerBefore = await envoyStat(envoy, BROKER_REQUESTS);
    const crossEra = await modernPost(
      { id: 4, method: 'tools/call', params: { name: 'l_echo', arguments: { text: 'old' }, _meta: envelope } },
      { 'mcp-name': 'l_echo' },
    );
    expect(crossEra.status).toBe(200);
    expect(await crossEra.text()).toContain('echo: old');
    expect(await envoyStat(envoy, BROKER_REQUESTS)).toBe(brokerBefore + 1);
    // The broker called the legacy upstream itself (its own address), not through Envoy's route.
    expect(toolCalls(legacy).at(-1)?.headers.host).not.toBe('legacy.mcp.local');
  });
});
