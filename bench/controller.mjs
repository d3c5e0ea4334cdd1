#!/usr/bin/env node
// Controller benchmark (issue 6): against a real kube-apiserver + etcd (test/harness/kube.ts),
// runs the built controller bundle as its own process and measures
//   1. the time from creating an MCPServerRegistration to its server appearing in the config
//      Secret, over 100 registrations created one after another (p50, p99; target p50 ≤ 1 s);
//   2. the controller's resident memory (VmRSS) with 1 000 registrations in the config, 20 s
//      after the last one was created (target ≤ 150 MB).
// It runs twice: with Node's default heap settings, and with the heap flags recommended for the
// controller's container (RECOMMENDED_NODE_FLAGS), because V8 sizes its heap from the machine's
// memory and on a large machine keeps a heap several times the live data.
// Usage: node scripts/build.mjs && node bench/controller.mjs [--json PATH]
// Needs Node 24 (it imports the TypeScript harness with Node's type stripping).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { startKubeApiServer } from '../test/harness/kube.ts';
import { createKubeApi } from '@mcp-gateway/controller';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const TIMED = 100;
const TOTAL = 1000;
const NAMESPACE = 'mcp-system';
const SETTLE_MS = Number(process.env.CONTROLLER_SETTLE_MS ?? 20_000);
/** Heap flags of the controller's image: old space 96 MB, young generation 3 × 2 MB. */
export const RECOMMENDED_NODE_FLAGS = ['--max-old-space-size=96', '--max-semi-space-size=2'];
const jsonOut = process.argv.includes('--json') ? process.argv[process.argv.indexOf('--json') + 1] : undefined;

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const round = (n) => Number(n.toFixed(1));
const rssMb = (pid) => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (line) => process.stderr.write(`bench: ${line}\n`);

const crdFiles = ['mcpgatewayextensions', 'mcpserverregistrations', 'mcpvirtualservers'].map((k) =>
  join(root, 'infra', 'crds', `mcp.kuadrant.io_${k}.yaml`),
);

const route = (i) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: `route-${i}`, namespace: NAMESPACE },
  spec: {
    parentRefs: [{ name: 'mcp-gateway' }],
    hostnames: [`s${i}.mcp.local`],
    rules: [{ backendRefs: [{ name: 'upstream', port: 9090 }] }],
  },
});
const registration = (i) => ({
  apiVersion: 'mcp.kuadrant.io/v1',
  kind: 'MCPServerRegistration',
  metadata: { name: `reg-${i}`, namespace: NAMESPACE },
  spec: { prefix: `s${i}_`, targetRef: { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: `route-${i}` } },
});
const baseObjects = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
  {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'mcp-gateway', namespace: NAMESPACE },
    spec: {
      gatewayClassName: 'istio',
      listeners: [{ name: 'http', port: 8080, protocol: 'HTTP', hostname: '*.mcp.local' }],
    },
  },
  {
    apiVersion: 'mcp.kuadrant.io/v1',
    kind: 'MCPGatewayExtension',
    metadata: { name: 'mcp-gateway', namespace: NAMESPACE },
    spec: {
      targetRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'mcp-gateway', sectionName: 'http' },
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'upstream', namespace: NAMESPACE },
    spec: { ports: [{ name: 'http', port: 9090 }] },
  },
];

/** Server names as they appear in the config Secret, from a watch re-opened whenever it ends. */
async function watchConfig(kubeConfig) {
  const seen = new Set();
  const waiters = new Map();
  let open = true;
  let request;
  const onSecret = (secret) => {
    const text = Buffer.from(secret?.data?.['config.yaml'] ?? '', 'base64').toString('utf8');
    for (const match of text.matchAll(/name: (mcp-system\/reg-\d+)/g)) {
      if (seen.has(match[1])) continue;
      seen.add(match[1]);
      waiters.get(match[1])?.(performance.now());
    }
  };
  const start = async () => {
    request = await new Watch(kubeConfig).watch(
      `/api/v1/namespaces/${NAMESPACE}/secrets`,
      { fieldSelector: 'metadata.name=mcp-gateway-config' },
      (_phase, secret) => onSecret(secret),
      () => {
        if (open) setTimeout(() => void start(), 100);
      },
    );
  };
  await start();
  return {
    get size() {
      return seen.size;
    },
    appeared: (name, timeoutMs = 60_000) =>
      new Promise((resolvePromise, reject) => {
        if (seen.has(name)) return resolvePromise(performance.now());
        const timer = setTimeout(() => reject(new Error(`${name} not in the config after ${timeoutMs} ms`)), timeoutMs);
        waiters.set(name, (t) => {
          clearTimeout(timer);
          resolvePromise(t);
        });
      }),
    close() {
      open = false;
      request?.abort();
    },
  };
}

