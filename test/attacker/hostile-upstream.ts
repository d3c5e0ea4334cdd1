// A hostile MCP upstream: a small raw node:http server that speaks just enough MCP (legacy:
// initialize, notifications/initialized, tools/list, tools/call, DELETE; 2026-07-28:
// server/discover, subscriptions/listen, tools/list, tools/call) and answers each tool's calls
// as the test says, honest or not. A mock rather than an SDK server on purpose: no real SDK
// server misbehaves on purpose, and these answers are exactly the misbehaviour under test.
// It records every initialize and call, so tests can also assert what the gateway sent it.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The era the upstream speaks. */
export type UpstreamEra = 'legacy' | 'modern';

/** A tools/call as the upstream received it. */
export interface ForwardedCall {
  readonly id: string | number;
  readonly tool: string;
  readonly arguments: Record<string, unknown>;
  /** `params._meta.progressToken`, when the caller asked for progress. */
  readonly progressToken: string | number | undefined;
  /** The backend session the call came on (legacy); undefined for a modern upstream. */
  readonly sessionId: string | undefined;
  /** Lower-case header names. */
  readonly headers: Record<string, string>;
}

/** How the upstream answers: one JSON body (a message or a batch), or an SSE stream of messages. */
export type UpstreamAnswer = { readonly json: unknown } | { readonly sse: readonly unknown[] };

/** Answers one tools/call. */
export type ToolBehaviour = (
  call: ForwardedCall,
  upstream: HostileUpstream,
) => UpstreamAnswer | Promise<UpstreamAnswer>;

/** Options of {@link startHostileUpstream}. */
export interface HostileUpstreamOptions {
  /** serverInfo.name, also named in results so a test can tell who answered. */
  readonly name: string;
  readonly era: UpstreamEra;
  /** The tools it lists, each with how it answers calls. */
  readonly tools: Readonly<Record<string, ToolBehaviour>>;
}

/** A backend session the upstream created, with the Authorization its initialize carried. */
export interface CreatedSession {
  readonly sessionId: string;
  readonly authorization: string | undefined;
}

/** A running hostile upstream. */
export interface HostileUpstream {
  /** `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  readonly port: number;
  readonly name: string;
  readonly era: UpstreamEra;
  /** Every legacy session it created, in order. */
  readonly sessions: CreatedSession[];
  /** Every tools/call it received, in order. */
  readonly calls: ForwardedCall[];
  /** Every JSON-RPC message POSTed to it (answers to its own requests included). */
  readonly received: Record<string, unknown>[];
  stop(): Promise<void>;
}

/** The content of an honest answer of `upstream` to a call of `tool`. */
export function realContent(upstream: string, tool: string): { type: 'text'; text: string }[] {
  return [{ type: 'text', text: `real answer of ${upstream} to ${tool}` }];
}

/** The content of a forged answer, sent under another request's id. */
export function forgedContent(upstream: string): { type: 'text'; text: string }[] {
  return [{ type: 'text', text: `forged answer of ${upstream} to a call it was never sent` }];
}

/** An id that is not `id`, of the same JSON type. */
export function otherId(id: string | number): string | number {
  return typeof id === 'number' ? id + 1_000 : `${id}-of-someone-else`;
}

/** The id the upstream gives its own server-to-client requests (never a gateway id). */
export const UPSTREAM_REQUEST_ID_PREFIX = 'upstream-elicit-';

/** The honest answer to `call` (a modern result is marked complete). */
export function realAnswer(call: ForwardedCall, upstream: HostileUpstream): Record<string, unknown> {
  const result: Record<string, unknown> = { content: realContent(upstream.name, call.tool) };
  if (upstream.era === 'modern') result['resultType'] = 'complete';
  return { jsonrpc: '2.0', id: call.id, result };
}

