// Brief B end to end through a real Envoy with the ext_proc router: a legacy client's calls are
// routed by the router straight to a hostile legacy upstream (a raw node:http mock, see
// hostile-upstream.ts), and what the upstream sends back passes through Envoy, where the router
// may rewrite the response body. The client must get only what belongs to its own call.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderEnvoyBootstrap } from '../../infra/envoy/render-bootstrap.mjs';
import { freePort, startEnvoy, startGateway, type RunningEnvoy, type RunningGateway } from '../harness/index.ts';
import { HOSTILE_TOOLS, startHostileUpstream, type HostileUpstream } from './hostile-upstream.ts';
import { DROPPED, expectOnlyItsOwn, warnCount, warnsAfter, type HostileCase } from './hostile-relay.ts';
import { hostConfig, httpHostAt, openLegacySession, postLegacy, type HttpHost } from './http-hosts.ts';
import { PUBLIC_HOST } from './router-host.ts';
import { waitForTools } from './sessions.case.ts';

const SERVER = { name: 'server1', hostname: 'server1.mcp.local', prefix: 's1_' };

let upstream: HostileUpstream;
let gateway: RunningGateway;
let envoy: RunningEnvoy;
let client: HttpHost;

beforeAll(async () => {
  upstream = await startHostileUpstream({ name: SERVER.name, era: 'legacy', tools: HOSTILE_TOOLS });
  const routerPort = await freePort();
  const listenerPort = await freePort();
  gateway = await startGateway({
    config: hostConfig([{ ...SERVER, url: upstream.url }]),
    args: [
      '--mcp-router-address',
      `127.0.0.1:${routerPort}`,
      '--mcp-gateway-public-host',
      PUBLIC_HOST,
      '--log-level',
      'debug',
    ],
  });
  envoy = await startEnvoy({
    config: renderEnvoyBootstrap({
      listenerPort,
      adminPort: await freePort(),
      brokerAddress: `127.0.0.1:${gateway.port}`,
      extProcAddress: `127.0.0.1:${routerPort}`,
      upstreams: [
        { name: SERVER.name, hostname: SERVER.hostname, address: `127.0.0.1:${upstream.port}`, path: '/mcp' },
      ],
    }),
  });
  client = httpHostAt(
    'Envoy',
    envoy.listenerUrl(listenerPort),
    () => gateway.logs(),
    async () => {},
  );
  await waitForTools(client, ['s1_wrong_id']);
});

afterAll(async () => {
  await envoy?.stop();
  await gateway?.stop();
  await upstream?.stop();
});

const CASES: readonly HostileCase[] = ['wrong_id', 'batch', 'mixed_stream', 'elicit_stream'];

describe('a legacy client calling a hostile upstream through Envoy and the router', () => {
  it.each(CASES)('gets only what belongs to its own call when the upstream answers with %s', async (tool) => {
    const authorization = 'Bearer client-behind-envoy';
    // Elicitation declared: the router then processes the routed response body (server-to-client requests).
    const sessionId = await openLegacySession(client, { authorization }, { elicitation: {} });
    const id = `call-${randomUUID()}`;
    const progressToken = `progress-${randomUUID()}`;
    const before = warnCount(gateway.logs());
    const answer = await postLegacy(
      client,
      {
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: `s1_${tool}`, arguments: {}, _meta: { progressToken } },
      },
      sessionId,
      { authorization },
    );
    // The call took the router's path: Envoy sent it to the upstream with the router's headers.
    const forwarded = upstream.calls.find((c) => c.id === id);
    expect(forwarded?.headers['x-mcp-servername']).toBe(SERVER.name);
    expect(forwarded?.headers['host']).toBe(SERVER.hostname);
    expectOnlyItsOwn(answer, { id, progressToken, upstream: SERVER.name, tool });
    const added = await warnsAfter(() => gateway.logs(), before, DROPPED[tool]);
    expect({ tool, droppedLoggedAtWarn: added >= DROPPED[tool] }).toEqual({ tool, droppedLoggedAtWarn: true });
  });
});
