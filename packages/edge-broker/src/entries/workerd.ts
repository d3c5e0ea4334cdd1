import { createGateway, parseConfig, type Gateway, type LogFields, type Logger } from '@mcp-gateway/core';
import type { Hono } from 'hono';
import { createBrokerApp } from '../app.ts';
import type { ProtectedResourceEnv } from '../protected-resource.ts';

/** Bindings the worker reads (wrangler.toml vars and secrets). */
export interface WorkerEnv extends ProtectedResourceEnv {
  /** The gateway config as YAML text, same schema as the config file. */
  MCP_GATEWAY_CONFIG?: string;
  /** HS256 key for session ids, at least 32 bytes (a secret). */
  GATEWAY_SIGNING_KEY?: string;
}

interface WorkerExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException?(): void;
}

interface Runtime {
  readonly fingerprint: string;
  readonly gateway: Gateway;
  readonly app: Hono;
}

let runtime: Runtime | undefined;

/**
 * The worker entry: the same broker app as on Node, built from bindings on the first request
 * of an isolate (and rebuilt when the config or key binding changes). Upstreams are discovered
 * within requests (workerd binds I/O to the request that started it), and refreshed when stale.
 */
export default {
  async fetch(request: Request, env: WorkerEnv, ctx: WorkerExecutionContext): Promise<Response> {
    const current = getRuntime(env);
    if (current instanceof Response) return current;
    return current.app.fetch(request, env, ctx as Parameters<Hono['fetch']>[2]);
  },
};

function getRuntime(env: WorkerEnv): Runtime | Response {
  const fingerprint = `${env.MCP_GATEWAY_CONFIG ?? ''}\u0000${env.GATEWAY_SIGNING_KEY ?? ''}`;
  if (runtime?.fingerprint === fingerprint) return runtime;
  const logger = consoleLogger({});
  const parsed = parseConfig(env.MCP_GATEWAY_CONFIG ?? '', 'MCP_GATEWAY_CONFIG');
  if (!parsed.ok) return misconfigured(logger, parsed.error.message);
  if (env.GATEWAY_SIGNING_KEY === undefined || env.GATEWAY_SIGNING_KEY === '') {
    return misconfigured(logger, 'GATEWAY_SIGNING_KEY secret is not set (wrangler secret put GATEWAY_SIGNING_KEY)');
  }
  let gateway: Gateway;
  try {
    gateway = createGateway({
      config: parsed.config,
      signingKey: env.GATEWAY_SIGNING_KEY,
      logger,
      discovery: 'on-demand',
    });
  } catch (error) {
    return misconfigured(logger, (error as Error).message);
  }
  const app = createBrokerApp({ gateway, logger, oauth: () => env });
  runtime = { fingerprint, gateway, app };
  return runtime;
}

function misconfigured(logger: Logger, message: string): Response {
  logger.error('worker misconfigured', { reason: message });
  return new Response(`mcp-gateway worker is misconfigured: ${message}\n`, {
    status: 500,
    headers: { 'content-type': 'text/plain' },
  });
}

function consoleLogger(fields: LogFields): Logger {
  const line = (level: string, msg: string, extra?: LogFields) =>
    JSON.stringify({ level, msg, time: new Date().toISOString(), ...fields, ...extra });
  return {
    debug: () => {},
    info: (msg, extra) => console.log(line('info', msg, extra)),
    warn: (msg, extra) => console.warn(line('warn', msg, extra)),
    error: (msg, extra) => console.error(line('error', msg, extra)),
    child: (more) => consoleLogger({ ...fields, ...more }),
  };
}
