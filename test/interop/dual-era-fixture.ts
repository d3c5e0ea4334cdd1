// An upstream of both protocol eras, built like the conformance suite's reference server: the
// legacy conformance fixture (SDK 1.x, sessions, every 2025-11-25 scenario) answers legacy
// requests, and the same tools, resources and prompts are served to 2026-07-28 requests by the
// SDK 2.x `createMcpHandler`. As in any server of both eras written in the 2025 style, a tool
// that asks the client something (sampling, elicitation) can do so only on the legacy path: the
// 2026-07-28 path has no channel for it, and resources/subscribe does not exist there.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { Server as ServerV1 } from '@modelcontextprotocol/sdk/server/index.js';
import {
  createMcpHandler,
  Server,
  type CallToolResult,
  type McpHttpHandler,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { CLIENT_REQUEST_TOOLS } from '../conformance/fixture/client-request-tools.ts';
import { CONTENT_TOOLS } from '../conformance/fixture/content-tools.ts';
import {
  completionCandidates,
  createFixtureServer,
  FIXTURE_SERVER_NAME,
  toCompletion,
} from '../conformance/fixture/create-fixture-server.ts';
import { DEFAULT_ALLOWED_HOSTNAMES, isAllowedHostAndOrigin } from '../conformance/fixture/host-guard.ts';
import { FIXTURE_PROMPTS, getFixturePrompt } from '../conformance/fixture/prompts.ts';
import {
  FIXTURE_RESOURCE_TEMPLATES,
  FIXTURE_RESOURCES,
  readFixtureResource,
} from '../conformance/fixture/resources.ts';
import type { FixtureTool, ToolContext } from '../conformance/fixture/tool-kit.ts';
import { createFixtureSessions } from '../conformance/fixture-server.ts';

const MODERN_VERSION = '2026-07-28';
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const TOOLS: ReadonlyMap<string, FixtureTool> = new Map(
  [...CONTENT_TOOLS, ...CLIENT_REQUEST_TOOLS].map((tool) => [tool.definition.name, tool]),
);

/** A running server of both eras on a loopback port. */
export interface DualEraFixture {
  /** `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  /**
   * Announces that the resource at `uri` changed: `notifications/resources/updated` to every
   * legacy session subscribed to it and to every 2026-07-28 listen stream that asked for it.
   */
  touchResource(uri: string): void;
  stop(): Promise<void>;
}

/** Starts the server on 127.0.0.1 and an ephemeral port. */
export async function startDualEraFixture(): Promise<DualEraFixture> {
  /** Each live legacy session's server and the URIs it subscribed to. */
  const legacyServers = new Map<ServerV1, Set<string>>();
  const legacy = createFixtureSessions({
    createServer: () => {
      const subscriptions = new Set<string>();
      const server = createFixtureServer({ subscriptions });
      legacyServers.set(server, subscriptions);
      server.onclose = () => legacyServers.delete(server);
      return server;
    },
  });
  const modern: McpHttpHandler = createMcpHandler(createModernServer, {
    legacy: 'reject',
    maxRequestBodySize: MAX_BODY_BYTES,
  });

  const httpServer = createServer((req, res) => {
    route(req, res, legacy.handle, modern).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/mcp`,
    touchResource(uri) {
      for (const [server, subscriptions] of legacyServers) {
        if (subscriptions.has(uri)) void server.sendResourceUpdated({ uri }).catch(() => undefined);
      }
      modern.notify.resourceUpdated(uri);
    },
    async stop() {
      await Promise.allSettled([legacy.close(), modern.close()]);
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}

type LegacyHandle = (req: IncomingMessage, res: ServerResponse, parsedBody?: unknown) => Promise<void>;

/**
 * Sends a request to the era it belongs to, by the rule the spec gives servers of both eras: the
 * body's `_meta` protocol version when it has one, else the `MCP-Protocol-Version` header.
 */
async function route(req: IncomingMessage, res: ServerResponse, legacy: LegacyHandle, modern: McpHttpHandler) {
  if (!isAllowedHostAndOrigin(req.headers.host, req.headers.origin, DEFAULT_ALLOWED_HOSTNAMES)) {
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Host or Origin not allowed' } }),
    );
    return;
  }
  const body = req.method === 'POST' ? await readBody(req) : undefined;
  const parsed = body === undefined ? undefined : parseJson(body);
  if (body !== undefined && parsed === undefined) {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }));
    return;
  }
  if (!isModern(req, parsed)) return legacy(req, res, parsed);

  const request = new Request(new URL(req.url ?? '/', `http://${req.headers.host}`), {
    method: req.method ?? 'GET',
    headers: Object.entries(req.headers).flatMap(([name, value]) =>
      value === undefined ? [] : [[name, Array.isArray(value) ? value.join(', ') : value] as [string, string]],
    ),
    ...(body === undefined ? {} : { body }),
  });
  const response = await modern.fetch(request);
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (response.body === null) return void res.end();
  const stream = Readable.fromWeb(response.body as NodeReadableStream);
  res.once('close', () => stream.destroy());
  stream.pipe(res);
}

function isModern(req: IncomingMessage, body: unknown): boolean {
  const messages = Array.isArray(body) ? body : [body];
  const claimed = messages.some((message) => {
    const meta = (message as { params?: { _meta?: Record<string, unknown> } } | undefined)?.params?._meta;
    return meta?.['io.modelcontextprotocol/protocolVersion'] !== undefined;
  });
  return claimed || req.headers['mcp-protocol-version'] === MODERN_VERSION;
}

/** One 2026-07-28 request's server: the legacy fixture's tools, resources and prompts. */
function createModernServer(): Server {
  const server = new Server(
    { name: FIXTURE_SERVER_NAME, version: '1.0.0' },
    { capabilities: { tools: {}, resources: {}, prompts: {}, completions: {} } },
  );
  // The SDK majors type JSON Schemas differently; the definitions are the same wire JSON.
  server.setRequestHandler(
    'tools/list',
    () => ({ tools: [...TOOLS.values()].map((tool) => tool.definition) }) as never,
  );
  server.setRequestHandler('tools/call', async (request, ctx) => {
    const tool = TOOLS.get(request.params.name);
    if (tool === undefined) return errorResult(`Tool ${request.params.name} not found`);
    try {
      return (await tool.call(request.params.arguments ?? {}, toToolContext(request.params._meta, ctx))) as never;
    } catch (error) {
      return errorResult(`Tool ${tool.definition.name} failed: ${error instanceof Error ? error.message : error}`);
    }
  });
  server.setRequestHandler('resources/list', () => ({ resources: [...FIXTURE_RESOURCES] }));
  server.setRequestHandler('resources/templates/list', () => ({ resourceTemplates: [...FIXTURE_RESOURCE_TEMPLATES] }));
  server.setRequestHandler('resources/read', (request) => readFixtureResource(request.params.uri) as never);
  server.setRequestHandler('prompts/list', () => ({ prompts: [...FIXTURE_PROMPTS] }));
  server.setRequestHandler(
    'prompts/get',
    (request) => getFixturePrompt(request.params.name, request.params.arguments) as never,
  );
  server.setRequestHandler('completion/complete', ({ params }) =>
    toCompletion(
      completionCandidates(params.ref, params.argument.name).filter((v) => v.startsWith(params.argument.value)),
    ),
  );
  return server;
}

/** The legacy fixture's tool context on top of an SDK 2.x request context. */
function toToolContext(meta: Record<string, unknown> | undefined, ctx: ServerContext): ToolContext {
  const extra = {
    _meta: meta,
    signal: ctx.mcpReq.signal,
    sendNotification: (notification: { method: string; params?: Record<string, unknown> }) =>
      ctx.mcpReq.notify(notification as Parameters<ServerContext['mcpReq']['notify']>[0]),
    // The fixture's tools send spec requests only (sampling, elicitation): the SDK infers their results.
    sendRequest: (request: { method: string; params?: Record<string, unknown> }) => ctx.mcpReq.send(request as never),
  };
  return {
    extra: extra as unknown as ToolContext['extra'],
    log: (level, data) => ctx.mcpReq.log(level, data, 'fixture'),
  };
}

function errorResult(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
