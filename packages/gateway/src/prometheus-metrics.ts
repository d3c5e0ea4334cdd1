import {
  RecentKeys,
  type CallFact,
  type Gateway,
  type GatewayMetrics,
  type RequestOutcome,
  type RouterPhase,
  type StoreOperation,
} from '@mcp-gateway/core';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { CellCounter, CellHistogram } from './prometheus-cells.ts';

/** The gateway's metrics in a Prometheus registry (prom-client), with the process's own. */
export interface PrometheusMetrics extends GatewayMetrics {
  /** The text exposition for GET /metrics. */
  expose(): Promise<string>;
  readonly contentType: string;
  /** Reads the gateway's state (upstream health, catalog) at each scrape. */
  observe(gateway: Gateway): void;
}

/** Latency buckets in seconds: 1 ms to 30 s. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The window of the active-sessions gauge: 5 minutes. */
const ACTIVE_SESSION_WINDOW_MS = 5 * 60_000;
/** The most sessions the gauge tracks (a bound on its memory, ~100 bytes each). */
const MAX_ACTIVE_SESSIONS = 100_000;

/** Store buckets in seconds, for Redis on a LAN: 100 µs to 1 s. */
const STORE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/**
 * Creates the metrics. Label values come from fixed sets or from the config and catalog (core
 * names unknown methods `other` and never counts a call it did not resolve), so the number of
 * series is bounded by the config and the catalog, whatever clients send. The labelled counters
 * and histograms are cells (prometheus-cells.ts): recorded per call without prom-client's label
 * hashing, exposed by its registry as its own; gauges and process metrics are prom-client's.
 * @see docs/observability.md
 */
