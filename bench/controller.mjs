#!/usr/bin/env node
// Controller benchmark (issue 6): against a real kube-apiserver + etcd (test/harness/kube.ts),
// runs the built controller bundle as its own process and measures
//   1. the time from creating an MCPServerRegistration to its server appearing in the config
//      Secret, over 100 registrations created one after another (p50, p99; target p50 ≤ 1 s);
//   2. the controller's resident memory (VmRSS) once 1 000 registrations are in the config
//      (target ≤ 150 MB).
// Usage: node scripts/build.mjs && node bench/controller.mjs [--json PATH]
// Needs Node 24 (it imports the TypeScript harness with Node's type stripping).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { startKubeApiServer } from '../test/harness/kube.ts';
import { createKubeApi } from '../packages/controller/src/index.ts';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const TIMED = 100;
const TOTAL = 1000;
const NAMESPACE = 'mcp-system';
const jsonOut = process.argv.includes('--json') ? process.argv[process.argv.indexOf('--json') + 1] : undefined;

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const rssMb = (pid) => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
};

const crdFiles = ['mcpgatewayextensions', 'mcpserverregistrations', 'mcpvirtualservers'].map((k) =>
  join(root, 'infra', 'crds', `mcp.kuadrant.io_${k}.yaml`),
);
const server = await startKubeApiServer({ crdFiles });
const kubeConfig = new KubeConfig();
kubeConfig.loadFromString(server.kubeconfig);
const api = createKubeApi(kubeConfig, 'bench');
let controller;
try {
  const objects = [
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
  for (const object of objects) await api.apply(object);

  controller = spawn(
    process.execPath,
    [
      join(root, 'packages/controller/dist/controller.js'),
      '--kubeconfig',
      server.kubeconfigPath,
      '--no-leader-elect',
      '--health-address',
      '',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );

  // Watch the config Secret and resolve waiters as server names appear in it.
  const seen = new Set();
  const waiters = new Map();
  const watch = await new Watch(kubeConfig).watch(
    `/api/v1/namespaces/${NAMESPACE}/secrets`,
    { fieldSelector: 'metadata.name=mcp-gateway-config' },
    (_phase, secret) => {
      const text = Buffer.from(secret?.data?.['config.yaml'] ?? '', 'base64').toString('utf8');
      for (const match of text.matchAll(/name: (mcp-system\/reg-\d+)/g)) {
        if (seen.has(match[1])) continue;
        seen.add(match[1]);
        waiters.get(match[1])?.(performance.now());
      }
    },
    () => undefined,
  );
  const appeared = (name) =>
    new Promise((resolve) => (seen.has(name) ? resolve(performance.now()) : waiters.set(name, resolve)));
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
    spec: {
      prefix: `s${i}_`,
      targetRef: { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: `route-${i}` },
    },
  });

  // Warm-up: the first registration also waits for the controller to start and sync.
  await api.apply(route(0));
  await api.apply(registration(0));
  await appeared('mcp-system/reg-0');

  const latencies = [];
  for (let i = 1; i <= TIMED; i++) {
    await api.apply(route(i));
    const started = performance.now();
    await api.apply(registration(i));
    latencies.push((await appeared(`mcp-system/reg-${i}`)) - started);
  }
  latencies.sort((a, b) => a - b);

  const BATCH = 25;
  for (let i = TIMED + 1; i < TOTAL; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(i + BATCH, TOTAL); j++)
      batch.push(api.apply(route(j)).then(() => api.apply(registration(j))));
    await Promise.all(batch);
  }
  const loaded = performance.now();
  await appeared(`mcp-system/reg-${TOTAL - 1}`);
  while (seen.size < TOTAL) await new Promise((r) => setTimeout(r, 100));
  const convergeMs = performance.now() - loaded;
  // Let the status writes of the last registrations finish before sampling memory.
  await new Promise((r) => setTimeout(r, 3000));
  const rss = rssMb(controller.pid);
  watch.abort();

  const result = {
    registrationToConfigMs: {
      p50: Number(percentile(latencies, 50).toFixed(1)),
      p99: Number(percentile(latencies, 99).toFixed(1)),
      max: Number(latencies[latencies.length - 1].toFixed(1)),
      samples: latencies.length,
      target: 'p50 ≤ 1000 ms',
      pass: percentile(latencies, 50) <= 1000,
    },
    controllerRssMb: { registrations: TOTAL, rss: Number(rss.toFixed(1)), target: '≤ 150 MB', pass: rss <= 150 },
    convergeAfterBulkCreateMs: Math.round(convergeMs),
  };
  console.log(
    [
      'metric                                                  value     target  result',
      `registration → config Secret p50 (ms, ${TIMED} regs)      ${String(result.registrationToConfigMs.p50).padStart(8)}   ≤ 1000    ${result.registrationToConfigMs.pass ? 'PASS' : 'FAIL'}`,
      `registration → config Secret p99 (ms)                  ${String(result.registrationToConfigMs.p99).padStart(8)}   (info)    info`,
      `controller RSS with ${TOTAL} registrations (MB)          ${String(result.controllerRssMb.rss).padStart(8)}    ≤ 150    ${result.controllerRssMb.pass ? 'PASS' : 'FAIL'}`,
      `last of ${TOTAL - TIMED - 1} bulk-created registrations in config (ms) ${String(result.convergeAfterBulkCreateMs).padStart(6)}   (info)    info`,
    ].join('\n'),
  );
  if (jsonOut !== undefined) writeFileSync(jsonOut, JSON.stringify(result, null, 2) + '\n');
} finally {
  controller?.kill('SIGTERM');
  await new Promise((r) => (controller && controller.exitCode === null ? controller.once('exit', r) : r()));
  await server.stop();
}
