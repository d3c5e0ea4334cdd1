// Serves MCP SDK 1.x servers over Streamable HTTP on node:http: stateful sessions,
// one transport and one McpServer per session, at POST/GET/DELETE /mcp.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

/**
 * Starts the HTTP listener and resolves once it listens.
 * @param {{ name: string, createServer: () => import('@modelcontextprotocol/sdk/server/mcp.js').McpServer, defaultPort: number }} options
 * @returns {Promise<{ url: string, servers: () => import('@modelcontextprotocol/sdk/server/mcp.js').McpServer[] }>}
 */
export async function serveMcp({ name, createServer: createMcpServer, defaultPort }) {
  const port = Number(process.env.PORT ?? defaultPort);
  const host = process.env.HOST ?? '127.0.0.1';
  /** @type {Map<string, { transport: StreamableHTTPServerTransport, server: import('@modelcontextprotocol/sdk/server/mcp.js').McpServer }>} */
  const sessions = new Map();

  const handle = async (req, res) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/mcp') {
      return sendJson(res, 404, { error: 'not found: the MCP endpoint is /mcp' });
    }
    let body;
    if (req.method === 'POST') {
      try {
        body = JSON.parse(await readBody(req));
      } catch {
        return sendJson(res, 400, rpcError(-32700, 'Parse error'));
      }
    }
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = sessions.get(sessionId);
      if (!session) return sendJson(res, 404, rpcError(-32001, 'Session not found'));
      return session.transport.handleRequest(req, res, body);
    }
    const messages = Array.isArray(body) ? body : [body];
    if (req.method !== 'POST' || !messages.some((message) => isInitializeRequest(message))) {
      return sendJson(res, 400, rpcError(-32000, 'Bad Request: No valid session ID provided'));
    }
    const server = createMcpServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => sessions.set(id, { transport, server }),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    return transport.handleRequest(req, res, body);
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((error) => {
      console.error(`${name}: request failed:`, error);
      if (!res.headersSent) sendJson(res, 500, rpcError(-32603, 'Internal error'));
      else res.end();
    });
  });
  await new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, resolve);
  });
  const url = `http://${host}:${port}/mcp`;
  console.log(`${name} demo MCP server listening on ${url}`);

  const shutdown = () => {
    for (const { server } of sessions.values()) void server.close();
    http.close(() => process.exit(0));
    http.closeAllConnections();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);

  return { url, servers: () => [...sessions.values()].map((session) => session.server) };
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function rpcError(code, message) {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}

function sendJson(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
