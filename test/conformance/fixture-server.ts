/**
 * The upstream fixture for the MCP conformance suite (@modelcontextprotocol/conformance
 * 0.1.16): a stateful Streamable HTTP server on node:http that implements every tool,
 * resource, prompt and behaviour the server scenarios exercise, so that the suite can be
 * run against it directly and, unchanged, through the gateway.
 *
 * Run it by hand: `PORT=3000 node test/conformance/fixture-server.ts` (Node 24 strips the
 * types itself), then `npx conformance server --url http://127.0.0.1:3000/mcp`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { createFixtureServer } from './fixture/create-fixture-server.ts';
import { createInMemoryEventStore } from './fixture/event-store.ts';
import { DEFAULT_ALLOWED_HOSTNAMES, isAllowedHostAndOrigin } from './fixture/host-guard.ts';

/** Path of the MCP endpoint. */
export const FIXTURE_MCP_PATH = '/mcp';
/** SSE `retry` the fixture suggests in its priming events, in milliseconds. */
export const DEFAULT_FIXTURE_RETRY_MS = 1000;
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Options of {@link startConformanceFixture}. */
export interface ConformanceFixtureOptions {
  /** Port to listen on; default 0 (an ephemeral port). */
  port?: number;
  /** Address to bind; default `127.0.0.1`. */
  host?: string;
  /**
   * Host names accepted in `Host`/`Origin`; default localhost, 127.0.0.1 and [::1].
   * Widen it only when the fixture sits behind something that keeps a real host name.
   */
  allowedHostnames?: readonly string[];
}

/** A running fixture. */
export interface ConformanceFixture {
  /** The MCP endpoint, e.g. `http://127.0.0.1:41234/mcp`. */
  readonly url: string;
  /** Closes every session and the listener. */
  stop(): Promise<void>;
}

/**
 * Starts the fixture. Each `initialize` opens a session with its own MCP server,
 * transport and in-memory event store (resumable SSE streams, SEP-1699); requests are
 * routed by `Mcp-Session-Id`. Requests whose `Host` or `Origin` is not an allowed host
 * name are refused with 403 before any MCP handling.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#streamable-http
 */
export async function startConformanceFixture(options: ConformanceFixtureOptions = {}): Promise<ConformanceFixture> {
  const host = options.host ?? '127.0.0.1';
  const sessions = createFixtureSessions(options);

  const httpServer = createServer((req, res) => {
    sessions.handle(req, res).catch((error: unknown) => {
      console.error('conformance fixture: request failed', error);
      if (!res.headersSent) sendJsonRpcError(res, 500, -32603, 'Internal error');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;

  return {
    url: `http://${urlHost(host)}:${port}${FIXTURE_MCP_PATH}`,
    async stop() {
      await sessions.close();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}

/** Options of {@link createFixtureSessions}. */
export interface FixtureSessionsOptions {
  /** Host names accepted in `Host`/`Origin`; default localhost, 127.0.0.1 and [::1]. */
  allowedHostnames?: readonly string[];
  /** Builds each session's MCP server; default {@link createFixtureServer}. */
  createServer?: () => Server;
}

/** The fixture's request handling without a listener, for a server that routes to it itself. */
export interface FixtureSessions {
  /**
   * Serves one HTTP request as the fixture does. `parsedBody` is the POST body when the caller
   * has already read it (the request stream is then consumed).
   */
  handle(req: IncomingMessage, res: ServerResponse, parsedBody?: unknown): Promise<void>;
  /** Closes every session. */
  close(): Promise<void>;
}

/**
 * Creates the fixture's sessions: each `initialize` opens one with its own MCP server,
 * transport and in-memory event store; later requests are routed by `Mcp-Session-Id`.
 */
export function createFixtureSessions(options: FixtureSessionsOptions = {}): FixtureSessions {
  const allowedHostnames = options.allowedHostnames ?? DEFAULT_ALLOWED_HOSTNAMES;
  const newServer = options.createServer ?? createFixtureServer;
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  return {
    handle: (req, res, parsedBody) => handleRequest(req, res, { sessions, allowedHostnames, newServer }, parsedBody),
    async close() {
      await Promise.allSettled([...sessions.values()].map((transport) => transport.close()));
      sessions.clear();
    },
  };
}

interface SessionTable {
  readonly sessions: Map<string, StreamableHTTPServerTransport>;
  readonly allowedHostnames: readonly string[];
  readonly newServer: () => Server;
}

async function handleRequest(
  req: IncomingMessage,
  res: ServerResponse,
  { sessions, allowedHostnames, newServer }: SessionTable,
  parsedBody?: unknown,
): Promise<void> {
  const { pathname } = new URL(req.url ?? '/', 'http://fixture.invalid');
  if (pathname !== FIXTURE_MCP_PATH) return sendJsonRpcError(res, 404, -32601, `Not found: ${pathname}`);
  if (!isAllowedHostAndOrigin(req.headers.host, req.headers.origin, allowedHostnames)) {
    return sendJsonRpcError(res, 403, -32000, 'Forbidden: Host or Origin header is not allowed');
  }

  const sessionId = req.headers['mcp-session-id'];
  if (typeof sessionId === 'string') {
    const transport = sessions.get(sessionId);
    if (transport === undefined) return sendJsonRpcError(res, 404, -32001, 'Session not found');
    return transport.handleRequest(req, res, parsedBody);
  }
  if (req.method !== 'POST') {
    return sendJsonRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
  }

  const body = parsedBody === undefined ? await readJsonBody(req) : { ok: true as const, value: parsedBody };
  if (!body.ok) return sendJsonRpcError(res, body.status, body.code, body.message);
  if (!isInitializeRequest(body.value)) {
    return sendJsonRpcError(res, 400, -32000, 'Bad Request: no session; the first request must be initialize');
  }
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    eventStore: createInMemoryEventStore(),
    retryInterval: DEFAULT_FIXTURE_RETRY_MS,
    onsessioninitialized: (id) => {
      sessions.set(id, transport);
    },
  });
  transport.onclose = () => {
    if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
  };
  await newServer().connect(transport);
  await transport.handleRequest(req, res, body.value);
  // A refused initialize never becomes a session: release its server at once.
  if (transport.sessionId === undefined || !sessions.has(transport.sessionId)) await transport.close();
}

type JsonBody =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly status: number; readonly code: number; readonly message: string };

async function readJsonBody(req: IncomingMessage): Promise<JsonBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return { ok: false, status: 413, code: -32000, message: 'Request body too large' };
    chunks.push(chunk as Buffer);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return { ok: false, status: 400, code: -32700, message: 'Parse error: body is not JSON' };
  }
}

function sendJsonRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

if (import.meta.main) {
  const fixture = await startConformanceFixture({
    port: Number(process.env.PORT ?? 3000),
    host: process.env.HOST ?? '127.0.0.1',
  });
  console.log(`conformance fixture listening on ${fixture.url}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void fixture.stop().then(() => process.exit(0));
    });
  }
}
