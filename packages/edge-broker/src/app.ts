import type { Gateway, Logger } from '@mcp-gateway/core';
import { Hono } from 'hono';
import type { Context } from 'hono';

/** What the broker app is built from; hosts create these once. */
export interface BrokerAppDeps {
  gateway: Gateway;
  logger: Logger;
  /** Prometheus text exposition for /metrics; absent: 404. */
  metrics?: () => Promise<string>;
}

const PRM_CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS, HEAD',
  'access-control-allow-headers': 'Content-Type, Authorization, Accept, Origin, X-Requested-With',
  'access-control-max-age': '3600',
  'access-control-allow-credentials': 'true',
};

/**
 * The broker's HTTP surface as a Hono app: /mcp (POST, GET, DELETE), /status and
 * /status/{namespace}/{name}, /healthz, /readyz, /.well-known/oauth-protected-resource,
 * /metrics and the /tokens pages. The same app runs on Node (@hono/node-server) and in workerd.
 */
export function createBrokerApp(deps: BrokerAppDeps): Hono {
  const app = new Hono();
  const { gateway } = deps;

  app.get('/', (c) => c.text('MCP gateway. The MCP endpoint is /mcp; server status is at /status.\n'));
  app.get('/healthz', (c) => c.text('ok\n'));
  app.get('/readyz', (c) => (gateway.isReady() ? c.text('ready\n') : c.text('no upstream MCP server is ready\n', 503)));

  app.on(['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS'], '/mcp', (c) =>
    gateway.endpoint.handle(c.req.raw, waitUntilOf(c)),
  );

  app.all('/status', (c) => statusRoute(c, undefined));
  app.all('/status/:name{.+}', (c) => statusRoute(c, c.req.param('name')));

  app.on(['GET', 'OPTIONS'], '/.well-known/oauth-protected-resource', (c) => prm(c));
  app.on(['GET', 'OPTIONS'], '/.well-known/oauth-protected-resource/*', (c) => prm(c));

  // Every path under /tokens (the anchor's HTTPRoute PathPrefix) is the pages' own.
  const tokens = (c: Context) => gateway.tokenPages.handle(c.req.raw);
  app.all('/tokens', tokens);
  app.all('/tokens/*', tokens);

  app.get('/metrics', async (c) => {
    if (deps.metrics === undefined) return c.notFound();
    return c.body(await deps.metrics(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });

  app.onError((error, c) => {
    const reference = crypto.randomUUID();
    deps.logger.error('unhandled error in the broker', { reference, error: String(error) });
    return c.json({ error: `Internal error (reference ${reference})` }, 500);
  });

  /**
   * /status discloses the upstream inventory: it answers under the MCP endpoint's Host and Origin
   * rules (a DNS-rebinding page or another origin's script gets 403), and CORS admits only the
   * origins those rules allow, by name. /healthz and /readyz answer any Host, as probes need.
   */
  function statusRoute(c: Context, name: string | undefined): Response {
    const refused = gateway.checkOrigin(c.req.raw);
    if (refused !== undefined) return c.json({ error: refused.message }, 403);
    const origin = c.req.header('origin');
    const cors: Record<string, string> =
      origin === undefined
        ? {}
        : { 'access-control-allow-origin': origin, 'access-control-allow-methods': 'GET, OPTIONS', vary: 'Origin' };
    if (c.req.method === 'OPTIONS') return c.body(null, 204, cors);
    if (c.req.method !== 'GET') return c.json({ error: 'method not allowed' }, 405, cors);
    if (name === undefined) return c.json(gateway.status(), 200, cors);
    const server = gateway.serverStatus(decodeURIComponent(name));
    if (server === undefined) {
      return c.json(
        { error: `Server '${name}' not found. Use format 'namespace/route-name' or the server's config name` },
        404,
        cors,
      );
    }
    return c.json(server, 200, cors);
  }

  function prm(c: Context): Response {
    if (c.req.method === 'OPTIONS') return c.body(null, 204, PRM_CORS);
    // The current config's metadata: OAUTH_* values, with the token verification's issuers and audience.
    return c.json(gateway.access().metadata(), 200, PRM_CORS);
  }

  return app;
}

/**
 * The request's waitUntil, where the host gives Hono an execution context (workerd). Looked up
 * only when read: Hono's executionCtx throws where there is none (Node), and building that Error
 * on every request cost ~3 % of the gateway's CPU per call, while only DELETE and fanned-out
 * notifications ask for it.
 */
function waitUntilOf(c: Context): { waitUntil?: (promise: Promise<unknown>) => void } {
  return {
    get waitUntil() {
      try {
        const ctx = c.executionCtx;
        return (promise: Promise<unknown>) => ctx.waitUntil(promise);
      } catch {
        return undefined;
      }
    },
  } as { waitUntil?: (promise: Promise<unknown>) => void };
}
