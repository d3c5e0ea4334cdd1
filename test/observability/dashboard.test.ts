// Every query of the Grafana dashboard (infra/grafana/mcp-gateway-dashboard.json) run on a real
// Prometheus that scraped a real broker and a real --router-only router behind a real Envoy,
// after calls that succeeded, failed upstream and were refused by a rule, and sessions opened and
// deleted: each must parse and return data. Then 10 000 calls to made-up tool names, to show
// that no client can grow the series count.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onSession, openSession, post, request } from '../gateway-http/helpers.ts';
import { hasSeries, type PromQueryResult } from '../harness/index.ts';
import {
  graphPanels,
  parseLabelValues,
  readDashboard,
  substitute,
  toRegexAlternation,
  variableQuery,
  type Dashboard,
} from './dashboard-file.ts';
import { DENY_RULE, SCRAPE_INTERVAL_MS, startDashboardStack, type DashboardStack } from './dashboard-stack.ts';

/**
 * Panels whose series another branch adds (the store histogram and the catalog gauge of issue 13):
 * until that branch is merged their metric is absent and their queries only have to parse. Once
 * the metric exists, they must return data like the others.
 */
const NEEDS_STORE_SERIES: Readonly<Record<string, string>> = {
  'Catalog size by kind': 'mcp_gateway_catalog_items',
  'Store latency p50/p99 per operation': 'mcp_gateway_store_operation_duration_seconds_bucket',
  'Store errors/s per operation': 'mcp_gateway_store_operation_duration_seconds_count',
};

/** The window put for `$__rate_interval`: it holds all the traffic below and many scrapes. */
const RATE_WINDOW = '1m';

const vector = (result: PromQueryResult) => (result.resultType === 'vector' ? result.result : []);
const sumOf = (result: PromQueryResult) => vector(result).reduce((total, s) => total + Number(s.value[1]), 0);

/** One client's traffic on `url`: calls that succeed, fail upstream and are refused, then DELETE. */
async function oneRound(url: string): Promise<void> {
  const sessionId = await openSession(url);
  for (let i = 0; i < 3; i++) {
    const reply = await post(url, request('tools/call', { name: 's1_echo', arguments: { text: 'hi' } }), onSession(sessionId));
    expect(reply.json?.result).toEqual({ content: [{ type: 'text', text: 'echo: hi' }] });
  }
  for (let i = 0; i < 2; i++) {
    const reply = await post(url, request('tools/call', { name: 's2_echo', arguments: { text: 'hi' } }), onSession(sessionId));
    expect(reply.json?.result).toBeUndefined();
  }
  const refused = await post(url, request('prompts/get', { name: 's1_greet', arguments: { who: 'x' } }), onSession(sessionId));
  expect(refused.json?.error?.code).toBe(-32003);
  const deleted = await fetch(url, { method: 'DELETE', headers: onSession(sessionId) });
  expect(deleted.status).toBe(200);
}

describe('the Grafana dashboard on a real Prometheus scraping the broker and the router', () => {
  let stack: DashboardStack;
  let dashboard: Dashboard;

  beforeAll(async () => {
    dashboard = readDashboard();
    stack = await startDashboardStack();
    const { prometheus } = stack;
    // The router routes calls once its own discovery found both upstreams.
    await prometheus.waitForSeries('mcp_gateway_upstream_up{job="router"} == 1', (r) => vector(r).length === 2);
    await prometheus.waitForSeries('mcp_gateway_upstream_up{job="broker"} == 1', (r) => vector(r).length === 2);
    // Two rounds a few scrapes apart: a rate sees only what a counter gained after its first sample.
    for (const url of [stack.brokerUrl, stack.envoyUrl]) await oneRound(url);
    await new Promise((resolve) => setTimeout(resolve, 3 * SCRAPE_INTERVAL_MS));
    for (const url of [stack.brokerUrl, stack.envoyUrl]) await oneRound(url);
    await prometheus.waitForSeries('sum(mcp_gateway_sessions_total{event="ended"})', (r) => sumOf(r) === 4);
    await prometheus.waitForSeries('sum(mcp_gateway_calls_total{host="router", outcome="ok"})', (r) => sumOf(r) === 6);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('counts what the traffic did, on both processes', async () => {
    const { prometheus } = stack;
    const calls = await prometheus.query('sum by (job, host, server, name, outcome) (mcp_gateway_calls_total)');
    const seen = vector(calls).map((s) => `${s.metric.job} ${s.metric.host} ${s.metric.name} ${s.metric.outcome} ${s.value[1]}`);
    expect(seen.sort()).toEqual(
      [
        'broker broker s1_echo ok 6',
        'broker broker s2_echo error 4',
        'broker broker s1_greet denied 4',
        'router router s1_echo ok 6',
        'router router s2_echo error 4',
      ].sort(),
    );
    expect(stack.failing.refused).toBe(8);
  });
});
