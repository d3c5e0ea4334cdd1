/**
 * The 2026-07-28 upstream fixture for the conformance suite (@modelcontextprotocol/conformance
 * 0.2.0, `--requirements 2026-07-28`): the SDK 2.x `createMcpHandler` on node:http, serving
 * modern requests per request (server/discover, Mcp-Method/Mcp-Name checks, MRTR,
 * subscriptions/listen) and legacy ones statelessly, so a gateway can reach it in either era.
 *
 * Run it by hand: `PORT=3001 node test/conformance/fixture-modern-server.ts`, then
 * `node node_modules/conformance-next/dist/index.js server --url http://127.0.0.1:3001/mcp --requirements 2026-07-28`.
 */
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { createServer } from 'node:http';
import { createMcpHandler, createRequestStateCodec, type McpHttpHandler } from '@modelcontextprotocol/server';
import { DEFAULT_ALLOWED_HOSTNAMES, isAllowedHostAndOrigin } from './fixture/host-guard.ts';
import { createModernFixtureServer } from './fixture-modern/create-modern-fixture-server.ts';
import type { FixtureRequestState } from './fixture-modern/input-required-tools.ts';

/** Path of the MCP endpoint. */
export const MODERN_FIXTURE_MCP_PATH = '/mcp';
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Options of {@link startModernConformanceFixture}. */
export interface ModernConformanceFixtureOptions {
  /** Port to listen on; default 0 (an ephemeral port). */
  port?: number;
  /** Address to bind; default `127.0.0.1`. */
  host?: string;
  /** Host names accepted in `Host`/`Origin`; default localhost, 127.0.0.1 and [::1]. */
  allowedHostnames?: readonly string[];
  /**
   * Told of each request the SDK rejects (header/body mismatch, bad envelope, …) or fails.
   * Default: nothing, since the suite sends malformed requests on purpose.
   */
  onError?: (error: Error) => void;
}

/** A running modern fixture. */
export interface ModernConformanceFixture {
  /** The MCP endpoint, e.g. `http://127.0.0.1:41234/mcp`. */
  readonly url: string;
  /** Ends open subscription streams and closes the listener. */
  stop(): Promise<void>;
}

/**
 * Starts the modern fixture. A request whose `Host` or `Origin` is not an allowed host
 * name is refused with 403 before any MCP handling (the `dns-rebinding-protection`
 * scenario); anything but `/mcp` is 404.
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/transports
 */
export async function startModernConformanceFixture(
  options: ModernConformanceFixtureOptions = {},
): Promise<ModernConformanceFixture> {
  const host = options.host ?? '127.0.0.1';
  const allowedHostnames = options.allowedHostnames ?? DEFAULT_ALLOWED_HOSTNAMES;
  const requestStateCodec = createRequestStateCodec<FixtureRequestState>({
    key: crypto.getRandomValues(new Uint8Array(32)),
  });
  const handler: McpHttpHandler = createMcpHandler(
    () => createModernFixtureServer({ requestStateCodec, notifier: () => handler.notify }),
    {
      maxRequestBodySize: MAX_BODY_BYTES,
      onerror: (error) => options.onError?.(error),
    },
  );

  const listener = getRequestListener(async (request) => {
    if (!isAllowedHostAndOrigin(request.headers.get('host') ?? undefined, originOf(request), allowedHostnames)) {
      return Response.json(
        { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Host or Origin not allowed' } },
        { status: 403 },
      );
    }
    if (new URL(request.url).pathname !== MODERN_FIXTURE_MCP_PATH) return new Response('Not found', { status: 404 });
    return handler.fetch(request);
  });
  const httpServer = createServer((req, res) => {
    listener(req, res).catch((error: unknown) => {
      console.error('conformance modern fixture: request failed', error);
      res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;

  return {
    url: `http://${urlHost(host)}:${port}${MODERN_FIXTURE_MCP_PATH}`,
    async stop() {
      await handler.close();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}

function originOf(request: Request): string | undefined {
  return request.headers.get('origin') ?? undefined;
}

/** The host to put in the fixture's URL: a wildcard bind is reached on loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

if (import.meta.main) {
  const fixture = await startModernConformanceFixture({
    port: Number(process.env.PORT ?? 3001),
    host: process.env.HOST ?? '127.0.0.1',
    onError: (error) => console.error(`conformance modern fixture: ${error.message}`),
  });
  console.log(`conformance modern fixture listening on ${fixture.url}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void fixture.stop().then(() => process.exit(0));
    });
  }
}
