// Issue 5's end-to-end scenarios through a real Envoy with the ext_proc filter and the router in
// the built gateway (./extproc-stack.ts): single backend-session creation under concurrency,
// eviction on the upstream's 404, an unknown tool, oversized bodies, a streamed tools/call with
// progress, and the router's dynamic metadata in Envoy's access log.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_BUFFER_LIMIT_BYTES } from '../../infra/envoy/render-bootstrap.mjs';
import { onSession, openSession, pollUntil, post, request } from '../gateway-http/helpers.ts';
import { connectSdkClient, type SdkUpstream } from '../harness/index.ts';
import {
  BROKER_REQUESTS,
  envoyStat,
  SERVER1_REQUESTS,
  startExtProcStack,
  toolCalls,
  type ExtProcStack,
} from './extproc-stack.ts';

/** The gateway's (and so the router's) body limit in this suite, below the bootstrap's 5 MiB buffer. */
const GATEWAY_BODY_LIMIT = 256 * 1024;

/** `echo`, and `steps`, which reports progress twice before its result. */
function tools(server: McpServer): void {
  server.registerTool('echo', { description: 'Echoes its text', inputSchema: { text: z.string() } }, ({ text }) => ({
    content: [{ type: 'text', text: `echo: ${text}` }],
  }));
  server.registerTool('steps', { description: 'Reports progress, then answers' }, async (extra) => {
    const progressToken = extra._meta?.progressToken;
    if (progressToken === undefined) throw new Error('steps needs a progress token');
    for (const progress of [1, 2]) {
      await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, total: 2 } });
    }
    return { content: [{ type: 'text', text: 'done' }] };
  });
}

/** Envoy's access-log line for each request: the test's id, the router's metadata, the outcome. */
const ACCESS_LOG_FORMAT =
  'test-id=%REQ(X-TEST-ID)% method=%DYNAMIC_METADATA(mcp-gateway:method)% ' +
  'server=%DYNAMIC_METADATA(mcp-gateway:server)% tool=%DYNAMIC_METADATA(mcp-gateway:tool)% ' +
  'cluster=%UPSTREAM_CLUSTER% status=%RESPONSE_CODE%\\n';

const STDOUT_ACCESS_LOG = `                access_log:
                  - name: envoy.access_loggers.stdout
                    typed_config:
                      '@type': type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
`;

/** The bootstrap with a second access log, to `path`, printing the router's dynamic metadata. */
function withMetadataAccessLog(yaml: string, path: string): string {
  if (!yaml.includes(STDOUT_ACCESS_LOG)) throw new Error('the bootstrap no longer has the stdout access log');
  return yaml.replace(
    STDOUT_ACCESS_LOG,
    `${STDOUT_ACCESS_LOG}                  - name: envoy.access_loggers.file
                    typed_config:
                      '@type': type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                      path: '${path}'
                      log_format: { text_format_source: { inline_string: "${ACCESS_LOG_FORMAT}" } }
`,
  );
}

const ROUTER_FILTER = `                  - name: envoy.filters.http.router
`;

/**
 * The bootstrap with an Envoy RBAC filter after ext_proc that reads the router's dynamic
 * metadata: calls of server2's tool `steps` are denied, everything else passes.
 */
function withToolPolicy(yaml: string): string {
  if (!yaml.includes(ROUTER_FILTER)) throw new Error('the bootstrap no longer has the router filter');
  const metadata = (key: string, exact: string) =>
    `{ sourced_metadata: { metadata_matcher: { filter: mcp-gateway, path: [{ key: ${key} }], value: { string_match: { exact: ${exact} } } } } }`;
  return yaml.replace(
    ROUTER_FILTER,
    `                  - name: envoy.filters.http.rbac
                    typed_config:
                      '@type': type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                      rules:
                        action: DENY
                        policies:
                          no-steps-on-server2:
                            permissions:
                              - and_rules: { rules: [${metadata('server', 'server2')}, ${metadata('tool', 'steps')}] }
                            principals: [{ any: true }]
${ROUTER_FILTER}`,
  );
}

/** A tools/call body of about `bytes` bytes (the padding is in the tool's argument). */
function callOfSize(bytes: number) {
  return request('tools/call', { name: 's1_echo', arguments: { text: 'x'.repeat(bytes) } });
}

