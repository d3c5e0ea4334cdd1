import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMcpHandler, McpServer, type McpHttpHandler } from '@modelcontextprotocol/server';

/** Options of {@link startModernUpstream}. */
export interface ModernUpstreamOptions {
  /** Registers tools, prompts and resources; runs once per HTTP request (the SDK's per-request instance). */
  setup: (server: McpServer) => void;
  /** serverInfo.name. Default 'modern-upstream'. */
  name?: string;
  /** 'reject' (default): a 2026-07-28-only server; 'stateless': it also serves legacy requests statelessly. */
  legacy?: 'reject' | 'stateless';
  /** Port to bind on 127.0.0.1. Default: one the OS picks. */
  port?: number;
}

/** One HTTP request the upstream received. */
export interface ModernRecordedRequest {
  readonly httpMethod: string;
  /** Lower-case header names. */
  readonly headers: Record<string, string>;
  /** The parsed JSON-RPC body of a POST. */
  readonly body: { method?: string; params?: Record<string, unknown>; id?: unknown } | undefined;
  status?: number;
}

/** A running modern upstream. */
export interface ModernUpstream {
  /** `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  readonly requests: ModernRecordedRequest[];
  /** Bodies of the POSTs whose JSON-RPC method is `method`. */
  calls(method: string): ModernRecordedRequest[];
  /** The SDK handler (its `notify` publishes list changes to subscriptions/listen streams). */
  readonly handler: McpHttpHandler;
  stop(): Promise<void>;
}

/**
 * A real MCP SDK 2.x server speaking 2026-07-28 (`createMcpHandler`, sessionless; legacy
 * requests rejected unless asked), on node:http at 127.0.0.1, recording what it receives.
 */
export async function startModernUpstream(options: ModernUpstreamOptions): Promise<ModernUpstream> {
  const handler = createMcpHandler(
    () => {
      const server = new McpServer({ name: options.name ?? 'modern-upstream', version: '2.0.0' });
      options.setup(server);
      return server;
    },
    { legacy: options.legacy ?? 'reject', keepAliveMs: 0 },
  );
  const requests: ModernRecordedRequest[] = [];
  const http = createServer((req, res) => {
    void serve(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
      else res.destroy();
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    let body: ModernRecordedRequest['body'];
    try {
      body = text === '' ? undefined : (JSON.parse(text) as ModernRecordedRequest['body']);
    } catch {
      body = undefined;
    }
    const record: ModernRecordedRequest = { httpMethod: req.method ?? '', headers, body };
    requests.push(record);
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    const request = new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`, {
      method: req.method ?? 'GET',
      headers: new Headers(headers),
      signal: abort.signal,
      ...(req.method === 'POST' || req.method === 'PUT' ? { body: text } : {}),
    });
    const response = await handler.fetch(request);
    record.status = response.status;
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (response.body === null) {
      res.end();
      return;
    }
    const reader = response.body.getReader();
    abort.signal.addEventListener('abort', () => void reader.cancel().catch(() => {}), { once: true });
    try {
      for (;;) {
        const next = await reader.read();
        if (next.done) break;
        res.write(next.value);
      }
    } catch {
      // The client went away.
    }
    res.end();
  }

  await new Promise<void>((resolve) => http.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    requests,
    calls: (method) => requests.filter((r) => r.body?.method === method),
    handler,
    async stop() {
      await handler.close().catch(() => {});
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
