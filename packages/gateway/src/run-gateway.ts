import { randomBytes } from 'node:crypto';
import {
  accessConfigIssues,
  EMPTY_CONFIG,
  LOOPBACK_HOSTS,
  assertSigningKey,
  createGateway,
  isGatewayError,
  type Gateway,
  type GatewayConfig,
  type Logger,
} from '@mcp-gateway/core';
import { createBrokerApp } from '@mcp-gateway/edge-broker';
import { startNodeBroker, type NodeBroker } from '@mcp-gateway/edge-broker/node';
import type { ExtProcServer } from '@mcp-gateway/node-extproc';
import { createAuditWriters } from './audit-writer.ts';
import { startMetricsListener, type MetricsListener } from './metrics-listener.ts';
import { startOtlpTracing } from './otlp-tracing.ts';
import { createPrometheusMetrics } from './prometheus-metrics.ts';
import type { CliOptions } from './cli-options.ts';
import { watchConfigFile, type ConfigWatcher } from './config-watcher.ts';
import { createNodeHmacSha256 } from './node-hmac.ts';
import { connectSharedState, type SharedState } from './shared-state.ts';
import { startRouter } from './start-router.ts';
import { createUpstreamFetch } from './upstream-fetch.ts';
import { GATEWAY_VERSION } from './version.ts';

