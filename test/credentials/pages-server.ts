import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TokenPages } from '@mcp-gateway/core';

/** One answered request: what the pages sent back, and how many body bytes they pulled from the socket. */
export interface ServedExchange {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  readonly bodyBytesRead: number;
}

export interface PagesServer {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** Every exchange so far, in order. */
  readonly exchanges: ServedExchange[];
  /** Sets the pages the server answers with (the pages need the server's origin first). */
  serve(pages: TokenPages): void;
  stop(): Promise<void>;
}

/**
 * A real node:http server in front of `TokenPages.handle` (the lead wires the pages into the
 * broker's Hono app; until then the suite serves them alone). The request body reaches the
 * pages as a stream pulled from the socket on demand, so a test can see how much of a large
 * body was read.
 */
export async function startPagesServer(): Promise<PagesServer> {
  let pages: TokenPages | undefined;
  const exchanges: ServedExchange[] = [];
  const http = createServer((req, res) => {
    void (async () => {
      const counter = { bytes: 0 };
      const request = toRequest(req, origin, counter);
      const response = pages === undefined ? new Response('not ready', { status: 503 }) : await pages.handle(request);
      const body = await response.text();
      exchanges.push({
        method: req.method ?? '',
        path: req.url ?? '',
        status: response.status,
        headers: response.headers,
        body,
        bodyBytesRead: counter.bytes,
      });
      const headers: Record<string, string | string[]> = {};
      response.headers.forEach((value, name) => {
        if (name !== 'set-cookie') headers[name] = value;
      });
      const cookies = response.headers.getSetCookie();
      if (cookies.length > 0) headers['set-cookie'] = cookies;
      // The unread rest of a refused body is not waited for: the connection closes after the answer.
      if (!req.complete) headers.connection = 'close';
      res.writeHead(response.status, headers).end(body);
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    origin,
    exchanges,
    serve: (next) => {
      pages = next;
    },
    async stop() {
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await closed;
    },
  };
}

function toRequest(req: IncomingMessage, origin: string, counter: { bytes: number }): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.set(name, value);
  }
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const iterator = req[Symbol.asyncIterator]();
  const body = hasBody
    ? new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            const { done, value } = (await iterator.next()) as IteratorResult<Buffer>;
            if (done) return controller.close();
            counter.bytes += value.byteLength;
            controller.enqueue(new Uint8Array(value));
          },
          cancel() {
            req.pause();
          },
        },
        { highWaterMark: 0 },
      )
    : null;
  return new Request(new URL(req.url ?? '/', origin), {
    method,
    headers,
    body,
    ...(body === null ? {} : { duplex: 'half' }),
  } as RequestInit);
}
