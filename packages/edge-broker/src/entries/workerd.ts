import {
  DEFAULT_SERVER_INFO,
  createGateway,
  parseConfig,
  type AccessEnv,
  type DiscoverySettings,
  type AuditRecord,
  type CredentialSettings,
  type Gateway,
  type LogFields,
  type Logger,
} from '@mcp-gateway/core';
import type { Hono } from 'hono';
import { createBrokerApp } from '../app.ts';
import { chooseSessionState, type SessionState, type SessionStateEnv } from '../edge-session-state.ts';
import { createRequestSafeNotificationBus } from '../request-safe-bus.ts';
import { closeAfterResponse } from '../request-scoped-store.ts';
import { startWorkerTracing } from '../worker-tracing.ts';
import type { OtelTracing } from '@mcp-gateway/core/otel';

// The Durable Object class the GATEWAY_SESSIONS binding names (wrangler.toml).
export { GatewaySessionObject } from '../session-object.ts';

/** Bindings the worker reads (wrangler.toml vars, secrets and the Durable Object binding). */
export interface WorkerEnv extends SessionStateEnv {
  readonly OAUTH_RESOURCE_NAME?: string;
  readonly OAUTH_RESOURCE?: string;
  readonly OAUTH_AUTHORIZATION_SERVERS?: string;
  readonly OAUTH_BEARER_METHODS_SUPPORTED?: string;
  readonly OAUTH_SCOPES_SUPPORTED?: string;
  /** Trusted token issuers (comma-separated) when the config has no `auth.oauth`. */
  readonly OAUTH_ISSUERS?: string;
  readonly OAUTH_REQUIRED_SCOPES?: string;
  /** PEM public key of `x-mcp-authorized`. */
  readonly TRUSTED_HEADER_PUBLIC_KEY?: string;
  /** `true`: `x-mcp-authorized` is required (the anchor's --enforce-capability-filtering). */
  readonly ENFORCE_CAPABILITY_FILTERING?: string;
  /** `false`: no discovery meta-tools (the anchor's --discovery-tools-enabled; default true). */
  readonly DISCOVERY_TOOLS_ENABLED?: string;
  /** Above this many tools an unscoped caller lists only the meta-tools (--discovery-tool-threshold; default 0). */
  readonly DISCOVERY_TOOL_THRESHOLD?: string;
  /** Seconds after which a request lists an upstream again (--mcp-check-interval; default 30). */
  readonly MCP_CHECK_INTERVAL?: string;
  /** `true`: tokenURLElicitation servers take each user's pasted token (the anchor's --enable-url-elicitation). */
  readonly ENABLE_URL_ELICITATION?: string;
  /** Keys users' upstream credentials are sealed with, newest first (a secret); unset: derived from GATEWAY_SIGNING_KEY. */
  readonly CREDENTIAL_ENCRYPTION_KEYS?: string;
  /** The gateway's public host, in the /tokens links of URL elicitations (--mcp-gateway-public-host); unset: the request's Host. */
  readonly MCP_GATEWAY_PUBLIC_HOST?: string;
  /** The gateway config as YAML text, same schema as the config file. */
  MCP_GATEWAY_CONFIG?: string;
  /** HS256 key for session ids, at least 32 bytes (a secret). */
  GATEWAY_SIGNING_KEY?: string;
  /** OTLP/HTTP collector: spans are exported when this or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is bound. */
  readonly OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  readonly OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  /** http/protobuf (default) or http/json. */
  readonly OTEL_EXPORTER_OTLP_PROTOCOL?: string;
  readonly OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?: string;
  /** Headers for the collector, `key=value,...` (a secret when it holds a token). */
  readonly OTEL_EXPORTER_OTLP_HEADERS?: string;
  readonly OTEL_EXPORTER_OTLP_TRACES_HEADERS?: string;
  readonly OTEL_SERVICE_NAME?: string;
  readonly OTEL_RESOURCE_ATTRIBUTES?: string;
  readonly OTEL_TRACES_SAMPLER?: string;
  readonly OTEL_TRACES_SAMPLER_ARG?: string;
  readonly OTEL_SDK_DISABLED?: string;
  readonly OTEL_TRACES_EXPORTER?: string;
}

interface WorkerExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException?(): void;
}

interface Runtime {
  readonly fingerprint: string;
  readonly gateway: Gateway;
  readonly app: Hono;
  readonly state: SessionState;
  /** Spans being exported, when an OTLP endpoint is bound. */
  readonly tracing: OtelTracing | undefined;
}

let runtime: Runtime | undefined;

/**
 * The worker entry: the same broker app as on Node, built from bindings on the first request
 * of an isolate (and rebuilt when the config, key or store binding changes). Upstreams are
 * discovered within requests (workerd binds I/O to the request that started it), and refreshed
 * when stale. Session state lives where `chooseSessionState` says; with Redis, each request
 * gets its own connection, closed once its response has been sent.
 */