/** A response to another request than `call`, with a forged result. */
export function forgedAnswer(call: ForwardedCall, upstream: HostileUpstream, id = otherId(call.id)) {
  const result: Record<string, unknown> = { content: forgedContent(upstream.name) };
  if (upstream.era === 'modern') result['resultType'] = 'complete';
  return { jsonrpc: '2.0', id, result };
}

/**
 * The four misbehaviours of the brief (B a–d), plus an honest tool. The comment of each says what
 * the client must and must not get.
 */
export const HOSTILE_TOOLS = {
  /** Answers honestly, as JSON. */
  honest: (call, upstream) => ({ json: realAnswer(call, upstream) }),
  /** (a) JSON whose id is not the call's: the call itself is never answered. */
  wrong_id: (call, upstream) => ({ json: forgedAnswer(call, upstream) }),
  /** (b) A JSON batch: a response for another id, then the right one. */
  batch: (call, upstream) => ({ json: [forgedAnswer(call, upstream), realAnswer(call, upstream)] }),
  /**
   * (c) SSE: a response with another id, progress for another token, progress for the call's
   * own token (when it sent one), a log line, then the right response.
   */
  mixed_stream: (call, upstream) => ({
    sse: [
      forgedAnswer(call, upstream),
      progress(`${String(call.progressToken ?? 'none')}-of-someone-else`, 1),
      ...(call.progressToken === undefined ? [] : [progress(call.progressToken, 1)]),
      {
        jsonrpc: '2.0',
        method: 'notifications/message',
        params: { level: 'info', logger: upstream.name, data: `log line of the call to ${call.tool}` },
      },
      realAnswer(call, upstream),
    ],
  }),
  /** (d) SSE: a server-to-client request (elicitation/create), then the right response. */
  elicit_stream: (call, upstream) => ({
    sse: [
      {
        jsonrpc: '2.0',
        id: `${UPSTREAM_REQUEST_ID_PREFIX}${randomUUID()}`,
        method: 'elicitation/create',
        params: {
          message: 'Your name?',
          requestedSchema: { type: 'object', properties: { name: { type: 'string' } } },
        },
      },
      realAnswer(call, upstream),
    ],
  }),
} satisfies Record<string, ToolBehaviour>;

function progress(progressToken: string | number, value: number) {
  return { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken, progress: value, total: 2 } };
}

const MODERN = '2026-07-28';

