// The Prometheus harness against the real Prometheus that .ci/provision-observability builds. Its
// scrape targets are tiny /metrics endpoints served here: a Prometheus text exposition on a
// loopback port is a real target (Prometheus cannot tell it from prom-client's), so nothing is
// mocked; the exposition is written by hand to know every value Prometheus must answer with.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrometheus, type PromQueryResult, type RunningPrometheus } from '../harness/index.ts';

const TEXT_FORMAT = 'text/plain; version=0.0.4; charset=utf-8';

/** A loopback server answering GET /metrics with whatever `body()` returns, as `contentType`. */
async function serveMetrics(body: () => string, contentType = TEXT_FORMAT): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': contentType }).end(body());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`, server };
}

/** The value of each series of an instant vector, keyed by the given label. */
function valuesBy(label: string, result: PromQueryResult): Record<string, number> {
  if (result.resultType !== 'vector') throw new Error(`expected a vector, got ${result.resultType}`);
  return Object.fromEntries(result.result.map((series) => [series.metric[label], Number(series.value[1])]));
}

describe('a real Prometheus started by the harness', () => {
  let calls = 3;
  const exposition = () =>
    [
      '# HELP probe_calls_total Calls by tool.',
      '# TYPE probe_calls_total counter',
      `probe_calls_total{tool="echo"} ${calls}`,
      'probe_calls_total{tool="add"} 1',
      '# HELP probe_call_seconds Call latency.',
      '# TYPE probe_call_seconds histogram',
      'probe_call_seconds_bucket{le="0.01"} 80',
      'probe_call_seconds_bucket{le="0.1"} 99',
      'probe_call_seconds_bucket{le="+Inf"} 100',
      'probe_call_seconds_sum 1.5',
      'probe_call_seconds_count 100',
      '',
    ].join('\n');
  let probe: { url: string; server: Server };
  let wrongType: { url: string; server: Server };
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    probe = await serveMetrics(exposition);
    // JSON is no exposition format: Prometheus 3 refuses such a scrape rather than guessing.
    wrongType = await serveMetrics(exposition, 'application/json');
    prometheus = await startPrometheus({
      scrapeTargets: [
        { job: 'probe', url: probe.url },
        { job: 'wrong-type', url: wrongType.url },
      ],
      scrapeIntervalMs: 500,
    });
  });

  afterAll(async () => {
    await prometheus?.stop();
    probe?.server.close();
    wrongType?.server.close();
  });

  it('answers PromQL for the series a loopback target exposes', async () => {
    const result = await prometheus.waitForSeries(
      'sum by (tool) (probe_calls_total{job="probe"})',
      (r) => r.resultType === 'vector' && r.result.length === 2,
    );
    expect(valuesBy('tool', result)).toEqual({ echo: 3, add: 1 });
  });

  it('sees a counter move on the next scrape', async () => {
    calls = 10;
    const result = await prometheus.waitForSeries(
      'probe_calls_total{tool="echo"}',
      (r) => valuesBy('tool', r)['echo'] === 10,
    );
    expect(valuesBy('tool', result)).toEqual({ echo: 10 });
  });

  it('answers a quantile of a classic histogram, as a latency panel asks', async () => {
    const result = await prometheus.waitForSeries('histogram_quantile(0.5, sum by (le) (probe_call_seconds_bucket))');
    // Half of 100 calls fall in the first bucket (80 below 10 ms): the median is interpolated inside it.
    const [median] = Object.values(valuesBy('le', result));
    expect(median).toBeCloseTo(0.01 * (50 / 80), 6);
  });

  it('answers a range query with one sample per step', async () => {
    const end = Date.now();
    const matrix = await prometheus.queryRange('up{job="probe"}', { startMs: end - 2_000, endMs: end, stepMs: 500 });
    expect(matrix.result).toHaveLength(1);
    expect(matrix.result[0]!.values.map(([, value]) => value)).toContain('1');
  });

  it('lists each target with its health, and why a scrape failed', async () => {
    await prometheus.waitForSeries('up', (r) => r.resultType === 'vector' && r.result.length === 2);
    const targets = await prometheus.targets();
    expect(targets.map((target) => [target.labels['job'], target.scrapeUrl, target.health]).sort()).toEqual([
      ['probe', probe.url, 'up'],
      ['wrong-type', wrongType.url, 'down'],
    ]);
    expect(targets.find((target) => target.labels['job'] === 'wrong-type')?.lastError).toMatch(/content.?type/i);
  });

  it('rejects malformed PromQL with the reason Prometheus gives', async () => {
    await expect(prometheus.query('sum(')).rejects.toThrow(/bad_data/);
  });
});

describe('startPrometheus', () => {
  it('runs two servers side by side, each on ports of its own', async () => {
    const target = await serveMetrics(() => 'probe_value 1\n');
    const [first, second] = await Promise.all([
      startPrometheus({ scrapeTargets: [{ job: 'first', url: target.url }] }),
      startPrometheus({ scrapeTargets: [{ job: 'second', url: target.url }] }),
    ]);
    try {
      expect(first.url).not.toBe(second.url);
      const jobs = await Promise.all(
        [first, second].map(async (prometheus) =>
          Object.keys(valuesBy('job', await prometheus.waitForSeries('probe_value'))),
        ),
      );
      expect(jobs).toEqual([['first'], ['second']]);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
      target.server.close();
    }
  });
});