/** A running standalone gateway. */
export interface RunningGateway {
  readonly gateway: Gateway;
  /** The broker's HTTP listener; none with `--router-only`. */
  readonly broker: NodeBroker | undefined;
  /** The Envoy ext_proc router, when `--mcp-router-address` was given. */
  readonly router: ExtProcServer | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the standalone gateway: validates the key, loads and watches the config, connects the
 * upstreams and serves the broker, the router, or both (`--router-only` runs the router alone,
 * on its own catalog and the broker's Redis session store). Rejects, before listening, on wrong configuration with a
 * message naming the option and the fix.
 */
export async function runGateway(options: CliOptions, logger: Logger): Promise<RunningGateway> {
  checkRouterOptions(options);
  const signingKey = resolveSigningKey(options, logger);
  let gateway: Gateway | undefined = undefined;
  let watcher: ConfigWatcher | undefined;
  let config: GatewayConfig = EMPTY_CONFIG;
  const upstreamFetch = createUpstreamFetch();
  const checkAccess = (next: GatewayConfig) => accessConfigIssues(next, options.accessEnv);
  if (options.configPath !== undefined) {
    watcher = await watchConfigFile(options.configPath, {
      logger,
      check: checkAccess,
      onChange: (next) => {
        upstreamFetch.setGatewayCA(next.gatewayCACertPEM);
        gateway?.applyConfig(next);
      },
    });
    config = watcher.current();
    upstreamFetch.setGatewayCA(config.gatewayCACertPEM);
  } else {
    logger.warn('no --mcp-gateway-config given: starting with no upstream servers');
    const issues = checkAccess(config);
    if (issues.length > 0) throw new Error(issues.join('\n'));
  }
  // Before anything listens: a wrong OTEL_* value is an error at start, naming the variable.
  const tracing = startOtlpTracing(options.telemetryEnv, GATEWAY_VERSION, logger);
  const audit = createAuditWriters(logger);
  const metrics = createPrometheusMetrics({ version: GATEWAY_VERSION, role: processRole(options) });
  const metricsOn = !options.metricsDisabled;
  let shared: SharedState | undefined;
  try {
    if (options.cacheConnectionString !== undefined) {
      shared = await connectSharedState(options.cacheConnectionString, logger, metrics);
    }
  } catch (error) {
    watcher?.close();
    await upstreamFetch.close();
    throw error;
  }
  gateway = createGateway({
    config,
    signingKey,
    hmac: createNodeHmacSha256,
    sessionTtlSeconds: options.sessionLengthMinutes * 60,
    logger,
    originPolicy: {
      allowedOrigins: options.allowedOrigins,
      allowedHosts: allowedHosts(options),
    },
    maxBodyBytes: options.maxRequestBodyBytes,
    callTimeoutMs: options.upstreamTimeoutSeconds * 1000,
    healthIntervalMs: options.checkIntervalSeconds * 1000,
    fetchFor: upstreamFetch.fetchFor,
    accessEnv: options.accessEnv,
    toolDiscovery: options.toolDiscovery,
    credentials: {
      urlElicitation: options.urlElicitation,
      ...(options.credentialKeys !== undefined && { encryptionKeys: options.credentialKeys }),
      ...(options.publicHost !== undefined && { publicHost: options.publicHost }),
    },
    auditSink: (section) => audit.sinkFor(section),
    ...(metricsOn && { metrics }),
    tracer: tracing.tracer,
    ...(shared === undefined ? {} : { store: shared.store, bus: shared.bus }),
  });
  const started = gateway;
  if (metricsOn) metrics.observe(started);
  let broker: NodeBroker | undefined;
  let router: ExtProcServer | undefined;
  let metricsListener: MetricsListener | undefined;
  try {
    if (options.metricsAddress !== undefined && metricsOn) {
      metricsListener = await startMetricsListener(options.metricsAddress, metrics);
    }
    if (!options.routerOnly) {
      const app = createBrokerApp({ gateway: started, logger, ...(metricsOn && { metrics: () => metrics.expose() }) });
      broker = await startNodeBroker(app, {
        host: options.brokerHost,
        port: options.brokerPort,
        requestTimeoutMs: options.requestBodyTimeoutSeconds * 1000,
        maxConnections: options.maxConnections,
      });
    }
    if (options.routerAddress !== undefined && options.publicHost !== undefined) {
      router = await startRouter(started, {
        address: options.routerAddress,
        publicHost: options.publicHost,
        maxBodyBytes: options.maxRequestBodyBytes,
        signingKey,
        hmac: createNodeHmacSha256,
        privateHost: options.privateHost,
        // An https:// private host is one of the gateway's own: trusted with gatewayCACertPEM.
        privateHostFetch: upstreamFetch.gatewayFetch,
        logger,
      });
    }
  } catch (error) {
    watcher?.close();
    await metricsListener?.close();
    await broker?.close();
    await started.stop();
    await upstreamFetch.close();
    await shared?.close();
    await audit.close();
    await tracing.shutdown();
    throw error;
  }
  if (broker !== undefined) {
    logger.info('mcp gateway listening', {
      url: `http://${displayHost(options.brokerHost)}:${broker.port}/mcp`,
      servers: config.servers.length,
    });
  }
  if (router !== undefined) {
    logger.info('mcp router (Envoy ext_proc) listening', {
      address: options.routerAddress,
      port: router.port,
      ...(options.routerOnly && { routerOnly: true, servers: config.servers.length }),
    });
  }
  const listening = broker;
  return {
    gateway: started,
    broker: listening,
    router,
    async stop() {
      watcher?.close();
      await router?.stop();
      await listening?.close();
      await metricsListener?.close();
      await started.stop();
      await upstreamFetch.close();
      await shared?.close();
      await audit.close();
      await tracing.shutdown();
    },
  };
}

/**
 * Rejects router settings that cannot work, naming the flag and the fix. A router-only process
 * must verify the broker's session tokens (the same GATEWAY_SIGNING_KEY) and see its sessions'
 * backend sessions and terminations (the same Redis), or it would route sessions the broker
 * closed and open backend sessions twice.
 */
function checkRouterOptions(options: CliOptions): void {
  if (options.routerOnly) {
    const missing = [
      options.routerAddress === undefined && '--mcp-router-address HOST:PORT (where Envoy reaches the router)',
      options.publicHost === undefined && "--mcp-gateway-public-host HOST (the broker's public host)",
      options.signingKey === undefined && "GATEWAY_SIGNING_KEY (the broker's key, to verify its sessions)",
      options.cacheConnectionString === undefined &&
        "CACHE_CONNECTION_STRING (the broker's Redis, to share its session store)",
    ].filter((item): item is string => typeof item === 'string');
    if (missing.length > 0) throw new Error(`--router-only needs ${missing.join(', ')}`);
  }
  if (options.routerAddress !== undefined && options.publicHost === undefined) {
    throw new Error(
      '--mcp-router-address needs --mcp-gateway-public-host: the router sends every request that is not routed to an upstream to the broker under that host name; add --mcp-gateway-public-host HOST',
    );
  }
}

function resolveSigningKey(options: CliOptions, logger: Logger): string | Uint8Array {
  if (options.signingKey === undefined) {
    logger.warn(
      'GATEWAY_SIGNING_KEY is not set: generated a random signing key; sessions will not survive a restart and replicas will not share them',
    );
    return new Uint8Array(randomBytes(32));
  }
  try {
    assertSigningKey(new TextEncoder().encode(options.signingKey));
  } catch (error) {
    throw isGatewayError(error) ? new Error(error.message) : error;
  }
  return options.signingKey;
}

/**
 * Host names the endpoint answers to. On a loopback listener only loopback names (plus the
 * configured public and private hosts) are accepted, which defeats DNS rebinding; on other
 * listeners any Host is accepted unless a public host is configured.
 */
function allowedHosts(options: CliOptions): string[] {
  const configured = [options.publicHost, options.privateHost]
    .filter((h): h is string => h !== undefined)
    .map((h) =>
      h
        .replace(/^https?:\/\//, '')
        .replace(/:\d+$/, '')
        .toLowerCase(),
    );
  if (LOOPBACK_HOSTS.includes(options.brokerHost) || options.brokerHost === 'localhost') {
    return [...LOOPBACK_HOSTS, ...configured];
  }
  return configured.length > 0 ? [...LOOPBACK_HOSTS, ...configured] : [];
}

function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

/** What this process runs, as `mcp_gateway_build_info` names it. */
function processRole(options: CliOptions): string {
  if (options.routerOnly) return 'router';
  return options.routerAddress !== undefined && options.publicHost !== undefined ? 'broker+router' : 'broker';
}