export default {
  async fetch(request: Request, env: WorkerEnv, ctx: WorkerExecutionContext): Promise<Response> {
    const current = getRuntime(env);
    if (current instanceof Response) return current;
    const response = await serve(current, request, env, ctx);
    const { tracing } = current;
    // The request's spans end with its answer's body: exported once it has been sent.
    if (tracing === undefined) return response;
    return closeAfterResponse(
      response,
      () => tracing.flush().catch(() => {}),
      (promise) => ctx.waitUntil(promise),
    );
  },
};

async function serve(current: Runtime, request: Request, env: WorkerEnv, ctx: WorkerExecutionContext) {
  const executionCtx = ctx as Parameters<Hono['fetch']>[2];
  const { state } = current;
  if (state.kind !== 'redis') return current.app.fetch(request, env, executionCtx);
  const scope = state.scope();
  let response: Response;
  try {
    response = await state.run(scope, () => current.app.fetch(request, env, executionCtx));
  } catch (error) {
    await scope.close();
    throw error;
  }
  return closeAfterResponse(
    response,
    () => scope.close(),
    (promise) => ctx.waitUntil(promise),
  );
}

function getRuntime(env: WorkerEnv): Runtime | Response {
  const fingerprint = [
    env.MCP_GATEWAY_CONFIG ?? '',
    env.GATEWAY_SIGNING_KEY ?? '',
    env.CACHE_CONNECTION_STRING ?? '',
    env.GATEWAY_SESSIONS === undefined ? '' : 'do',
    ...ACCESS_BINDINGS.map((name) => env[name] ?? ''),
    ...OTEL_BINDINGS.map((name) => env[name] ?? ''),
    env.DISCOVERY_TOOLS_ENABLED ?? '',
    env.DISCOVERY_TOOL_THRESHOLD ?? '',
    env.MCP_CHECK_INTERVAL ?? '',
    env.ENABLE_URL_ELICITATION ?? '',
    env.CREDENTIAL_ENCRYPTION_KEYS ?? '',
    env.MCP_GATEWAY_PUBLIC_HOST ?? '',
  ].join('\u0000');
  if (runtime?.fingerprint === fingerprint) return runtime;
  const logger = consoleLogger({});
  const parsed = parseConfig(env.MCP_GATEWAY_CONFIG ?? '', 'MCP_GATEWAY_CONFIG');
  if (!parsed.ok) return misconfigured(logger, parsed.error.message);
  if (env.GATEWAY_SIGNING_KEY === undefined || env.GATEWAY_SIGNING_KEY === '') {
    return misconfigured(logger, 'GATEWAY_SIGNING_KEY secret is not set (wrangler secret put GATEWAY_SIGNING_KEY)');
  }
  let gateway: Gateway;
  let state: SessionState;
  let tracing: OtelTracing | undefined;
  try {
    tracing = startWorkerTracing(otelEnvOf(env), DEFAULT_SERVER_INFO.version, logger);
    state = chooseSessionState(env, logger);
    gateway = createGateway({
      config: parsed.config,
      signingKey: env.GATEWAY_SIGNING_KEY,
      logger,
      store: state.store,
      bus: createRequestSafeNotificationBus(),
      discovery: 'on-demand',
      ...checkIntervalOf(env),
      accessEnv: accessEnvOf(env),
      toolDiscovery: toolDiscoveryOf(env),
      credentials: credentialSettingsOf(env),
      hostName: 'worker',
      ...(tracing !== undefined && { tracer: tracing.tracer }),
      // Audit records go to the worker's log, one JSON line each (Workers Logs / Logpush collect them).
      auditSink: () => ({ write: (record: AuditRecord) => console.log(JSON.stringify(record)) }),
    });
  } catch (error) {
    return misconfigured(logger, (error as Error).message);
  }
  logger.info('worker ready', { sessionState: state.describe, servers: parsed.config.servers.length });
  const app = createBrokerApp({ gateway, logger });
  runtime = { fingerprint, gateway, app, state, tracing };
  return runtime;
}

/** ENABLE_URL_ELICITATION, CREDENTIAL_ENCRYPTION_KEYS and MCP_GATEWAY_PUBLIC_HOST; a flag that is neither true nor false is an error naming it. */
function credentialSettingsOf(env: WorkerEnv): CredentialSettings {
  const flag = (env.ENABLE_URL_ELICITATION ?? 'false').trim().toLowerCase();
  if (flag !== 'true' && flag !== 'false') {
    throw new Error(`ENABLE_URL_ELICITATION must be true or false, not "${env.ENABLE_URL_ELICITATION}"`);
  }
  return {
    urlElicitation: flag === 'true',
    ...(env.CREDENTIAL_ENCRYPTION_KEYS && { encryptionKeys: env.CREDENTIAL_ENCRYPTION_KEYS }),
    ...(env.MCP_GATEWAY_PUBLIC_HOST && { publicHost: env.MCP_GATEWAY_PUBLIC_HOST }),
  };
}

