// The hairpin initialize through a real Envoy: the gateway runs with --mcp-gateway-private-host
// naming Envoy's listener, so the router opens each backend session by sending the initialize
// back through Envoy with a 30 s backend-init token bound to the upstream's host; the router
// checks it and routes it to the upstream's virtual host, where Envoy's per-server policies
// apply. The bootstrap variant adds a header on server1's route, so the upstream can tell what
// came through that route.
import { createBackendInitTokens } from '@mcp-gateway/core/router';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoAndGreet, onSession, openSession, post, request } from '../gateway-http/helpers.ts';
import { TEST_SIGNING_KEY, type RunningEnvoy, type SdkUpstream } from '../harness/index.ts';
import {
  BROKER_REQUESTS,
  envoyStat,
  SERVER1_REQUESTS,
  startExtProcStack,
  toolCalls,
  type ExtProcStack,
} from './extproc-stack.ts';

/** The header server1's Envoy route adds to every request it carries (a per-server policy stand-in). */
const ROUTE_HEADER = 'x-via-envoy-route';

function addRouteHeader(yaml: string): string {
  const route = '                          route: { cluster: upstream_server1, timeout: 0s }\n';
  if (!yaml.includes(route)) throw new Error('bootstrap has no route to upstream_server1');
  return yaml.replace(
    route,
    `${route}                          request_headers_to_add: [{ header: { key: ${ROUTE_HEADER}, value: upstream_server1 } }]\n`,
  );
}

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'intruder', version: '1' } },
};

describe('Envoy with the router opening backend sessions through the private host', () => {
  let stack: ExtProcStack;
  let envoy: RunningEnvoy;
  let server1: SdkUpstream;
  let mcpUrl: string;

  beforeAll(async () => {
    stack = await startExtProcStack({ setup: echoAndGreet, hairpin: true, editBootstrap: addRouteHeader });
    ({ envoy, mcpUrl } = stack);
    [server1] = stack.upstreams;
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('sends the backend initialize through Envoy to the upstream’s route, then the call on that session', async () => {
    const sessionId = await openSession(mcpUrl, { authorization: 'Bearer user-token' });
    const brokerBefore = await envoyStat(envoy, BROKER_REQUESTS);
    const routedBefore = await envoyStat(envoy, SERVER1_REQUESTS);
    const initializesBefore = server1.initializeCount;

    const reply = await post(
      mcpUrl,
      request('tools/call', { name: 's1_echo', arguments: { text: 'hairpin' } }),
      onSession(sessionId, { authorization: 'Bearer user-token' }),
    );
    expect(reply.status).toBe(200);
    expect(reply.json?.result).toEqual({ content: [{ type: 'text', text: 'echo: hairpin' }] });
    expect(reply.headers.get('mcp-session-id')).toBe(sessionId);

    expect(server1.initializeCount).toBe(initializesBefore + 1);
    const init = server1.requests.filter((r) => r.method === 'initialize').at(-1);
    const initialized = server1.requests.filter((r) => r.method === 'notifications/initialized').at(-1);
    for (const message of [init, initialized]) {
      // Envoy's route to server1 carried it, with the router's headers and the client's identity…
      expect(message?.headers[ROUTE_HEADER]).toBe('upstream_server1');
      expect(message?.headers.host).toBe('server1.mcp.local');
      expect(message?.headers['x-mcp-servername']).toBe('server1');
      expect(message?.headers.authorization).toBe('Bearer user-token');
      // …and without the hairpin's own headers, which the router removed.
      expect(message?.headers['mcp-init-host']).toBeUndefined();
      expect(message?.headers['router-key']).toBeUndefined();
    }
    expect(init?.headers['x-mcp-method']).toBe('initialize');
    // initialize, notifications/initialized and the call went by server1's route; none by the broker's.
    expect(await envoyStat(envoy, SERVER1_REQUESTS)).toBe(routedBefore + 3);
    expect(await envoyStat(envoy, BROKER_REQUESTS)).toBe(brokerBefore);
    const call = toolCalls(server1).at(-1);
    expect(call?.headers[ROUTE_HEADER]).toBe('upstream_server1');
    expect(call?.sessionId).toBe(initialized?.sessionId);
  });

  it('refuses an initialize whose backend-init token is forged or expired, or absent, with 403', async () => {
    const initializesBefore = server1.initializeCount;
    const brokerBefore = await envoyStat(envoy, BROKER_REQUESTS);
    const forged = await createBackendInitTokens({ key: 'not-the-gateway-key-but-32-bytes-long' }).issue(
      'server1.mcp.local',
      'server1',
    );
    const expired = await createBackendInitTokens({ key: TEST_SIGNING_KEY, now: () => Date.now() - 60_000 }).issue(
      'server1.mcp.local',
      'server1',
    );
    const cases: [Record<string, string>, string][] = [
      [{ 'mcp-init-host': 'server1.mcp.local', 'router-key': forged }, 'is not signed by this gateway'],
      [{ 'mcp-init-host': 'server1.mcp.local', 'router-key': expired }, 'has expired'],
      [{ 'mcp-init-host': 'server1.mcp.local' }, 'must come together'],
    ];
    for (const [headers, reason] of cases) {
      const reply = await post(mcpUrl, initialize, headers);
      expect(reply.status).toBe(403);
      expect(reply.text).toContain('Backend initialize refused');
      expect(reply.text).toContain(reason);
    }
    expect(server1.initializeCount).toBe(initializesBefore);
    expect(await envoyStat(envoy, BROKER_REQUESTS)).toBe(brokerBefore);
  });
});