export function createPrometheusMetrics(build: { version: string; role: string }): PrometheusMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // 1 from the start, whatever the process does: what it is, for selecting and joining series.
  new Gauge({
    name: 'mcp_gateway_build_info',
    help: "The gateway's version and what this process runs (broker, router, or broker+router).",
    labelNames: ['version', 'role'] as const,
    registers: [registry],
  }).set(build, 1);
  const requests = new CellCounter({
    name: 'mcp_gateway_requests_total',
    help: 'MCP requests the endpoint answered, by JSON-RPC method (GET and DELETE by HTTP method) and outcome.',
    labelNames: ['method', 'outcome'] as const,
    registers: [registry],
  });
  const requestSeconds = new CellHistogram({
    name: 'mcp_gateway_request_duration_seconds',
    help: 'Time to answer an MCP request (to the start of the answer for a stream), by method.',
    labelNames: ['method'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const calls = new CellCounter({
    name: 'mcp_gateway_calls_total',
    help: 'Calls forwarded to upstreams (or refused by access rules), by host, method, server, item and outcome.',
    labelNames: ['host', 'method', 'server', 'kind', 'name', 'outcome'] as const,
    registers: [registry],
  });
  const callSeconds = new CellHistogram({
    name: 'mcp_gateway_call_duration_seconds',
    help: 'Time from the access decision to the upstream answer (on a stream, its answer message; behind Envoy, the end of the exchange).',
    labelNames: ['host', 'method', 'server', 'kind', 'name'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const decisions = new CellCounter({
    name: 'mcp_gateway_access_decisions_total',
    help: 'Access decisions on calls made by a rule, a default, a virtual server or a trusted header.',
    labelNames: ['host', 'decided_by', 'rule', 'outcome'] as const,
    registers: [registry],
  });
  const sessions = new CellCounter({
    name: 'mcp_gateway_sessions_total',
    help: 'Legacy sessions started (initialize) and ended (DELETE).',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  // Sessions are tokens, not server state: "active" is a session that sent this process a request lately.
  const recentSessions = new RecentKeys(ACTIVE_SESSION_WINDOW_MS, MAX_ACTIVE_SESSIONS);
  new Gauge({
    name: 'mcp_gateway_active_sessions',
    help: 'Legacy sessions that sent this process a request in the last 5 minutes (ended ones not counted).',
    registers: [registry],
    collect() {
      this.set(recentSessions.count(Date.now()));
    },
  });
  const backendSessions = new CellCounter({
    name: 'mcp_gateway_backend_sessions_opened_total',
    help: 'Backend sessions opened on upstreams.',
    labelNames: ['server'] as const,
    registers: [registry],
  });
  const listChanged = new CellCounter({
    name: 'mcp_gateway_list_changed_total',
    help: 'list_changed notifications published to clients, by list.',
    labelNames: ['list'] as const,
    registers: [registry],
  });
  const routerPhases = new CellHistogram({
    name: 'mcp_gateway_router_phase_duration_seconds',
    help: 'Time the Envoy ext_proc router took to answer one message, by phase.',
    labelNames: ['phase'] as const,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1],
    registers: [registry],
  });
  const storeSeconds = new CellHistogram({
    name: 'mcp_gateway_store_operation_duration_seconds',
    help: 'Time of one operation on the shared session store or notification bus (Redis), by operation and outcome.',
    labelNames: ['operation', 'outcome'] as const,
    buckets: STORE_BUCKETS,
    registers: [registry],
  });
  let gateway: Gateway | undefined;
  const upstreamUp = new Gauge({
    name: 'mcp_gateway_upstream_up',
    help: 'Whether an upstream is ready (1) or withdrawn (0).',
    labelNames: ['server'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const server of gateway?.status().servers ?? []) this.set({ server: server.name }, server.ready ? 1 : 0);
    },
  });
  // The anchor's name for the same figure, so its dashboards keep working.
  const toolsDiscovered = new Gauge({
    name: 'mcp_broker_tools_discovered',
    help: 'Tools an upstream serves (0 when it is unreachable).',
    labelNames: ['server_name'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const server of gateway?.status().servers ?? []) {
        this.set({ server_name: server.name }, server.ready ? server.totalTools : 0);
      }
    },
  });
  const conflicts = new Gauge({
    name: 'mcp_gateway_upstream_conflicts',
    help: 'Served names an upstream lost to an earlier server (not served for it).',
    labelNames: ['server'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const server of gateway?.status().servers ?? []) {
        const lost = server.conflicts;
        const count = lost === undefined ? 0 : lost.tools.length + lost.prompts.length + lost.resources.length;
        this.set({ server: server.name }, count);
      }
    },
  });
  const catalogItems = new Gauge({
    name: 'mcp_gateway_catalog_items',
    help: 'Items the gateway serves (its catalog), by kind.',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      this.reset();
      if (gateway === undefined) return;
      const catalog = gateway.routing().catalog();
      this.set({ kind: 'tools' }, catalog.tools.length);
      this.set({ kind: 'prompts' }, catalog.prompts.length);
      this.set({ kind: 'resources' }, catalog.resources.length);
      this.set({ kind: 'resource_templates' }, catalog.resourceTemplates.length);
    },
  });
  void upstreamUp;
  void toolsDiscovered;
  void conflicts;
  void catalogItems;

  return {
    contentType: registry.contentType,
    expose: () => registry.metrics(),
    observe(target) {
      gateway = target;
    },
    request(method: string, outcome: RequestOutcome, seconds: number) {
      requests.inc(method, outcome);
      requestSeconds.observe(seconds, method);
    },
    call(fact: CallFact) {
      const { host, method, server, kind, name, outcome } = fact;
      calls.inc(host, method, server, kind, name, outcome);
      if (outcome !== 'denied') callSeconds.observe(fact.seconds, host, method, server, kind, name);
    },
    accessDecision(host, decidedBy, rule, allowed) {
      decisions.inc(host, decidedBy, rule ?? '', allowed ? 'allowed' : 'denied');
    },
    session(event, jti) {
      sessions.inc(event);
      if (event === 'started') recentSessions.touch(jti, Date.now());
      else recentSessions.forget(jti);
    },
    sessionSeen(jti) {
      recentSessions.touch(jti, Date.now());
    },
    backendSessionOpened(server) {
      backendSessions.inc(server);
    },
    listChanged(list) {
      listChanged.inc(list);
    },
    routerPhase(phase: RouterPhase, seconds: number) {
      routerPhases.observe(seconds, phase);
    },
    storeOperation(operation: StoreOperation, ok: boolean, seconds: number) {
      storeSeconds.observe(seconds, operation, ok ? 'ok' : 'error');
    },
  };
}
