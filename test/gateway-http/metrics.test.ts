// GET /metrics of the built gateway: the Prometheus exposition after real calls to a real SDK
// upstream, its label values bounded by the config and the catalog whatever clients send.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startGateway, startSdkUpstream, type RunningGateway, type SdkUpstream } from '../harness/index.ts';
import { echoAndGreet, onSession, openSession, post, request, sample, waitForHealthy } from './helpers.ts';

/** Sample lines (not comments) of the exposition. */
const seriesCount = (text: string) => text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;

describe('GET /metrics', () => {
  let upstream: SdkUpstream;
  let failing: SdkUpstream;
  let gateway: RunningGateway;
  let metricsPort: number;

  beforeAll(async () => {
    upstream = await startSdkUpstream({ setup: echoAndGreet });
    // Its tool fails as tools do (the SDK answers isError), its prompt with a JSON-RPC error.
    failing = await startSdkUpstream({
      setup(server) {
        server.registerTool('explode', { description: 'Always fails' }, () => {
          throw new Error('the tool exploded');
        });
        server.registerPrompt('broken', { description: 'Always fails' }, () => {
          throw new Error('the prompt broke');
        });
      },
    });
    metricsPort = await freePort();
    gateway = await startGateway({
      config: [
        'servers:',
        '  - name: team-a/alpha',
        `    url: ${upstream.url}`,
        '    prefix: a_',
        '  - name: team-b/beta',
        `    url: ${failing.url}`,
        '    prefix: b_',
        'policy:',
        '  rules:',
        '    - { name: no-greetings, effect: deny, prompts: [greet] }',
        '',
      ].join('\n'),
      args: ['--metrics-addr', `127.0.0.1:${metricsPort}`],
    });
    await waitForHealthy(gateway, 2);
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
    await failing?.stop();
  });

  const scrape = async (url = `${gateway.baseUrl}/metrics`) => {
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    return response.text();
  };

  it('counts requests by method and outcome, calls per tool, refusals by rule, sessions and upstream health', async () => {
    const sessionId = await openSession(gateway.url);
    for (let i = 0; i < 3; i++) {
      const reply = await post(
        gateway.url,
        request('tools/call', { name: 'a_echo', arguments: { text: 'x' } }),
        onSession(sessionId),
      );
      expect(reply.status).toBe(200);
    }
    const refused = await post(
      gateway.url,
      request('prompts/get', { name: 'a_greet', arguments: { who: 'x' } }),
      onSession(sessionId),
    );
    expect(refused.json?.error?.code).toBe(-32003);
    const text = await scrape();

    expect(sample(text, 'mcp_gateway_requests_total', { method: 'tools/call', outcome: 'ok' })).toBe(3);
    expect(sample(text, 'mcp_gateway_requests_total', { method: 'initialize', outcome: 'ok' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(
      sample(text, 'mcp_gateway_calls_total', {
        host: 'broker',
        method: 'tools/call',
        server: 'team-a/alpha',
        kind: 'tool',
        name: 'a_echo',
        outcome: 'ok',
      }),
    ).toBe(3);
    expect(sample(text, 'mcp_gateway_call_duration_seconds_count', { server: 'team-a/alpha', name: 'a_echo' })).toBe(3);
    expect(sample(text, 'mcp_gateway_calls_total', { name: 'a_greet', outcome: 'denied' })).toBe(1);
    expect(
      sample(text, 'mcp_gateway_access_decisions_total', {
        decided_by: 'rule',
        rule: 'no-greetings',
        outcome: 'denied',
      }),
    ).toBe(1);
    expect(sample(text, 'mcp_gateway_sessions_total', { event: 'started' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'mcp_gateway_backend_sessions_opened_total', { server: 'team-a/alpha' })).toBe(1);
    expect(sample(text, 'mcp_gateway_upstream_up', { server: 'team-a/alpha' })).toBe(1);
    expect(sample(text, 'mcp_broker_tools_discovered', { server_name: 'team-a/alpha' })).toBe(1);
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(sample(text, 'mcp_gateway_build_info', { role: 'broker' })).toBe(1);
  });

  it('counts a tool that reports a failure as tool_error and a JSON-RPC error answer as error, logging only the error', async () => {
    const sessionId = await openSession(gateway.url);
    const exploded = await post(gateway.url, request('tools/call', { name: 'b_explode' }), onSession(sessionId));
    expect((exploded.json?.result as { isError?: boolean } | undefined)?.isError).toBe(true);
    const broken = await post(gateway.url, request('prompts/get', { name: 'b_broken' }), onSession(sessionId));
    expect(broken.json?.error?.code).toBeTypeOf('number');
    const text = await scrape();
    expect(sample(text, 'mcp_gateway_calls_total', { name: 'b_explode', outcome: 'tool_error' })).toBe(1);
    expect(sample(text, 'mcp_gateway_calls_total', { name: 'b_broken', outcome: 'error' })).toBe(1);
    expect(sample(text, 'mcp_gateway_calls_total', { name: 'b_explode', outcome: 'ok' })).toBeUndefined();
    const failed = gateway
      .logs()
      .split('\n')
      .filter((line) => line.includes('"call failed"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(failed.filter((line) => line['item'] === 'b_explode')).toEqual([]);
    expect(failed.filter((line) => line['item'] === 'b_broken')).toEqual([
      expect.objectContaining({
        level: 'warn',
        server: 'team-b/beta',
        outcome: 'error',
        code: broken.json?.error?.code,
      }),
    ]);
  });

  it('adds no series for tools and methods a client makes up', async () => {
    const sessionId = await openSession(gateway.url);
    const before = seriesCount(await scrape());
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 2_000; i++) {
      const body = i % 2 === 0 ? request('tools/call', { name: `made_up_${i}` }) : request(`made/up/${i}`);
      sends.push(post(gateway.url, body, onSession(sessionId)));
      if (sends.length === 50) await Promise.all(sends.splice(0));
    }
    await Promise.all(sends);
    const text = await scrape();
    expect(text).not.toContain('made_up_');
    expect(text).not.toContain('made/up/');
    expect(sample(text, 'mcp_gateway_requests_total', { method: 'other', outcome: 'ok' })).toBe(1_000);
    // The 2 000 requests add at most the series of the two labels they fall under.
    expect(seriesCount(text) - before).toBeLessThanOrEqual(40);
  });

  it('serves the same metrics on --metrics-addr, and only there GET /metrics', async () => {
    const text = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(text).toContain('mcp_gateway_requests_total');
    expect((await fetch(`http://127.0.0.1:${metricsPort}/mcp`)).status).toBe(404);
  });
});
