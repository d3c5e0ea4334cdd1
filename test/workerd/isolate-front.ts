import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Miniflare } from 'miniflare';

/** A request the front passed to a worker. */
export interface FrontedRequest {
  worker: string;
  method: string;
  /** The JSON-RPC method of a POST, when its body was one message. */
  rpcMethod?: string;
}

/** A loopback HTTP front that hands each request to one of several workers of a Miniflare. */
export interface IsolateFront {
  /** `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  /** What went where, in order. */
  readonly served: FrontedRequest[];
  /** Sends the next request to this worker (then alternation resumes after it). */
  pinNext(worker: string): void;
  close(): Promise<void>;
}

/**
 * Starts a front that alternates requests between `workers` (round robin), as a load balancer
 * spreading one client's requests over isolates would. Bodies stream both ways, so SSE answers
 * reach the client as the worker sends them.
 */
export async function startIsolateFront(mf: Miniflare, workers: readonly string[]): Promise<IsolateFront> {
  const served: FrontedRequest[] = [];
  let turn = 0;
  let pinned: string | undefined;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const worker = pinned ?? workers[turn++ % workers.length]!;
    pinned = undefined;
    served.push({ worker, method: request.method ?? 'GET', ...rpcMethodOf(body) });

    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined || ['host', 'connection', 'content-length'].includes(name)) continue;
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const fetcher = await workerFetcher(mf, worker);
    const answer = await fetcher.fetch(`http://localhost${request.url ?? '/'}`, {
      method: request.method ?? 'GET',
      headers,
      ...(body.length > 0 ? { body } : {}),
    });
    const outHeaders: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      if (name !== 'content-length' && name !== 'transfer-encoding') outHeaders[name] = value;
    });
    response.writeHead(answer.status, outHeaders);
    response.flushHeaders();
    if (answer.body === null) {
      response.end();
      return;
    }
    const reader = answer.body.getReader();
    response.on('close', () => void reader.cancel().catch(() => undefined));
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      response.write(value);
    }
    response.end();
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(502);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    served,
    pinNext(worker) {
      pinned = worker;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A worker's fetch, as Miniflare gives it (its declared type needs @cloudflare/workers-types). */
export async function workerFetcher(mf: Miniflare, name: string): Promise<{ fetch: Miniflare['dispatchFetch'] }> {
  return (await mf.getWorker(name)) as unknown as { fetch: Miniflare['dispatchFetch'] };
}

function rpcMethodOf(body: Buffer): { rpcMethod?: string } {
  try {
    const message = JSON.parse(body.toString('utf8')) as { method?: unknown };
    return typeof message.method === 'string' ? { rpcMethod: message.method } : {};
  } catch {
    return {};
  }
}
