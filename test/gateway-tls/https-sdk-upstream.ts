// A real MCP SDK 1.x server (McpServer + StreamableHTTPServerTransport, stateful) on
// node:https at 127.0.0.1, recording each JSON-RPC request with the TLS version it came over.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { ServerCertificate } from './private-ca.ts';

export interface HttpsSdkUpstreamOptions {
  /** The certificate the listener presents (leaf only, as most servers send it). */
  certificate: ServerCertificate;
  /** Registers tools and the like; runs once per session on that session's server. */
  setup: (server: McpServer) => void;
}

/** One JSON-RPC request the upstream received. */
export interface TlsRecordedRequest {
  method: string;
  /** The connection's negotiated TLS version, e.g. 'TLSv1.3'. */
  tlsVersion: string | null;
  /** The HTTP request's headers (names in lower case). */
  headers: IncomingHttpHeaders;
}

export interface HttpsSdkUpstream {
  /** `https://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  /** Every JSON-RPC request (not notifications or responses) received, in order. */
  readonly requests: TlsRecordedRequest[];
  /** Closes every session and the listener. */
  stop(): Promise<void>;
}

const MCP_PATH = '/mcp';

/** Starts the upstream on an OS-chosen port; resolves once it listens. */
export async function startHttpsSdkUpstream(options: HttpsSdkUpstreamOptions): Promise<HttpsSdkUpstream> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const servers = new Set<McpServer>();
  const requests: TlsRecordedRequest[] = [];

  const openSession = async (): Promise<StreamableHTTPServerTransport> => {
    const server = new McpServer({ name: 'https-sdk-upstream', version: '1.0.0' });
    options.setup(server);
    servers.add(server);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, transport);
      },
    });
    transport.onclose = () => {
      servers.delete(server);
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    return transport;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (new URL(req.url ?? '/', 'https://upstream').pathname !== MCP_PATH) {
      sendJson(res, 404, { error: 'not found' });
      return;
    }
    let body: unknown;
    if (req.method === 'POST') {
      body = JSON.parse(await readBody(req));
      const tlsVersion = (req.socket as TLSSocket).getProtocol();
      for (const message of [body].flat() as { method?: unknown; id?: unknown }[]) {
        if (typeof message.method === 'string' && message.id !== undefined) {
          requests.push({ method: message.method, tlsVersion, headers: req.headers });
        }
      }
    }
    const sessionId = req.headers['mcp-session-id'];
    const existing = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (existing !== undefined) {
      await existing.handleRequest(req, res, body);
    } else if (sessionId === undefined && req.method === 'POST' && [body].flat().some((m) => isInitializeRequest(m))) {
      await (await openSession()).handleRequest(req, res, body);
    } else {
      sendJson(res, sessionId === undefined ? 400 : 404, {
        jsonrpc: '2.0',
        error: {
          code: -32000,
          message: sessionId === undefined ? 'No valid session ID provided' : 'Session not found',
        },
        id: null,
      });
    }
  };

  const https = createServer({ cert: options.certificate.certPem, key: options.certificate.keyPem }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: `https upstream: ${String(error)}` });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    https.once('error', reject);
    https.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = https.address() as AddressInfo;

  return {
    url: `https://127.0.0.1:${port}${MCP_PATH}`,
    requests,
    async stop() {
      await Promise.allSettled([...servers].map((server) => server.close()));
      const closed = new Promise<void>((resolve) => https.close(() => resolve()));
      https.closeAllConnections();
      await closed;
    },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
