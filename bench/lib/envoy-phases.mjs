// Envoy in front of the gateway (issue 5): tools/call through Envoy with the ext_proc
// processor (routed straight to the upstream), through a second Envoy with the pass-through
// bootstrap (no ext_proc, routed by Host), through a third with the ext_proc bootstrap and a
// do-nothing processor (bench/null-ext-proc.mjs, routed by Host: what ext_proc costs by
// itself), and to the broker alone; the processor's time per call as Envoy clocks it (its
// ext_proc filter state, from an access log); then the processor's own cost, driving its gRPC
// server directly with a grpc-js client.
import { credentials } from '@grpc/grpc-js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { renderEnvoyBootstrap } from '../../infra/envoy/render-bootstrap.mjs';
import { loadExtProc } from '../../packages/node-extproc/src/load-ext-proc.ts';
import { startEnvoy } from '../../test/harness/envoy.ts';
import { httpHeaders } from '../../test/harness/ext-proc-client.ts';
import { freePort } from '../../test/harness/free-port.ts';
import { echoCall, echoParams, measureCallLatency, measureCallThroughput } from './call-phases.mjs';
import { waitForTools } from './list-memory-phases.mjs';
import { concurrent, sequential, summarize } from './load.mjs';
import { openMcpSession } from './mcp-http.mjs';
import { readCpuMs, startBenchGateway, startNullExtProc } from './processes.mjs';

const PUBLIC_HOST = 'mcp.bench.local';
const UPSTREAM_HOST = 'bench.mcp.local';

/**
 * The bootstrap without its stdout access log: at thousands of requests per second the log
 * lines would cost Envoy CPU and fill the bench's memory (startProcess keeps the output).
 */
const withoutAccessLog = (yaml) => yaml.replace(ACCESS_LOG, '');
const ACCESS_LOG = /^ {16}access_log:\n(?: {18}.*\n)+/m;

/**
 * Per request: the routed server (the processor's dynamic metadata, `-` when none) and the time
 * Envoy waited for the processor's answers to the request headers, the request body and the
 * response headers, in µs (the ext_proc filter's own clock, its filter state).
 */
const TIMING_FORMAT = [
  '%DYNAMIC_METADATA(mcp-gateway:server)%',
  ...['request_header_latency_us', 'request_body_total_latency_us', 'response_header_latency_us'].map(
    (field) => `%FILTER_STATE(envoy.filters.http.ext_proc:FIELD:${field})%`,
  ),
].join(' ');

/** The bootstrap with a file access log of {@link TIMING_FORMAT} at `path` instead of stdout's. */
const withTimingLog = (yaml, path) =>
  yaml.replace(
    ACCESS_LOG,
    `                access_log:
                  - name: envoy.access_loggers.file
                    typed_config:
                      '@type': type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                      path: '${path}'
                      log_format: { text_format_source: { inline_string: "${TIMING_FORMAT}\\n" } }
`,
  );

/**
 * Starts the gateway with its router, the do-nothing processor, and three Envoys on `upstreamUrl`:
 * the ext_proc bootstrap on the router, the pass-through one, and the ext_proc bootstrap on the
 * do-nothing processor; the two ext_proc ones write timing logs. `defer` registers cleanups.
 * Resolves with the targets.
 */
async function startStack(upstreamUrl, defer, nodeArgs) {
  const routerPort = await freePort();
  const gateway = await startBenchGateway(
    [{ name: 'bench', url: upstreamUrl, prefix: 'e_', hostname: UPSTREAM_HOST }],
    {
      nodeArgs,
      args: ['--mcp-router-address', `127.0.0.1:${routerPort}`, '--mcp-gateway-public-host', PUBLIC_HOST],
    },
  );
  defer(() => gateway.stop());
  const nullProcessor = await startNullExtProc();
  defer(() => nullProcessor.stop());
  const logDir = await mkdtemp(join(tmpdir(), 'mcpgw-bench-envoy-'));
  defer(() => rm(logDir, { recursive: true, force: true }));
  const brokerAddress = `127.0.0.1:${new URL(gateway.url).port}`;
  const upstreams = [{ name: 'bench', hostname: UPSTREAM_HOST, address: new URL(upstreamUrl).host, path: '/mcp' }];
  const start = async (extProcPort, timingLog) => {
    const listenerPort = await freePort();
    const yaml = renderEnvoyBootstrap({
      listenerPort,
      adminPort: await freePort(),
      brokerAddress,
      extProcAddress: `127.0.0.1:${extProcPort ?? routerPort}`,
      extProc: extProcPort !== undefined,
      upstreams,
    });
    const config = timingLog === undefined ? withoutAccessLog(yaml) : withTimingLog(yaml, timingLog);
    const envoy = await startEnvoy({ config, fileFlushIntervalMs: 100 });
    defer(() => envoy.stop());
    return { envoy, url: `${envoy.listenerUrl(listenerPort)}/mcp`, timingLog };
  };
  const processed = await start(routerPort, join(logDir, 'processor.log'));
  const passThrough = await start(undefined);
  const nullProcessed = await start(nullProcessor.port, join(logDir, 'null.log'));
  return { gateway, routerPort, processed, passThrough, nullProcessed };
}

