import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './free-port.ts';
import { observabilityBinary } from './observability-binaries.ts';
import { pollUntil } from './poll.ts';
import { startProcess, type RunningProcess } from './process.ts';

/** An endpoint Prometheus scrapes. */
export interface ScrapeTarget {
  /** The `job` label of its series. */
  job: string;
  /** `http://127.0.0.1:<port>/metrics`; path and query string are kept. */
  url: string;
}

export interface StartPrometheusOptions {
  scrapeTargets: readonly ScrapeTarget[];
  /** Scrape interval, also the scrape timeout. Default 1 000 ms. */
  scrapeIntervalMs?: number;
  /** How long to wait for `/-/ready`. Default 20 000 ms. */
  timeoutMs?: number;
}

/** A sample as the HTTP API writes it: seconds since the epoch, and the value as a string. */
export type PromSample = readonly [time: number, value: string];

/** An instant vector: one sample per series. */
export interface PromVector {
  readonly resultType: 'vector';
  readonly result: readonly { readonly metric: Readonly<Record<string, string>>; readonly value: PromSample }[];
}

/** A range vector (a range selector in an instant query, or any range query): samples per series. */
export interface PromMatrix {
  readonly resultType: 'matrix';
  readonly result: readonly {
    readonly metric: Readonly<Record<string, string>>;
    readonly values: readonly PromSample[];
  }[];
}

export interface PromScalar {
  readonly resultType: 'scalar' | 'string';
  readonly result: PromSample;
}

/** What `/api/v1/query` and `/api/v1/query_range` answer in `data`. */
export type PromQueryResult = PromVector | PromMatrix | PromScalar;

/** One scrape target as `/api/v1/targets` reports it. */
export interface PromTarget {
  readonly scrapeUrl: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `unknown` until its first scrape. */
  readonly health: 'up' | 'down' | 'unknown';
  /** Why the last scrape failed (e.g. an unsupported Content-Type), or ''. */
  readonly lastError: string;
  readonly lastScrape: string;
}

/** A real Prometheus scraping the given targets, on a loopback port of its own. */
export interface RunningPrometheus {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** An instant query (`/api/v1/query`), at `time` (ms since the epoch) or now. */
  query(promql: string, time?: number): Promise<PromQueryResult>;
  /** A range query (`/api/v1/query_range`) from `startMs` to `endMs` (default now) by `stepMs` (default 1 000). */
  queryRange(promql: string, range: { startMs: number; endMs?: number; stepMs?: number }): Promise<PromMatrix>;
  /**
   * Runs `promql` until `predicate` accepts the result (default: it holds a series) and resolves
   * with that result. On timeout the error carries the last result and each target's last error.
   */
  waitForSeries(
    promql: string,
    predicate?: (result: PromQueryResult) => boolean,
    timeoutMs?: number,
  ): Promise<PromQueryResult>;
  /** The active scrape targets, with their health and last error. */
  targets(): Promise<PromTarget[]>;
  /** Everything Prometheus has printed. */
  logs(): string;
  /** Stops Prometheus and removes its config and storage. Safe to call twice. */
  stop(): Promise<void>;
}

const DEFAULT_SCRAPE_INTERVAL_MS = 1_000;
const DEFAULT_WAIT_MS = 15_000;

/**
 * Starts the Prometheus `.ci/provision-observability` built, with a config scraping
 * `scrapeTargets` every `scrapeIntervalMs`, its TSDB in a temp directory and its HTTP API on a
 * free loopback port; resolves once `/-/ready` answers. No fallback scrape protocol is set: a
 * target must answer with a Content-Type Prometheus knows (`text/plain; version=0.0.4`, OpenMetrics).
 * @throws Error naming `.ci/provision-observability` when Prometheus is not built, or with its
 *   output when it exits or is not ready in time.
 * @see https://prometheus.io/docs/prometheus/latest/querying/api/
 */
