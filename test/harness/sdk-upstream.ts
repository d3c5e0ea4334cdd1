import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import { isInitializeRequest, type JSONRPCMessage, type ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';

export interface SdkUpstreamOptions {
  /** Registers tools, prompts and resources; runs once per session on that session's server. */
  setup: (server: McpServer) => void;
  /** serverInfo.name. Default 'sdk-upstream'. */
  name?: string;
  /** serverInfo.version. Default '1.0.0'. */
  version?: string;
  /** Capabilities declared up front (McpServer adds the ones its registrations need). */
  capabilities?: ServerCapabilities;
  /** Answer POSTs with JSON instead of an SSE stream. Default false. */
  enableJsonResponse?: boolean;
  /** Port to bind on 127.0.0.1. Default: one the OS picks. */
  port?: number;
  /** Keep SSE events per session so streams can be resumed with Last-Event-ID. Default false. */
  resumable?: boolean;
}

/** One JSON-RPC message the upstream received, with the HTTP headers it came with. */
export interface RecordedRequest {
  /** The JSON-RPC method; undefined for a response the client sent back. */
  method: string | undefined;
  params: unknown;
  id: string | number | undefined;
  /** Lower-case header names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** The mcp-session-id header, if any. */
  sessionId: string | undefined;
  message: JSONRPCMessage;
}

/** One HTTP exchange, GET and DELETE included, with the status the upstream answered. */
export interface RecordedHttpRequest {
  method: string;
  headers: Record<string, string>;
  status: number;
}

export interface SdkUpstream {
  /** `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  readonly port: number;
  /** Every JSON-RPC message received, in order (batches flattened). */
  readonly requests: RecordedRequest[];
  /** Every HTTP request, in order, recorded when its response finished. */
  readonly httpRequests: RecordedHttpRequest[];
  /** How many initialize requests arrived (each creates a session). */
  readonly initializeCount: number;
  /** How many DELETE requests arrived. */
  readonly deleteCount: number;
  /** Live session ids. */
  sessions(): string[];
  /** The live sessions' servers, e.g. to register a tool later or send notifications. */
  servers(): McpServer[];
  /** Forgets a session as a restarted server would: its next request gets 404. */
  expireSession(id: string): Promise<void>;
  /** Closes every session and the listener. */
  stop(): Promise<void>;
  /** stop(), then listen again on the same port with no sessions. */
  restart(): Promise<void>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
}

const MCP_PATH = '/mcp';

/**
 * A real MCP SDK 1.x server (McpServer + StreamableHTTPServerTransport, stateful, one
 * transport and one McpServer per session) on node:http at 127.0.0.1, recording what
 * it receives so tests can assert on what the gateway forwarded.
 */
export async function startSdkUpstream(options: SdkUpstreamOptions): Promise<SdkUpstream> {
  const sessions = new Map<string, Session>();
  /** Sessions whose initialize is still in flight (no id yet), so stop() can close them. */
  const pending = new Set<Session>();
  const requests: RecordedRequest[] = [];
  const httpRequests: RecordedHttpRequest[] = [];
  let initializeCount = 0;
  let deleteCount = 0;

  const openSession = async (): Promise<Session> => {
    const server = new McpServer(
      { name: options.name ?? 'sdk-upstream', version: options.version ?? '1.0.0' },
      options.capabilities ? { capabilities: options.capabilities } : {},
    );
    options.setup(server);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: options.enableJsonResponse ?? false,
      ...(options.resumable === true ? { eventStore: new InMemoryEventStore() } : {}),
      onsessioninitialized: (id) => {
        pending.delete(session);
        sessions.set(id, session);
      },
    });
    const session: Session = { server, transport };
    transport.onclose = () => {
      pending.delete(session);
      if (transport.sessionId !== undefined && sessions.get(transport.sessionId) === session) {
        sessions.delete(transport.sessionId);
      }
    };
    pending.add(session);
    await server.connect(transport);
    return session;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const headers = flattenHeaders(req);
    res.once('finish', () => httpRequests.push({ method: req.method ?? '', headers, status: res.statusCode }));
    if (new URL(req.url ?? '/', 'http://upstream').pathname !== MCP_PATH) {
      sendJson(res, 404, { error: 'not found' });
      return;
    }

    let body: unknown;
    if (req.method === 'POST') {
      try {
        body = JSON.parse(await readBody(req));
      } catch {
        sendJson(res, 400, rpcError(-32700, 'Parse error'));
        return;
      }
      for (const message of Array.isArray(body) ? body : [body]) {
        requests.push(toRecorded(message as JSONRPCMessage, headers));
      }
    }
    if (req.method === 'DELETE') deleteCount += 1;

    const sessionId = headers['mcp-session-id'];
    if (sessionId !== undefined) {
      const session = sessions.get(sessionId);
      if (session === undefined) {
        sendJson(res, 404, rpcError(-32001, 'Session not found'));
        return;
      }
      await session.transport.handleRequest(req, res, body);
      return;
    }
    const messages = Array.isArray(body) ? body : [body];
    if (req.method === 'POST' && messages.some((message) => isInitializeRequest(message))) {
      initializeCount += 1;
      const session = await openSession();
      await session.transport.handleRequest(req, res, body);
      return;
    }
    sendJson(res, 400, rpcError(-32000, 'Bad Request: No valid session ID provided'));
  };

  const closeSessions = async () => {
    const all = [...sessions.values(), ...pending];
    sessions.clear();
    pending.clear();
    await Promise.allSettled(all.map((session) => session.server.close()));
  };

  const listen = (port: number) =>
    new Promise<Server>((resolve, reject) => {
      const http = createServer((req, res) => {
        handle(req, res).catch((error: unknown) => {
          if (!res.headersSent) sendJson(res, 500, rpcError(-32603, `upstream harness: ${String(error)}`));
          else res.end();
        });
      });
      http.once('error', reject);
      http.listen(port, '127.0.0.1', () => resolve(http));
    });

  let http = await listen(options.port ?? 0);
  const port = (http.address() as AddressInfo).port;

  const stop = async () => {
    await closeSessions();
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeAllConnections();
    await closed;
    // Let in-process clients see the closed sockets before anyone reconnects, so that
    // their pools do not hand out a dead keep-alive connection.
    await new Promise((resolve) => setTimeout(resolve, 10));
  };

  return {
    url: `http://127.0.0.1:${port}${MCP_PATH}`,
    port,
    requests,
    httpRequests,
    get initializeCount() {
      return initializeCount;
    },
    get deleteCount() {
      return deleteCount;
    },
    sessions: () => [...sessions.keys()],
    servers: () => [...sessions.values()].map((session) => session.server),
    async expireSession(id) {
      const session = sessions.get(id);
      sessions.delete(id);
      await session?.server.close();
    },
    stop,
    async restart() {
      await stop();
      http = await listen(port);
    },
  };
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function toRecorded(message: JSONRPCMessage, headers: Record<string, string>): RecordedRequest {
  const fields = message as { method?: unknown; params?: unknown; id?: unknown };
  return {
    method: typeof fields.method === 'string' ? fields.method : undefined,
    params: fields.params,
    id: typeof fields.id === 'string' || typeof fields.id === 'number' ? fields.id : undefined,
    headers,
    sessionId: headers['mcp-session-id'],
    message,
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function rpcError(code: number, message: string) {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