/**
 * The processor's time per request as Envoy clocked it, from a timing log: the sum of its
 * phases, in ms, for the last `count` requests `server` names (the measured calls, after the
 * session's own requests and the warm-up; `-` for the do-nothing processor, which sets no
 * metadata).
 */
async function processorTime(path, server, count) {
  const samples = [];
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    const [name, ...phases] = line.split(' ');
    if (name !== server || phases.length !== 3 || phases.some((phase) => !/^\d+$/.test(phase))) continue;
    samples.push(phases.reduce((sum, phase) => sum + Number(phase), 0) / 1000);
  }
  return summarize(samples.slice(-count));
}

/**
 * tools/call at c=1 (ABBA rounds) and c=64 (windows) through Envoy + processor, Envoy
 * pass-through and the broker alone; then the processor's gRPC server driven directly.
 * `nodeArgs` go to the gateway's node (e.g. --cpu-prof).
 */
export async function envoyPhases(upstreamUrl, upstreamPid, { sizes, warmupMs, grpcCount, log, defer, nodeArgs = [] }) {
  const { gateway, routerPort, processed, passThrough, nullProcessed } = await startStack(upstreamUrl, defer, nodeArgs);
  const viaProcessor = await openMcpSession(processed.url, { connections: 64 });
  defer(() => viaProcessor.close());
  const viaPassThrough = await openMcpSession(passThrough.url, { connections: 64, host: UPSTREAM_HOST });
  defer(() => viaPassThrough.close());
  const viaBroker = await openMcpSession(gateway.url, { connections: 64, host: PUBLIC_HOST });
  defer(() => viaBroker.close());
  const viaNullProcessor = await openMcpSession(nullProcessed.url, { connections: 64, host: UPSTREAM_HOST });
  defer(() => viaNullProcessor.close());
  await waitForTools(viaBroker, 1);
  const targets = {
    processor: { send: echoCall(viaProcessor, 'e_echo'), pid: gateway.pid },
    passThrough: { send: echoCall(viaPassThrough, 'echo') },
    broker: { send: echoCall(viaBroker, 'e_echo'), pid: gateway.pid },
    nullProcessor: { send: echoCall(viaNullProcessor, 'echo') },
  };
  log(`Envoy tools/call latency, c=1: ${sizes.warmup} warm-up + ${sizes.calls} calls per path`);
  const latency = await measureCallLatency(targets, { warmup: sizes.warmup, count: sizes.calls });
  await new Promise((resolve) => setTimeout(resolve, 300)); // the access logs' flush interval is 100 ms
  const envoyClock = {
    processor: await processorTime(processed.timingLog, 'bench', sizes.calls),
    nullProcessor: await processorTime(nullProcessed.timingLog, '-', sizes.calls),
  };
  log(`Envoy tools/call throughput, c=64: ${sizes.windows} × ${sizes.windowMs} ms per path`);
  const { nullProcessor: _floorOnly, ...loaded } = targets; // the floor is a latency reference only
  const throughput = await measureCallThroughput(loaded, {
    windowMs: sizes.windowMs,
    windows: sizes.windows,
    warmupMs,
    upstreamPid,
  });
  const extProcStats = await envoyStats(processed.envoy, 'ext_proc');
  await viaPassThrough.close();
  await viaBroker.close();
  await viaNullProcessor.close();
  await passThrough.envoy.stop();
  await processed.envoy.stop();
  await nullProcessed.envoy.stop();

  log(`processor over gRPC: ${grpcCount} streams at c=1, then ${sizes.windows} × ${sizes.windowMs} ms at c=64`);
  const grpc = await measureProcessor(routerPort, viaProcessor.sessionId, gateway.pid, {
    count: grpcCount,
    windowMs: sizes.windowMs,
    windows: sizes.windows,
    warmupMs,
  });
  await viaProcessor.close();
  await gateway.stop();
  return { latency, envoyClock, throughput, grpc, extProcStats };
}

