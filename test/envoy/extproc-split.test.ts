// The router as its own process: a real Envoy with the repository's ext_proc bootstrap, whose
// broker cluster points at a gateway without a router and whose ext_proc cluster points at a
// second `mcp-gateway --router-only` process. Both read the same config file and share one real
// redis-server and the signing key; the router discovers the upstream on its own.
import { connectRedis } from '@mcp-gateway/core/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderEnvoyBootstrap } from '../../infra/envoy/render-bootstrap.mjs';
import { echoAndGreet, onSession, openSession, pollUntil, post, request } from '../gateway-http/helpers.ts';
import {
  freePort,
  GATEWAY_CLI,
  REPO_ROOT,
  startEnvoy,
  startGateway,
  startProcess,
  startRedis,
  startSdkUpstream,
  TEST_SIGNING_KEY,
  type RunningEnvoy,
  type RunningGateway,
  type RunningProcess,
  type RunningRedis,
  type SdkUpstream,
} from '../harness/index.ts';
import { jtiOf } from '../replicas/cluster.ts';
import { BROKER_REQUESTS, envoyStat, PUBLIC_HOST, SERVER1_REQUESTS, toolCalls } from './extproc-stack.ts';

const listRequests = (upstream: SdkUpstream) => upstream.requests.filter((r) => r.method === 'tools/list').length;

describe('Envoy with the router in its own process, sharing Redis with the broker', () => {
  let redis: RunningRedis;
  let upstream: SdkUpstream;
  let broker: RunningGateway;
  let router: RunningProcess;
  let envoy: RunningEnvoy;
  let mcpUrl: string;
  let sessionId: string;

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startSdkUpstream({ name: 'server1', setup: echoAndGreet });
    const shared = { CACHE_CONNECTION_STRING: redis.url, GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY };
    broker = await startGateway({
      config: `servers:\n  - name: server1\n    url: ${JSON.stringify(upstream.url)}\n    prefix: s1_\n    hostname: server1.mcp.local\n`,
      env: shared,
      // The router sends the broker every request it does not route under this host name.
      args: ['--mcp-gateway-public-host', PUBLIC_HOST],
    });
    const listedByBroker = await pollUntil(
      async () => listRequests(upstream),
      (count) => count >= 1,
      { what: 'the broker listed the upstream' },
    );
    const routerPort = await freePort();
    router = await startProcess(
      process.execPath,
      [
        GATEWAY_CLI,
        '--router-only',
        '--mcp-gateway-config',
        broker.configPath,
        '--mcp-router-address',
        `127.0.0.1:${routerPort}`,
        '--mcp-gateway-public-host',
        PUBLIC_HOST,
      ],
      { cwd: REPO_ROOT, env: shared, readyWhen: { stdout: /mcp router \(Envoy/ } },
    );
    // The router's own discovery: its tools/list on the upstream.
    await pollUntil(
      async () => listRequests(upstream),
      (count) => count > listedByBroker,
      { what: 'the router listed the upstream' },
    );
    const listenerPort = await freePort();
    envoy = await startEnvoy({
      config: renderEnvoyBootstrap({
        listenerPort,
        adminPort: await freePort(),
        brokerAddress: `127.0.0.1:${broker.port}`,
        extProcAddress: `127.0.0.1:${routerPort}`,
        upstreams: [
          { name: 'server1', hostname: 'server1.mcp.local', address: `127.0.0.1:${upstream.port}`, path: '/mcp' },
        ],
      }),
    });
    mcpUrl = `${envoy.listenerUrl(listenerPort)}/mcp`;
    sessionId = await openSession(mcpUrl);
  });

  afterAll(async () => {
    await envoy?.stop();
    await router?.stop();
    await broker?.stop();
    await upstream?.stop();
    await redis?.stop();
  });

  it('runs the router without a broker listener', () => {
    expect(router.output()).toContain('mcp router (Envoy ext_proc) listening');
    expect(router.output()).not.toContain('mcp gateway listening');
    expect(router.output()).toContain('session store (Redis) connected');
  });

  it('answers tools/list through Envoy from the broker process', async () => {
    const before = await envoyStat(envoy, BROKER_REQUESTS);
    const reply = await post(mcpUrl, request('tools/list'), onSession(sessionId));
    expect((reply.json?.result as { tools: { name: string }[] }).tools.map((tool) => tool.name)).toEqual(['s1_echo']);
    expect(await envoyStat(envoy, BROKER_REQUESTS)).toBe(before + 1);
  });

  it('routes tools/call of a session the broker opened straight to the upstream, with one backend session in Redis', async () => {
    const brokerBefore = await envoyStat(envoy, BROKER_REQUESTS);
    const initializesBefore = upstream.initializeCount;
    for (const text of ['one', 'two']) {
      const reply = await post(
        mcpUrl,
        request('tools/call', { name: 's1_echo', arguments: { text } }),
        onSession(sessionId),
      );
      expect(reply.json?.result).toEqual({ content: [{ type: 'text', text: `echo: ${text}` }] });
      expect(reply.headers.get('mcp-session-id')).toBe(sessionId);
    }
    expect(await envoyStat(envoy, BROKER_REQUESTS)).toBe(brokerBefore);
    expect(await envoyStat(envoy, SERVER1_REQUESTS)).toBe(2);
    // One backend session for both calls, opened by the router process.
    expect(upstream.initializeCount).toBe(initializesBefore + 1);
    const [first, second] = toolCalls(upstream).slice(-2);
    expect(first?.params).toMatchObject({ name: 'echo', arguments: { text: 'one' } });
    expect(first?.sessionId).toBeDefined();
    expect(second?.sessionId).toBe(first?.sessionId);

    // The store the broker reads holds it: the session's hash in Redis names that backend session.
    const connection = await connectRedis(redis.url);
    try {
      const stored = await connection.hget(`mcpgw:session:{${jtiOf(sessionId)}}`, 'server1');
      expect(stored).toBe(first?.sessionId);
    } finally {
      await connection.quit();
    }
  });

  it('stops routing a session once the broker ended it (DELETE through Envoy)', async () => {
    const callsBefore = toolCalls(upstream).length;
    const deleted = await fetch(mcpUrl, { method: 'DELETE', headers: onSession(sessionId) });
    expect(deleted.status).toBe(200);
    const reply = await post(
      mcpUrl,
      request('tools/call', { name: 's1_echo', arguments: { text: 'late' } }),
      onSession(sessionId),
    );
    expect(reply.status).toBe(404);
    expect(toolCalls(upstream).length).toBe(callsBefore);
    expect(await envoyStat(envoy, SERVER1_REQUESTS)).toBe(2);
  });
});
