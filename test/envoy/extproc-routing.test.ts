// A real Envoy running the repository's bootstrap WITH the ext_proc filter, in front of the
// built gateway started with --mcp-router-address (broker and router in one process) and two
// real SDK upstreams whose config hostnames are the bootstrap's upstream virtual hosts
// (started by ./extproc-stack.ts); extproc-scenarios.test.ts runs the other scenarios.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderEnvoyBootstrap } from '../../infra/envoy/render-bootstrap.mjs';
import { echoAndGreet, onSession, openSession, pollUntil, post, request } from '../gateway-http/helpers.ts';
import {
  freePort,
  startEnvoy,
  startGateway,
  startSdkUpstream,
  type RunningEnvoy,
  type RunningGateway,
  type SdkUpstream,
} from '../harness/index.ts';
import {
  BROKER_REQUESTS,
  envoyStat,
  SERVER1_REQUESTS,
  startExtProcStack,
  toolCalls,
  type ExtProcStack,
} from './extproc-stack.ts';

describe('Envoy with the ext_proc filter and the router in the gateway process', () => {
  let stack: ExtProcStack;
  let gateway: RunningGateway;
  let envoy: RunningEnvoy;
  let upstreams: readonly SdkUpstream[];
  let mcpUrl: string;
  let sessionId: string;

  beforeAll(async () => {
    stack = await startExtProcStack({ setup: echoAndGreet });
    ({ gateway, envoy, upstreams, mcpUrl } = stack);
    sessionId = await openSession(mcpUrl);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('serves tools/list through Envoy from the broker, aggregated and prefixed', async () => {
    const before = await envoyStat(envoy, BROKER_REQUESTS);
    const reply = await pollUntil(
      () => post(mcpUrl, request('tools/list'), onSession(sessionId)),
      (r) => ((r.json?.result as { tools?: unknown[] } | undefined)?.tools?.length ?? 0) === 2,
      { what: 'both upstreams discovered' },
    );
    const names = (reply.json?.result as { tools: { name: string }[] }).tools.map((tool) => tool.name);
    expect(names.sort()).toEqual(['s1_echo', 's2_echo']);
    expect(await envoyStat(envoy, BROKER_REQUESTS)).toBeGreaterThan(before);
    expect(gateway.logs()).toContain('mcp router (Envoy ext_proc) listening');
  });

  it('sends tools/call from Envoy straight to the upstream, prefix stripped, never through the broker', async () => {
    const [server1] = upstreams;
    if (server1 === undefined) throw new Error('no upstream');
    const brokerBefore = await envoyStat(envoy, BROKER_REQUESTS);
    const routedBefore = await envoyStat(envoy, SERVER1_REQUESTS);
    const initializesBefore = server1.initializeCount;
    const reply = await post(
      mcpUrl,
      request('tools/call', { name: 's1_echo', arguments: { text: 'routed' } }),
      onSession(sessionId),
    );
    expect(reply.status).toBe(200);
    expect(reply.json?.result).toEqual({ content: [{ type: 'text', text: 'echo: routed' }] });
    // The client sees its gateway session, never the backend one.
    expect(reply.headers.get('mcp-session-id')).toBe(sessionId);
    expect(await envoyStat(envoy, BROKER_REQUESTS)).toBe(brokerBefore);
    // Envoy's route to the upstream's virtual host carried the call (the backend session's
    // initialize went from the router straight to the upstream, as no private host is set).
    expect(await envoyStat(envoy, SERVER1_REQUESTS)).toBe(routedBefore + 1);

    const call = toolCalls(server1).at(-1);
    expect(call?.params).toMatchObject({ name: 'echo', arguments: { text: 'routed' } });
    expect(call?.headers['x-mcp-servername']).toBe('server1');
    expect(call?.headers['x-mcp-toolname']).toBe('echo');
    expect(call?.headers['x-mcp-method']).toBe('tools/call');
    expect(call?.headers.host).toBe('server1.mcp.local');
    // The backend session was opened for this call (one initialize) and the call carries it.
    expect(server1.initializeCount).toBe(initializesBefore + 1);
    expect(call?.sessionId).toBeDefined();
    expect(call?.sessionId).not.toBe(sessionId);
  });

  it('reuses the backend session for the next call to the same upstream', async () => {
    const [server1] = upstreams;
    if (server1 === undefined) throw new Error('no upstream');
    const first = toolCalls(server1).at(-1)?.sessionId;
    const initializesBefore = server1.initializeCount;
    const reply = await post(
      mcpUrl,
      request('tools/call', { name: 's1_echo', arguments: { text: 'again' } }),
      onSession(sessionId),
    );
    expect(reply.json?.result).toEqual({ content: [{ type: 'text', text: 'echo: again' }] });
    expect(server1.initializeCount).toBe(initializesBefore);
    expect(toolCalls(server1).at(-1)?.sessionId).toBe(first);
  });

  it('ignores a client-supplied x-mcp-servername when picking the backend', async () => {
    const [server1, server2] = upstreams;
    if (server1 === undefined || server2 === undefined) throw new Error('no upstream');
    const callsOn1 = toolCalls(server1).length;
    const reply = await post(
      mcpUrl,
      request('tools/call', { name: 's2_echo', arguments: { text: 'mine' } }),
      onSession(sessionId, { 'x-mcp-servername': 'server1', 'x-mcp-toolname': 'echo' }),
    );
    expect(reply.json?.result).toEqual({ content: [{ type: 'text', text: 'echo: mine' }] });
    expect(toolCalls(server1).length).toBe(callsOn1);
    const call = toolCalls(server2).at(-1);
    expect(call?.params).toMatchObject({ name: 'echo', arguments: { text: 'mine' } });
    expect(call?.headers['x-mcp-servername']).toBe('server2');
  });
});

describe('Envoy with the ext_proc filter and no processor listening', () => {
  let upstream: SdkUpstream;
  let gateway: RunningGateway;
  let envoy: RunningEnvoy;
  let mcpUrl: string;

  beforeAll(async () => {
    upstream = await startSdkUpstream({ name: 'server1', setup: echoAndGreet });
    gateway = await startGateway({
      config: `servers:\n  - name: server1\n    url: ${JSON.stringify(upstream.url)}\n    prefix: s1_\n`,
    });
    const listenerPort = await freePort();
    // A free port nothing listens on: the ext_proc cluster's connections are refused.
    envoy = await startEnvoy({
      config: renderEnvoyBootstrap({
        listenerPort,
        adminPort: await freePort(),
        brokerAddress: `127.0.0.1:${gateway.port}`,
        extProcAddress: `127.0.0.1:${await freePort()}`,
        upstreams: [
          { name: 'server1', hostname: 'server1.mcp.local', address: `127.0.0.1:${upstream.port}`, path: '/mcp' },
        ],
      }),
    });
    mcpUrl = `${envoy.listenerUrl(listenerPort)}/mcp`;
  });

  afterAll(async () => {
    await envoy?.stop();
    await gateway?.stop();
    await upstream?.stop();
  });

  it('fails closed: Envoy answers 500 itself and neither the broker nor the upstream sees the request', async () => {
    const upstreamBefore = upstream.httpRequests.length;
    const reply = await post(mcpUrl, request('tools/list'));
    // failure_mode_allow: false; Envoy's status_on_error default is 500, with an empty body.
    expect(reply.status).toBe(500);
    expect(reply.headers.get('server')).toBe('envoy');
    expect(await envoyStat(envoy, BROKER_REQUESTS)).toBe(0);
    expect(upstream.httpRequests.length).toBe(upstreamBefore);
  });
});