/** Envoy's non-zero counters whose names contain `filter`, from the admin /stats, as an object. */
async function envoyStats(envoy, filter) {
  const response = await fetch(`${envoy.adminUrl}/stats?filter=${encodeURIComponent(filter)}`, {
    signal: AbortSignal.timeout(2_000),
  });
  const stats = {};
  for (const line of (await response.text()).split('\n')) {
    const match = /^(\S+): (\d+)$/.exec(line);
    if (match !== null && match[2] !== '0') stats[match[1]] = Number(match[2]);
  }
  return stats;
}

/** The :authority a request_body answer sets (the upstream's hostname when the call was routed). */
function routedAuthority(answer) {
  const set = answer?.request_body?.response?.header_mutation?.set_headers ?? [];
  const authority = set.find((option) => option.header?.key === ':authority');
  return authority === undefined ? undefined : Buffer.from(authority.header.raw_value).toString();
}

/**
 * The processor's own cost: one bidi stream per request, as Envoy opens them, sending
 * request_headers, request_body (a tools/call in `sessionId`, whose backend session is warm)
 * and response_headers, each after the previous answer. `count` streams at c=1, then windows at
 * c=64 with the gateway's CPU read from /proc (the router runs in the gateway's process).
 */
async function measureProcessor(routerPort, sessionId, pid, { count, windowMs, windows, warmupMs }) {
  const { Client } = loadExtProc();
  const client = new Client(`127.0.0.1:${routerPort}`, credentials.createInsecure());
  const headers = httpHeaders({
    ':authority': PUBLIC_HOST,
    ':path': '/mcp',
    ':method': 'POST',
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-session-id': sessionId,
    'mcp-protocol-version': '2025-06-18',
  });
  const body = Buffer.from(
    JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: echoParams('e_echo') }),
  );
  const messages = [
    { request_headers: headers },
    { request_body: { body, end_of_stream: true } },
    { response_headers: httpHeaders({ ':status': '200', 'content-type': 'application/json' }) },
  ];
  const send = () =>
    new Promise((resolve) => {
      const stream = client.Process();
      const answers = [];
      let next = 0;
      const write = () => {
        const message = messages[next++];
        if (message === undefined) stream.end();
        else stream.write(message);
      };
      stream.on('data', (answer) => {
        answers.push(answer);
        write();
      });
      stream.on('error', () => resolve(answers));
      stream.on('end', () => resolve(answers));
      write();
    });
  const isOk = (answers) => answers.length === 3 && routedAuthority(answers[1]) === UPSTREAM_HOST;
  try {
    await concurrent(send, isOk, { concurrency: 64, durationMs: warmupMs });
    const single = await sequential(send, isOk, { count, deadlineMs: performance.now() + 60_000 });
    let total = { count: 0, errors: single.errors, elapsedMs: 0, cpuMs: 0, latencies: [] };
    for (let i = 0; i < windows; i++) {
      const before = await readCpuMs(pid);
      const run = await concurrent(send, isOk, { concurrency: 64, durationMs: windowMs, maxCount: 500_000 });
      const cpuMs = (await readCpuMs(pid)) - before;
      total = {
        count: total.count + run.count,
        errors: total.errors + run.errors,
        elapsedMs: total.elapsedMs + run.elapsedMs,
        cpuMs: total.cpuMs + cpuMs,
        latencies: total.latencies.concat(run.latencies),
      };
    }
    const cpuUsPerRequest = (total.cpuMs * 1000) / total.count;
    const loaded = summarize(total.latencies);
    return {
      c1: { ...summarize(single.latencies), errors: single.errors },
      c64: {
        count: total.count,
        perSecond: (total.count * 1000) / total.elapsedMs,
        p50: loaded.p50,
        p99: loaded.p99,
        cpuUsPerRequest,
        perSecondPerCore: 1e6 / cpuUsPerRequest,
      },
      errors: total.errors,
    };
  } finally {
    client.close();
  }
}