/** One run on a fresh API server: latency of 100 registrations, then RSS with 1 000. */
async function run(nodeFlags) {
  const server = await startKubeApiServer({ crdFiles });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(server.kubeconfig);
  const api = createKubeApi(kubeConfig, 'bench');
  let controller;
  let config;
  try {
    for (const object of baseObjects) await api.apply(object);
    const bundle = join(root, 'packages/controller/dist/controller.js');
    const args = [
      '--kubeconfig',
      server.kubeconfigPath,
      '--no-leader-elect',
      '--health-address',
      '',
      '--log-level',
      'warn',
    ];
    controller = spawn(process.execPath, [...nodeFlags, bundle, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
    config = await watchConfig(kubeConfig);

    // Warm-up: the first registration also waits for the controller to start and sync.
    await api.apply(route(0));
    await api.apply(registration(0));
    await config.appeared('mcp-system/reg-0');

    const latencies = [];
    for (let i = 1; i <= TIMED; i++) {
      await api.apply(route(i));
      const started = performance.now();
      await api.apply(registration(i));
      latencies.push((await config.appeared(`mcp-system/reg-${i}`)) - started);
    }
    latencies.sort((a, b) => a - b);
    log(`${TIMED} timed registrations done`);

    const loadStart = performance.now();
    for (let i = TIMED + 1; i < TOTAL; i += 25) {
      const batch = [];
      for (let j = i; j < Math.min(i + 25, TOTAL); j++)
        batch.push(api.apply(route(j)).then(() => api.apply(registration(j))));
      await Promise.all(batch);
    }
    const created = performance.now();
    await config.appeared(`mcp-system/reg-${TOTAL - 1}`, 300_000);
    while (config.size < TOTAL) await sleep(100);
    const converged = performance.now();
    log(`${TOTAL} registrations in the config`);
    await sleep(SETTLE_MS);
    return {
      nodeFlags: nodeFlags.join(' ') || '(none)',
      p50: round(percentile(latencies, 50)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies[latencies.length - 1]),
      bulkCreateMs: Math.round(created - loadStart),
      bulkConvergeMs: Math.round(converged - created),
      rssMb: round(rssMb(controller.pid)),
    };
  } finally {
    config?.close();
    if (controller !== undefined && controller.exitCode === null) {
      const exited = new Promise((r) => controller.once('exit', r));
      controller.kill('SIGTERM');
      await exited;
    }
    await server.stop();
  }
}

const plain = await run([]);
const tuned = await run(RECOMMENDED_NODE_FLAGS);
const row = (name, value, target, pass) =>
  `${name.padEnd(62)} ${String(value).padStart(8)}  ${target.padStart(8)}  ${pass === undefined ? 'info' : pass ? 'PASS' : 'FAIL'}`;
console.log(
  [
    `${'metric'.padEnd(62)} ${'value'.padStart(8)}  ${'target'.padStart(8)}  result`,
    row(`registration → config Secret p50 (ms, ${TIMED} in a row)`, plain.p50, '≤ 1000', plain.p50 <= 1000),
    row('registration → config Secret p99 (ms)', plain.p99, '(info)'),
    row(`controller RSS with ${TOTAL} registrations (MB), heap flags *`, tuned.rssMb, '≤ 150', tuned.rssMb <= 150),
    row(`controller RSS with ${TOTAL} registrations (MB), Node defaults`, plain.rssMb, '(info)'),
    row('registration → config Secret p50 (ms), heap flags *', tuned.p50, '(info)'),
    row(`${TOTAL - TIMED - 1} created in bursts of 25: last in config after (ms)`, plain.bulkConvergeMs, '(info)'),
    `* ${RECOMMENDED_NODE_FLAGS.join(' ')} (Node flags for the controller's container)`,
  ].join('\n'),
);
if (jsonOut !== undefined)
  writeFileSync(jsonOut, JSON.stringify({ defaults: plain, recommended: tuned }, null, 2) + '\n');
