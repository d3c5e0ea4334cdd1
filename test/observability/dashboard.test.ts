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

/** The window put for `$__rate_interval`: it holds all the traffic below and many scrapes. */
const RATE_WINDOW = '1m';

const vector = (result: PromQueryResult) => (result.resultType === 'vector' ? result.result : []);
const sumOf = (result: PromQueryResult) => vector(result).reduce((total, s) => total + Number(s.value[1]), 0);

/** One client's traffic on `url`: calls that succeed, fail upstream and are refused, then DELETE. */
async function oneRound(url: string): Promise<void> {
  const sessionId = await openSession(url);
  for (let i = 0; i < 3; i++) {
    const reply = await post(
      url,
      request('tools/call', { name: 's1_echo', arguments: { text: 'hi' } }),
      onSession(sessionId),
    );
    expect(reply.json?.result).toEqual({ content: [{ type: 'text', text: 'echo: hi' }] });
  }
  for (let i = 0; i < 2; i++) {
    const reply = await post(
      url,
      request('tools/call', { name: 's2_echo', arguments: { text: 'hi' } }),
      onSession(sessionId),
    );
    expect(reply.json?.result).toBeUndefined();
  }
  const refused = await post(
    url,
    request('prompts/get', { name: 's1_greet', arguments: { who: 'x' } }),
    onSession(sessionId),
  );
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
    // The router counts a call when Envoy ends its ext_proc stream: wait for all ten (6 ok, 4 errors).
    await prometheus.waitForSeries('sum(mcp_gateway_calls_total{host="router"})', (r) => sumOf(r) === 10);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('counts what the traffic did, on both processes', async () => {
    const { prometheus } = stack;
    const calls = await prometheus.query('sum by (job, host, server, name, outcome) (mcp_gateway_calls_total)');
    const seen = vector(calls).map(
      (s) => `${s.metric.job} ${s.metric.host} ${s.metric.name} ${s.metric.outcome} ${s.value[1]}`,
    );
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

  it('is a Grafana dashboard with a Prometheus data source variable, label_values variables and the rows of issue 13', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    const variables = dashboard.templating.list;
    expect(variables.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const name of ['server', 'tool']) {
      const variable = variables.find((v) => v.name === name);
      expect(variable?.type, name).toBe('query');
      expect(variableQuery(variable!), name).toMatch(/^label_values\(/);
    }
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    expect(rows).toEqual(['Traffic', 'Access', 'Upstreams', 'Sessions', 'Router', 'Store', 'Process']);
    const panels = graphPanels(dashboard);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      expect(panel.description, panel.title).toBeTruthy();
    }
  });

  /** The values a query variable offers, as Grafana asks Prometheus for them (the series API). */
  const variableValues = async (query: string): Promise<string[]> => {
    const { selector, label } = parseLabelValues(query);
    const url = `${stack.prometheus.url}/api/v1/label/${label}/values?${new URLSearchParams({ 'match[]': selector })}`;
    const body = (await (await fetch(url)).json()) as { status: string; data: string[] };
    expect(body.status).toBe('success');
    return body.data;
  };

  /** Each variable at "All" (its allValue, else every value it offers), resolved in order. */
  const allSelected = async (): Promise<Record<string, string>> => {
    const values: Record<string, string> = { datasource: 'prometheus' };
    for (const variable of dashboard.templating.list) {
      if (variable.type !== 'query') continue;
      const offered = await variableValues(substitute(variableQuery(variable), values, RATE_WINDOW));
      values[variable.name] = variable.allValue ?? toRegexAlternation(offered);
    }
    return values;
  };

  it('offers the processes, the servers and the tools called in its variables', async () => {
    const query = (name: string) => variableQuery(dashboard.templating.list.find((v) => v.name === name)!);
    expect((await variableValues(query('job'))).sort()).toEqual(['broker', 'router']);
    expect(await variableValues(query('server'))).toEqual(['server1', 'server2']);
    expect(await variableValues(substitute(query('tool'), { server: '.*' }, RATE_WINDOW))).toEqual([
      's1_echo',
      's1_greet',
      's2_echo',
    ]);
    expect(await variableValues(substitute(query('tool'), { server: 'server2' }, RATE_WINDOW))).toEqual(['s2_echo']);
  });

  /** Runs every target with `values`; names each panel whose query fails or returns no series. */
  const runPanels = async (values: Record<string, string>) => {
    const problems: string[] = [];
    for (const panel of graphPanels(dashboard)) {
      for (const target of panel.targets ?? []) {
        const promql = substitute(target.expr, values, RATE_WINDOW);
        let result: PromQueryResult;
        try {
          result = await stack.prometheus.query(promql);
        } catch (error) {
          problems.push(`${panel.title} (${target.refId}): ${String(error)}`);
          continue;
        }
        if (!hasSeries(result)) {
          problems.push(`${panel.title} (${target.refId}): no data for ${promql}`);
        }
      }
    }
    return problems;
  };

  it('answers every panel query with data when every process, server and tool is selected', async () => {
    expect(await runPanels(await allSelected())).toEqual([]);
  });

  it('answers every panel query with data for one server and one tool', async () => {
    const values = {
      ...(await allSelected()),
      job: 'router',
      server: 'server2',
      tool: toRegexAlternation(['s2_echo']),
    };
    expect(await runPanels(values)).toEqual([]);
  });

  it('shows the upstream error, the refusal by rule and the router phases in its panels', async () => {
    const values = await allSelected();
    const run = async (title: string, refId = 'A') => {
      const target = graphPanels(dashboard)
        .find((p) => p.title === title)
        ?.targets?.find((t) => t.refId === refId);
      expect(target, title).toBeDefined();
      return vector(await stack.prometheus.query(substitute(target!.expr, values, RATE_WINDOW)));
    };
    const ratio = await run('Error ratio per server and tool');
    expect(ratio.map((s) => [s.metric.server, s.metric.name, Number(s.value[1])]).sort()).toEqual([
      ['server1', 's1_echo', 0],
      ['server2', 's2_echo', 1],
    ]);
    const decisions = await run('Access decisions/s by rule and outcome');
    expect(decisions.map((s) => `${s.metric.rule} ${s.metric.outcome}`)).toContain(`${DENY_RULE} denied`);
    const phases = await run('Router latency p50/p99 per ext_proc phase', 'B');
    expect(phases.map((s) => s.metric.phase).sort()).toEqual(
      expect.arrayContaining(['request_body', 'request_headers', 'response_headers']),
    );
    // The broker forgot each session at its DELETE; the router saw the two sessions that went
    // through Envoy call, never their DELETE, so it counts them for 5 minutes.
    const active = await run('Active sessions (seen in the last 5 min)');
    expect(active.map((s) => `${s.metric.job} ${s.value[1]}`).sort()).toEqual(['broker 0', 'router 2']);
  });

  it('counts a session the broker serves as active until its DELETE', async () => {
    const { prometheus } = stack;
    const broker = 'sum(mcp_gateway_active_sessions{job="broker"})';
    const sessionId = await openSession(stack.brokerUrl);
    await prometheus.waitForSeries(broker, (r) => sumOf(r) === 1);
    await fetch(stack.brokerUrl, { method: 'DELETE', headers: onSession(sessionId) });
    await prometheus.waitForSeries(broker, (r) => sumOf(r) === 0);
  });

  it('keeps the series count bounded after 10 000 calls to 10 000 made-up tool names, none of them in a label', async () => {
    const { prometheus } = stack;
    const seriesCount = async () => sumOf(await prometheus.query('count({__name__=~"mcp_.*"})'));
    const requests = async () => sumOf(await prometheus.query('sum(mcp_gateway_requests_total)'));
    const before = await seriesCount();
    const requestsBefore = await requests();
    const sessionId = await openSession(stack.envoyUrl);
    const started = performance.now();
    for (let batch = 0; batch < 100; batch++) {
      const replies = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          post(
            stack.envoyUrl,
            request('tools/call', { name: `made_up_tool_${batch * 100 + i}` }),
            onSession(sessionId),
          ),
        ),
      );
      expect(replies.every((reply) => reply.json?.error !== undefined)).toBe(true);
    }
    const seconds = (performance.now() - started) / 1000;
    // Prometheus has scraped the broker after the last of them (each is counted by its method).
    await prometheus.waitForSeries('sum(mcp_gateway_requests_total)', (r) => sumOf(r) >= requestsBefore + 10_000);
    const after = await seriesCount();
    // What the calls may add: their request's outcome under tools/call on each process, nothing per name.
    expect(
      after - before,
      `series before ${before}, after ${after} (${seconds.toFixed(1)} s of calls)`,
    ).toBeLessThanOrEqual(10);
    for (const promql of [
      'count by (name) (mcp_gateway_calls_total)',
      'count by (name) (mcp_gateway_call_duration_seconds_bucket)',
      'count by (method) (mcp_gateway_requests_total)',
    ]) {
      const values = vector(await prometheus.query(promql)).map((s) => Object.values(s.metric).join(' '));
      expect(
        values.filter((value) => value.includes('made_up')),
        promql,
      ).toEqual([]);
    }
    // Nor in any label of any series Prometheus holds.
    const labels = (await (await fetch(`${prometheus.url}/api/v1/labels`)).json()) as { data: string[] };
    for (const label of labels.data) {
      const values = (await (await fetch(`${prometheus.url}/api/v1/label/${label}/values`)).json()) as {
        data: string[];
      };
      expect(
        values.data.filter((value) => value.includes('made_up')),
        label,
      ).toEqual([]);
    }
  }, 180_000);
});