describe('issue 5 scenarios through Envoy with the ext_proc filter', () => {
  let stack: ExtProcStack;
  let server1: SdkUpstream;
  let mcpUrl: string;
  let logDir: string;
  let accessLog: string;

  beforeAll(async () => {
    logDir = await mkdtemp(join(tmpdir(), 'mcpgw-envoy-access-'));
    accessLog = join(logDir, 'access.log');
    stack = await startExtProcStack({
      setup: tools,
      gatewayArgs: ['--max-request-body-size', String(GATEWAY_BODY_LIMIT)],
      editBootstrap: (yaml) => withToolPolicy(withMetadataAccessLog(yaml, accessLog)),
      fileFlushIntervalMs: 100,
    });
    [server1] = stack.upstreams;
    mcpUrl = stack.mcpUrl;
    // Calls are routed from the catalog; wait until discovery has filled it.
    const sessionId = await openSession(mcpUrl);
    await pollUntil(
      () => post(mcpUrl, request('tools/list'), onSession(sessionId)),
      (r) => ((r.json?.result as { tools?: unknown[] } | undefined)?.tools?.length ?? 0) === 4,
      { what: 'both upstreams discovered' },
    );
  });

  afterAll(async () => {
    await stack?.stop();
    if (logDir !== undefined) await rm(logDir, { recursive: true, force: true });
  });

  it('opens exactly one backend session when one client sends 8 first calls at once', async () => {
    const connected = await connectSdkClient(mcpUrl, { version: 1 });
    try {
      const initializesBefore = server1.initializeCount;
      const callsBefore = toolCalls(server1).length;
      const texts = Array.from({ length: 8 }, (_, i) => `concurrent ${i}`);
      const results = await Promise.all(
        texts.map((text) => connected.client.callTool({ name: 's1_echo', arguments: { text } })),
      );
      expect(results.map((result) => result.content)).toEqual(
        texts.map((text) => [{ type: 'text', text: `echo: ${text}` }]),
      );
      expect(server1.initializeCount).toBe(initializesBefore + 1);
      const calls = toolCalls(server1).slice(callsBefore);
      expect(calls).toHaveLength(8);
      const backendSessions = new Set(calls.map((call) => call.sessionId));
      expect(backendSessions.size).toBe(1);
      expect([...backendSessions][0]).not.toBe(connected.sessionId());
    } finally {
      await connected.close();
    }
  });

  it("passes the upstream's 404 for a forgotten backend session, then opens a new one on the next call", async () => {
    const sessionId = await openSession(mcpUrl);
    const call = (text: string) =>
      post(mcpUrl, request('tools/call', { name: 's1_echo', arguments: { text } }), onSession(sessionId));
    expect((await call('first')).json?.result).toEqual({ content: [{ type: 'text', text: 'echo: first' }] });
    const backendSession = toolCalls(server1).at(-1)?.sessionId;
    if (backendSession === undefined) throw new Error('the routed call carried no backend session');
    await server1.expireSession(backendSession);

    const initializesBefore = server1.initializeCount;
    const gone = await call('lost');
    expect(gone.status).toBe(404);
    expect(gone.json?.error?.code).toBe(-32001);
    // The backend's id never reaches the client; the response carries the client's own session.
    expect(gone.headers.get('mcp-session-id')).toBe(sessionId);
    expect(toolCalls(server1).at(-1)?.sessionId).toBe(backendSession);
    expect(server1.initializeCount).toBe(initializesBefore);

    const next = await call('recovered');
    expect(next.status).toBe(200);
    expect(next.json?.result).toEqual({ content: [{ type: 'text', text: 'echo: recovered' }] });
    expect(server1.initializeCount).toBe(initializesBefore + 1);
    const renewed = toolCalls(server1).at(-1)?.sessionId;
    expect(renewed).toBeDefined();
    expect(renewed).not.toBe(backendSession);
  });

  it('answers a call to an unknown tool from the broker with a JSON-RPC -32602 naming the tool', async () => {
    const sessionId = await openSession(mcpUrl);
    const brokerBefore = await envoyStat(stack.envoy, BROKER_REQUESTS);
    const callsBefore = stack.upstreams.map((upstream) => toolCalls(upstream).length);
    const reply = await post(
      mcpUrl,
      request('tools/call', { name: 's1_no_such_tool', arguments: {} }),
      onSession(sessionId),
    );
    expect(reply.status).toBe(200);
    expect(reply.json?.error?.code).toBe(-32602);
    expect(reply.json?.error?.message).toContain('s1_no_such_tool');
    expect(await envoyStat(stack.envoy, BROKER_REQUESTS)).toBe(brokerBefore + 1);
    expect(stack.upstreams.map((upstream) => toolCalls(upstream).length)).toEqual(callsBefore);
  });

  it("answers 413 from the router above the gateway's body limit and from Envoy above its 5 MiB buffer", async () => {
    const sessionId = await openSession(mcpUrl);
    const brokerBefore = await envoyStat(stack.envoy, BROKER_REQUESTS);
    const callsBefore = toolCalls(server1).length;

    // Between the two limits: Envoy buffers the body, the router refuses it with its limit.
    const overGateway = await post(mcpUrl, callOfSize(GATEWAY_BODY_LIMIT + 1024), onSession(sessionId));
    expect(overGateway.status).toBe(413);
    expect(overGateway.text).toBe(`Request body too large (limit ${GATEWAY_BODY_LIMIT} bytes)`);

    // Above the listener's buffer: Envoy answers itself and the router never sees the body.
    const overEnvoy = await post(mcpUrl, callOfSize(DEFAULT_BUFFER_LIMIT_BYTES + 1024), onSession(sessionId));
    expect(overEnvoy.status).toBe(413);
    expect(overEnvoy.headers.get('server')).toBe('envoy');
    expect(overEnvoy.text).toBe('Payload Too Large');

    expect(await envoyStat(stack.envoy, BROKER_REQUESTS)).toBe(brokerBefore);
    expect(toolCalls(server1).length).toBe(callsBefore);
  });

  it('streams the progress notifications and the result of a routed tools/call through Envoy', async () => {
    const connected = await connectSdkClient(mcpUrl, { version: 1 });
    try {
      // Envoy's route to server1's virtual host carries the call (the broker relays directly,
      // never through Envoy); the client's own GET stream may reach the broker meanwhile.
      const routedBefore = await envoyStat(stack.envoy, SERVER1_REQUESTS);
      const progress: number[] = [];
      const result = await connected.client.callTool({ name: 's1_steps', arguments: {} }, undefined, {
        onprogress: ({ progress: value }) => progress.push(value),
        timeout: 10_000,
      });
      expect(progress).toEqual([1, 2]);
      expect(result.content).toEqual([{ type: 'text', text: 'done' }]);
      expect(toolCalls(server1).at(-1)?.params).toMatchObject({ name: 'steps' });
      expect(await envoyStat(stack.envoy, SERVER1_REQUESTS)).toBe(routedBefore + 1);
    } finally {
      await connected.close();
    }
  });

  it("lets an Envoy RBAC policy on the router's metadata deny one upstream's tool before it is called", async () => {
    const server2 = stack.upstreams[1];
    if (server2 === undefined) throw new Error('no second upstream');
    const sessionId = await openSession(mcpUrl);
    const callsBefore = toolCalls(server2).length;
    const denied = await post(mcpUrl, request('tools/call', { name: 's2_steps', arguments: {} }), onSession(sessionId));
    expect(denied.status).toBe(403);
    expect(denied.text).toBe('RBAC: access denied');
    // server2's other tool passes (server1's own `steps` passes in the streaming test).
    const allowed = await post(
      mcpUrl,
      request('tools/call', { name: 's2_echo', arguments: { text: 'allowed' } }),
      onSession(sessionId),
    );
    expect(allowed.json?.result).toEqual({ content: [{ type: 'text', text: 'echo: allowed' }] });
    // The denied call never reached server2; the allowed one did.
    expect(
      toolCalls(server2)
        .slice(callsBefore)
        .map((call) => call.params),
    ).toEqual([expect.objectContaining({ name: 'echo' })]);
  });

  it("exposes the router's dynamic metadata to Envoy: the access log names the server and tool", async () => {
    const sessionId = await openSession(mcpUrl);
    const reply = await post(
      mcpUrl,
      request('tools/call', { name: 's2_echo', arguments: { text: 'logged' } }),
      onSession(sessionId, { 'x-test-id': 'routed-call' }),
    );
    expect(reply.json?.result).toEqual({ content: [{ type: 'text', text: 'echo: logged' }] });
    await post(mcpUrl, request('tools/list'), onSession(sessionId, { 'x-test-id': 'broker-call' }));

    // Envoy writes file access logs on its flush interval (100 ms here): poll, bounded.
    const lines = await pollUntil(
      async () => (await readFile(accessLog, 'utf8').catch(() => '')).split('\n'),
      (all) => all.some((line) => line.startsWith('test-id=broker-call ')),
      { what: 'both calls in the access log' },
    );
    expect(lines).toContain(
      'test-id=routed-call method=tools/call server=server2 tool=echo cluster=upstream_server2 status=200',
    );
    expect(lines).toContain(
      'test-id=broker-call method=tools/list server=mcpBroker tool=- cluster=mcp_broker status=200',
    );
  });
});