export async function startPrometheus(options: StartPrometheusOptions): Promise<RunningPrometheus> {
  const binary = observabilityBinary('prometheus');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = await mkdtemp(join(tmpdir(), 'mcpgw-prometheus-'));
  let server: RunningProcess;
  try {
    const config = join(dir, 'prometheus.yml');
    await writeFile(config, stringify(toConfig(options)));
    const args = [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // A hidden flag (default 5 s): how long the scrape manager waits before it first picks up
      // the static targets. At 5 s a test's first series came 5 s after start.
      '--scrape.discovery-reload-interval=100ms',
      '--log.level=info',
    ];
    server = await startProcess(binary, args, {
      cwd: dir,
      readyWhen: { url: `${url}/-/ready` },
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const api = async <T>(path: string, params: Record<string, string>): Promise<T> => {
    const response = await fetch(`${url}${path}?${new URLSearchParams(params)}`, {
      signal: AbortSignal.timeout(5_000),
    });
    const body = (await response.json()) as { status: string; data?: T; errorType?: string; error?: string };
    if (body.status !== 'success' || body.data === undefined) {
      throw new Error(
        `Prometheus ${path} ${JSON.stringify(params)}: ${body.errorType ?? response.status}: ${body.error}`,
      );
    }
    return body.data;
  };
  const targets = async (): Promise<PromTarget[]> =>
    (await api<{ activeTargets: PromTarget[] }>('/api/v1/targets', { state: 'active' })).activeTargets.map(
      ({ scrapeUrl, labels, health, lastError, lastScrape }) => ({ scrapeUrl, labels, health, lastError, lastScrape }),
    );
  const query = (promql: string, time?: number) =>
    api<PromQueryResult>('/api/v1/query', { query: promql, ...(time !== undefined && { time: String(time / 1000) }) });

  return {
    url,
    query,
    queryRange: (promql, { startMs, endMs = Date.now(), stepMs = 1_000 }) =>
      api<PromMatrix>('/api/v1/query_range', {
        query: promql,
        start: String(startMs / 1000),
        end: String(endMs / 1000),
        step: String(stepMs / 1000),
      }),
    waitForSeries: (promql, predicate = (result) => hasSeries(result), timeoutMs = DEFAULT_WAIT_MS) =>
      pollUntil(
        `Prometheus to answer ${promql}`,
        () => query(promql),
        predicate,
        timeoutMs,
        async () =>
          (await targets())
            .map(
              (target) => `target ${target.scrapeUrl}: ${target.health}${target.lastError && ` (${target.lastError})`}`,
            )
            .join('\n'),
      ),
    targets,
    logs: () => server.output(),
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** True when an instant or range query returned at least one series (a scalar counts). */
export function hasSeries(result: PromQueryResult): boolean {
  return result.resultType === 'vector' || result.resultType === 'matrix' ? result.result.length > 0 : true;
}

/** One scrape job per job name; targets sharing a job, path and scheme share a static config. */
function toConfig(options: StartPrometheusOptions): unknown {
  const interval = `${options.scrapeIntervalMs ?? DEFAULT_SCRAPE_INTERVAL_MS}ms`;
  const jobs = new Map<string, { url: URL; hosts: string[] }[]>();
  for (const target of options.scrapeTargets) {
    const url = new URL(target.url);
    const groups = jobs.get(target.job) ?? [];
    const group = groups.find(
      (g) => g.url.protocol === url.protocol && g.url.pathname === url.pathname && g.url.search === url.search,
    );
    if (group) group.hosts.push(url.host);
    else groups.push({ url, hosts: [url.host] });
    jobs.set(target.job, groups);
  }
  return {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: [...jobs].flatMap(([job, groups]) =>
      groups.map((group, index) => ({
        job_name: index === 0 ? job : `${job}-${index}`,
        scheme: group.url.protocol.replace(/:$/, ''),
        metrics_path: group.url.pathname,
        ...(group.url.search && { params: toParams(group.url.searchParams) }),
        static_configs: [{ targets: group.hosts, labels: { job } }],
      })),
    ),
  };
}

function toParams(search: URLSearchParams): Record<string, string[]> {
  const params: Record<string, string[]> = {};
  for (const [key, value] of search) (params[key] ??= []).push(value);
  return params;
}
