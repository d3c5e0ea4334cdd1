// A bench upstream process: N official MCP SDK 1.x servers (McpServer +
// StreamableHTTPServerTransport, stateful, JSON responses) on N loopback ports, each
// with T zero-latency tools. It records nothing, so that its own cost stays small.
//
//   node bench/upstream.mjs <servers> <toolsPerServer>
//
// Prints one line `BENCH_UPSTREAM_READY {"urls":[…]}` once every port listens; exits on
// SIGTERM/SIGINT.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

const servers = Number(process.argv[2] ?? 1);
const toolsPerServer = Number(process.argv[3] ?? 1);

/** `echo` answers at once; the other tools exist to make tools/list realistic in size. */
function registerTools(server, index) {
  server.registerTool(
    'echo',
    { description: 'Returns its text unchanged.', inputSchema: { text: z.string().describe('Text to return') } },
    ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  for (let t = 1; t < toolsPerServer; t++) {
    const name = `tool_${String(t).padStart(2, '0')}`;
    server.registerTool(
      name,
      {
        description: `Bench tool ${name} of upstream ${index}: looks something up and returns it.`,
        inputSchema: {
          query: z.string().describe('What to look up'),
          limit: z.number().int().min(1).max(100).optional().describe('Most results to return'),
        },
      },
      ({ query }) => ({ content: [{ type: 'text', text: query }] }),
    );
  }
}

function sendJson(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function listen(index) {
  const sessions = new Map();
  const handle = async (req, res) => {
    let body;
    if (req.method === 'POST') {
      try {
        body = await readJson(req);
      } catch {
        sendJson(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
        return;
      }
    }
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const transport = sessions.get(sessionId);
      if (transport === undefined) {
        sendJson(res, 404, { jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } });
        return;
      }
      await transport.handleRequest(req, res, body);
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      sendJson(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'No valid session ID' } });
      return;
    }
    const server = new McpServer({ name: `bench-upstream-${index}`, version: '1.0.0' });
    registerTools(server, index);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (id) => sessions.set(id, transport),
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };
  const http = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent)
        sendJson(res, 500, { jsonrpc: '2.0', id: null, error: { code: -32603, message: String(error) } });
      else res.end();
    });
  });
  http.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', () => resolve(http));
  });
}

const listening = [];
for (let i = 0; i < servers; i++) listening.push(await listen(i));
const urls = listening.map((http) => `http://127.0.0.1:${http.address().port}/mcp`);
process.stdout.write(`BENCH_UPSTREAM_READY ${JSON.stringify({ urls })}\n`);

const shutdown = () => {
  for (const http of listening) {
    http.closeAllConnections();
    http.close();
  }
  setTimeout(() => process.exit(0), 200).unref();
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