/** The bindings the access decisions read: a change rebuilds the gateway. */
const ACCESS_BINDINGS = [
  'OAUTH_RESOURCE_NAME',
  'OAUTH_RESOURCE',
  'OAUTH_AUTHORIZATION_SERVERS',
  'OAUTH_BEARER_METHODS_SUPPORTED',
  'OAUTH_SCOPES_SUPPORTED',
  'OAUTH_ISSUERS',
  'OAUTH_REQUIRED_SCOPES',
  'TRUSTED_HEADER_PUBLIC_KEY',
  'ENFORCE_CAPABILITY_FILTERING',
] as const;

/** The bindings tracing reads: a change rebuilds the gateway. */
const OTEL_BINDINGS = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_SDK_DISABLED',
  'OTEL_TRACES_EXPORTER',
] as const;

function otelEnvOf(env: WorkerEnv): Record<string, string | undefined> {
  return Object.fromEntries(OTEL_BINDINGS.map((name) => [name, env[name]]));
}

/** DISCOVERY_TOOLS_ENABLED and DISCOVERY_TOOL_THRESHOLD; a value that is neither is a configuration error naming it. */
function toolDiscoveryOf(env: WorkerEnv): DiscoverySettings {
  const enabled = (env.DISCOVERY_TOOLS_ENABLED ?? 'true').trim().toLowerCase();
  if (enabled !== 'true' && enabled !== 'false') {
    throw new Error(`DISCOVERY_TOOLS_ENABLED must be true or false, not "${env.DISCOVERY_TOOLS_ENABLED}"`);
  }
  const threshold = (env.DISCOVERY_TOOL_THRESHOLD ?? '0').trim();
  if (!/^\d{1,9}$/.test(threshold)) {
    throw new Error(
      `DISCOVERY_TOOL_THRESHOLD must be a whole number (0: never), not "${env.DISCOVERY_TOOL_THRESHOLD}"`,
    );
  }
  return { enabled: enabled === 'true', threshold: Number(threshold) };
}

/** MCP_CHECK_INTERVAL as the snapshot age that makes a request re-list; a value that is no whole number is a configuration error. */
function checkIntervalOf(env: WorkerEnv): { maxSnapshotAgeMs?: number } {
  if (env.MCP_CHECK_INTERVAL === undefined || env.MCP_CHECK_INTERVAL.trim() === '') return {};
  const seconds = env.MCP_CHECK_INTERVAL.trim();
  if (!/^[1-9]\d{0,5}$/.test(seconds)) {
    throw new Error(`MCP_CHECK_INTERVAL must be a whole number of seconds from 1, not "${env.MCP_CHECK_INTERVAL}"`);
  }
  return { maxSnapshotAgeMs: Number(seconds) * 1000 };
}

function accessEnvOf(env: WorkerEnv): AccessEnv {
  return {
    OAUTH_RESOURCE_NAME: env.OAUTH_RESOURCE_NAME,
    OAUTH_RESOURCE: env.OAUTH_RESOURCE,
    OAUTH_AUTHORIZATION_SERVERS: env.OAUTH_AUTHORIZATION_SERVERS,
    OAUTH_BEARER_METHODS_SUPPORTED: env.OAUTH_BEARER_METHODS_SUPPORTED,
    OAUTH_SCOPES_SUPPORTED: env.OAUTH_SCOPES_SUPPORTED,
    OAUTH_ISSUERS: env.OAUTH_ISSUERS,
    OAUTH_REQUIRED_SCOPES: env.OAUTH_REQUIRED_SCOPES,
    TRUSTED_HEADER_PUBLIC_KEY: env.TRUSTED_HEADER_PUBLIC_KEY,
    enforceCapabilityFiltering: env.ENFORCE_CAPABILITY_FILTERING === 'true',
  };
}

function misconfigured(logger: Logger, message: string): Response {
  logger.error('worker misconfigured', { reason: message });
  return new Response(`mcp-gateway worker is misconfigured: ${message}\n`, {
    status: 500,
    headers: { 'content-type': 'text/plain' },
  });
}

/** The keys every line has; a field of the same name is written as `fields.<name>` (as the Node logger does). */
const LINE_KEYS = new Set(['level', 'msg', 'time']);

function consoleLogger(fields: LogFields): Logger {
  const line = (level: string, msg: string, extra?: LogFields) => {
    const out: Record<string, unknown> = { level, msg, time: new Date().toISOString() };
    for (const [key, value] of Object.entries({ ...fields, ...extra })) {
      out[LINE_KEYS.has(key) ? `fields.${key}` : key] = value;
    }
    return JSON.stringify(out);
  };
  return {
    debug: () => {},
    info: (msg, extra) => console.log(line('info', msg, extra)),
    warn: (msg, extra) => console.warn(line('warn', msg, extra)),
    error: (msg, extra) => console.error(line('error', msg, extra)),
    child: (more) => consoleLogger({ ...fields, ...more }),
  };
}
