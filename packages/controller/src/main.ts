#!/usr/bin/env node
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { createNodeLogger } from '@mcp-gateway/core/node-logger';
import { DEFAULT_GATEWAY_STATUS_URL } from './kube/gateway-status.ts';
import { runController } from './kube/run-controller.ts';
import { parseGatewayEnv } from './model/gateway-env.ts';
import { DEFAULT_GATEWAY_IMAGE } from './names.ts';

const HELP = `mcp-gateway-controller: reconciles MCPGatewayExtension, MCPServerRegistration and
MCPVirtualServer into gateway config Secrets, gateway Deployments and EnvoyFilters.

Usage: mcp-gateway-controller [flags]

Flags:
  --kubeconfig PATH          kubeconfig file. Default: $KUBECONFIG, ~/.kube/config, or in-cluster.
  --gateway-image IMAGE      Image of the gateway Deployments. Default: $MCP_GATEWAY_IMAGE,
                             $RELATED_IMAGE_ROUTER_BROKER or ${DEFAULT_GATEWAY_IMAGE}
  --gateway-log-level LEVEL  --log-level of gateways whose extension sets none (debug|info|warn|error).
  --gateway-env NAME=VALUE   An environment variable of every gateway container, e.g.
                             OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4317 (repeatable).
  --gateway-discovery-tools-enabled BOOL
                             --discovery-tools-enabled of every gateway (true|false). Default true
  --gateway-discovery-tool-threshold N
                             --discovery-tool-threshold of every gateway. Default 0 (never)
  --gateway-confirmation-timeout SECONDS
                             confirmation.timeoutSeconds of the gateway configs whose
                             MCPGatewayExtension sets none (5-3600). Default: not written (120)
  --gateway-status-url URL   Where a gateway's GET /status is read for the registrations'
                             status.toolPins; {namespace} is replaced by the extension's namespace.
                             Default ${DEFAULT_GATEWAY_STATUS_URL}
  --gateway-status-interval DURATION
                             Pause between two reads of the gateways' status (500ms, 30s, 2m).
                             Default 30s
  --lease-namespace NS       Namespace of the leader-election Lease. Default: $POD_NAMESPACE, $NAMESPACE or default
  --no-leader-elect          Reconcile without leader election (a single replica only).
  --health-address H:P       /healthz and /readyz. Default 0.0.0.0:8081 ("" to disable)
  --log-level LEVEL          debug, info, warn or error. Default info
  -h, --help                 Show this help.
`;

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

function fail(message: string): never {
  process.stderr.write(`mcp-gateway-controller: ${message}\n`);
  process.exit(2);
}

