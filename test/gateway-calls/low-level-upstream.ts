// A real MCP SDK 1.x upstream built on the low-level Server, for what McpServer cannot do:
// paginated lists and tool definitions McpServer would never produce (e.g. invalid schemas).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest, type ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';

export interface LowLevelUpstreamOptions {
  /** Sets the request handlers; runs once per session on that session's Server. */
  setup: (server: Server) => void;
  capabilities: ServerCapabilities;
}

export interface LowLevelUpstream {
  /** `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  /** JSON-RPC methods received, in order. */
  readonly methods: string[];
  stop(): Promise<void>;
}

/**
 * Starts a stateful Streamable HTTP upstream (one Server and transport per session) on a free
 * loopback port. Unknown sessions get 404, as the SDK's examples do.
 */
export async function startLowLevelUpstream(options: LowLevelUpstreamOptions): Promise<LowLevelUpstream> {
  const sessions = new Map<string, { server: Server; transport: StreamableHTTPServerTransport }>();
  const methods: string[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let body: unknown;
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const message of Array.isArray(body) ? body : [body]) {
        const method = (message as { method?: unknown }).method;
        if (typeof method === 'string') methods.push(method);
      }
    }
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = sessions.get(sessionId);
      if (session === undefined) {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end('{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}');
        return;
      }
      await session.transport.handleRequest(req, res, body);
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      res.writeHead(400).end();
      return;
    }
    const server = new Server({ name: 'low-level-upstream', version: '1.0.0' }, { capabilities: options.capabilities });
    options.setup(server);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { server, transport });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const http = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = http.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/mcp`,
    methods,
    async stop() {
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.allSettled(all.map((session) => session.server.close()));
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await closed;
    },
  };
}