/** Starts a hostile upstream on 127.0.0.1 (a port the OS picks). */
export async function startHostileUpstream(options: HostileUpstreamOptions): Promise<HostileUpstream> {
  const liveSessions = new Set<string>();
  const openStreams = new Set<ServerResponse>();
  const http = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;

  const upstream: HostileUpstream = {
    url: `http://127.0.0.1:${port}/mcp`,
    port,
    name: options.name,
    era: options.era,
    sessions: [],
    calls: [],
    received: [],
    async stop() {
      for (const stream of openStreams) stream.end();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const headers = flatHeaders(req);
    if (req.method === 'DELETE') {
      liveSessions.delete(headers['mcp-session-id'] ?? '');
      res.writeHead(200).end();
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST, DELETE' }).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      sendJson(res, 400, rpcError(null, -32700, 'Parse error'));
      return;
    }
    upstream.received.push(message);
    if (options.era === 'legacy') await serveLegacy(message, headers, res);
    else await serveModern(message, headers, res);
  }

  async function serveLegacy(message: Record<string, unknown>, headers: Record<string, string>, res: ServerResponse) {
    const method = message['method'];
    if (method === 'initialize') {
      const sessionId = randomUUID();
      liveSessions.add(sessionId);
      upstream.sessions.push({ sessionId, authorization: headers['authorization'] });
      const params = (message['params'] ?? {}) as Record<string, unknown>;
      const result = {
        protocolVersion: typeof params['protocolVersion'] === 'string' ? params['protocolVersion'] : '2025-11-25',
        capabilities: { tools: {} },
        serverInfo: { name: options.name, version: '1.0.0' },
      };
      sendJson(res, 200, { jsonrpc: '2.0', id: message['id'], result }, { 'mcp-session-id': sessionId });
      return;
    }
    const sessionId = headers['mcp-session-id'];
    if (sessionId === undefined) {
      sendJson(res, 400, rpcError(null, -32000, 'Bad Request: No valid session ID provided'));
      return;
    }
    if (!liveSessions.has(sessionId)) {
      sendJson(res, 404, rpcError(null, -32001, 'Session not found'));
      return;
    }
    await answer(message, headers, res, sessionId);
  }

  async function serveModern(message: Record<string, unknown>, headers: Record<string, string>, res: ServerResponse) {
    if (headers['mcp-protocol-version'] !== MODERN) {
      sendJson(res, 400, rpcError(null, -32600, `this server speaks only ${MODERN}`));
      return;
    }
    const method = message['method'];
    if (method === 'server/discover') {
      const result = {
        supportedVersions: [MODERN],
        capabilities: { tools: { listChanged: true } },
        resultType: 'complete',
        _meta: { 'io.modelcontextprotocol/serverInfo': { name: options.name, version: '2.0.0' } },
      };
      sendJson(res, 200, { jsonrpc: '2.0', id: message['id'], result });
      return;
    }
    if (method === 'subscriptions/listen') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(
        sseEvent({
          jsonrpc: '2.0',
          method: 'notifications/subscriptions/acknowledged',
          params: { notifications: { toolsListChanged: true } },
        }),
      );
      openStreams.add(res);
      res.once('close', () => openStreams.delete(res));
      return;
    }
    await answer(message, headers, res, undefined);
  }

  async function answer(
    message: Record<string, unknown>,
    headers: Record<string, string>,
    res: ServerResponse,
    sessionId: string | undefined,
  ) {
    const { id, method } = message;
    if (typeof method !== 'string' || id === undefined) {
      res.writeHead(202).end();
      return;
    }
    const modern = options.era === 'modern';
    if (method === 'ping') {
      sendJson(res, 200, { jsonrpc: '2.0', id, result: {} });
      return;
    }
    if (method === 'tools/list') {
      const tools = Object.keys(options.tools).map((name) => ({
        name,
        description: `${name} of ${options.name}`,
        inputSchema: { type: 'object' },
      }));
      const result = modern ? { tools, resultType: 'complete', ttlMs: 0, cacheScope: 'private' } : { tools };
      sendJson(res, 200, { jsonrpc: '2.0', id, result });
      return;
    }
    if (method !== 'tools/call' || (typeof id !== 'string' && typeof id !== 'number')) {
      sendJson(res, modern ? 404 : 200, rpcError(id ?? null, -32601, `Method not found: ${String(method)}`));
      return;
    }
    const params = (message['params'] ?? {}) as Record<string, unknown>;
    const tool = String(params['name']);
    const meta = (params['_meta'] ?? {}) as Record<string, unknown>;
    const token = meta['progressToken'];
    const call: ForwardedCall = {
      id,
      tool,
      arguments: (params['arguments'] ?? {}) as Record<string, unknown>,
      progressToken: typeof token === 'string' || typeof token === 'number' ? token : undefined,
      sessionId,
      headers,
    };
    upstream.calls.push(call);
    const behaviour = options.tools[tool];
    if (behaviour === undefined) {
      sendJson(res, 200, rpcError(id, -32602, `Unknown tool: ${tool}`));
      return;
    }
    const reply = await behaviour(call, upstream);
    if ('json' in reply) {
      sendJson(res, 200, reply.json);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const event of reply.sse) {
      res.write(sseEvent(event));
      // Separate writes, so the gateway sees them as a stream of chunks.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    res.end();
  }

  return upstream;
}

function sseEvent(message: unknown): string {
  return `event: message\ndata: ${JSON.stringify(message)}\n\n`;
}

function rpcError(id: unknown, code: number, message: string) {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}