/** `500ms`, `30s`, `2m`, `1h` in milliseconds; undefined when it is none of those. */
function parseDuration(value: string): number | undefined {
  const match = /^(\d{1,7})(ms|s|m|h)$/.exec(value);
  if (match === null) return undefined;
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

function parseLevel(value: string | undefined, flag: string): Level | undefined {
  if (value === undefined) return undefined;
  if (!(LEVELS as readonly string[]).includes(value))
    fail(`${flag} must be one of ${LEVELS.join(', ')} (got "${value}")`);
  return value as Level;
}

const { values } = (() => {
  try {
    return parseArgs({
      allowNegative: true,
      options: {
        kubeconfig: { type: 'string' },
        'gateway-image': { type: 'string' },
        'gateway-log-level': { type: 'string' },
        'gateway-env': { type: 'string', multiple: true },
        'gateway-discovery-tools-enabled': { type: 'string', default: 'true' },
        'gateway-discovery-tool-threshold': { type: 'string', default: '0' },
        'gateway-confirmation-timeout': { type: 'string' },
        'gateway-status-url': { type: 'string', default: DEFAULT_GATEWAY_STATUS_URL },
        'gateway-status-interval': { type: 'string', default: '30s' },
        'lease-namespace': { type: 'string' },
        'leader-elect': { type: 'boolean', default: true },
        'health-address': { type: 'string', default: '0.0.0.0:8081' },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return fail(`${error instanceof Error ? error.message : String(error)}; see --help`);
  }
})();

if (values.help === true) {
  process.stdout.write(HELP);
  process.exit(0);
}

const logger = createNodeLogger({
  level: parseLevel(values['log-level'], '--log-level') ?? 'info',
  service: 'mcp-gateway-controller',
});
const gatewayLogLevel = parseLevel(values['gateway-log-level'], '--gateway-log-level');
const gatewayEnv = parseGatewayEnv(values['gateway-env'] ?? []);
if (!gatewayEnv.ok) fail(gatewayEnv.message);
const discoveryEnabled = values['gateway-discovery-tools-enabled'];
if (discoveryEnabled !== 'true' && discoveryEnabled !== 'false') {
  fail(`--gateway-discovery-tools-enabled must be true or false (got "${discoveryEnabled}")`);
}
const discoveryThreshold = values['gateway-discovery-tool-threshold'];
if (!/^\d{1,9}$/.test(discoveryThreshold)) {
  fail(`--gateway-discovery-tool-threshold must be a whole number (got "${discoveryThreshold}")`);
}
const confirmationTimeout = values['gateway-confirmation-timeout'];
if (
  confirmationTimeout !== undefined &&
  !(/^\d{1,4}$/.test(confirmationTimeout) && Number(confirmationTimeout) >= 5 && Number(confirmationTimeout) <= 3600)
) {
  fail(
    `--gateway-confirmation-timeout must be a whole number of seconds from 5 to 3600 (got "${confirmationTimeout}")`,
  );
}
const statusUrl = values['gateway-status-url'];
if (!URL.canParse(statusUrl.replaceAll('{namespace}', 'ns')) || !/^https?:/.test(statusUrl)) {
  fail(
    `--gateway-status-url must be an http or https URL, {namespace} standing for the namespace (got "${statusUrl}")`,
  );
}
const statusInterval = parseDuration(values['gateway-status-interval']);
if (statusInterval === undefined || statusInterval < 100 || statusInterval > 3_600_000) {
  fail(
    `--gateway-status-interval must be a duration from 100ms to 1h, such as 30s (got "${values['gateway-status-interval']}")`,
  );
}
const kubeConfig = new KubeConfig();
try {
  if (values.kubeconfig !== undefined) kubeConfig.loadFromFile(values.kubeconfig);
  else kubeConfig.loadFromDefault();
} catch (error) {
  fail(`cannot load the kubeconfig: ${error instanceof Error ? error.message : String(error)}`);
}
if (kubeConfig.getCurrentCluster() === null) fail('no cluster: pass --kubeconfig, set KUBECONFIG or run in a cluster');

const env = process.env;
const image =
  values['gateway-image'] ?? env.MCP_GATEWAY_IMAGE ?? env.RELATED_IMAGE_ROUTER_BROKER ?? DEFAULT_GATEWAY_IMAGE;
let ready = false;
const replica = runController({
  kubeConfig,
  logger,
  resources: {
    image,
    ...(gatewayLogLevel !== undefined ? { defaultLogLevel: gatewayLogLevel } : {}),
    ...(gatewayEnv.env.length > 0 ? { extraEnv: gatewayEnv.env } : {}),
    toolDiscovery: { enabled: discoveryEnabled === 'true', threshold: Number(discoveryThreshold) },
  },
  ...(confirmationTimeout !== undefined ? { config: { confirmationTimeoutSeconds: Number(confirmationTimeout) } } : {}),
  gatewayStatus: { urlTemplate: statusUrl, intervalMs: statusInterval },
  leaderElection: values['leader-elect'],
  leaseNamespace: values['lease-namespace'] ?? env.POD_NAMESPACE ?? env.NAMESPACE ?? 'default',
  identity: `${hostname()}-${randomBytes(4).toString('hex')}`,
  onLostLeadership: () => {
    logger.error('leadership lost: exiting so that this replica restarts as a follower');
    process.exit(1);
  },
});
void replica.leading.then(() => {
  ready = true;
});

const health = values['health-address'];
const server =
  health === undefined || health === ''
    ? undefined
    : createServer((req, res) => {
        // A standby replica is healthy and ready: it is waiting for the lease, as it should.
        const ok = req.url === '/healthz' || (req.url === '/readyz' && (ready || !replica.isLeader));
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n');
      });
if (server !== undefined && health !== undefined) {
  const at = health.lastIndexOf(':');
  server.listen(Number(health.slice(at + 1)), health.slice(0, at) || '0.0.0.0');
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info('shutting down', { signal });
  const force = setTimeout(() => process.exit(1), 20_000);
  force.unref();
  await replica.stop();
  server?.close();
  process.exit(0);
}
// SIGUSR2 logs the process's memory use (diagnostics without a debugger).
process.on('SIGUSR2', () => logger.warn('memory usage', { ...process.memoryUsage() }));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
