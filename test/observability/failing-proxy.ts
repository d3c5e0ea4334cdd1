// A fault in front of a real SDK upstream: every tools/call is answered with HTTP 502 (what an
// upstream behind a broken load balancer answers), everything else is relayed to the upstream as
// is. No real MCP server answers a call with an HTTP error, so this stand-in produces the fault.
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FailingProxy {
  /** `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  readonly port: number;
  /** How many tools/call requests it refused. */
  readonly refused: number;
  stop(): Promise<void>;
}

/** Starts the proxy on a free loopback port in front of `upstreamPort` (same paths). */
export async function startFailingProxy(upstreamPort: number): Promise<FailingProxy> {
  let refused = 0;
  const server: Server = createServer((incoming, outgoing) => {
    void readBody(incoming).then((body) => {
      if (incoming.method === 'POST' && isToolCall(body)) {
        refused++;
        outgoing.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway (fault injected by the test)');
        return;
      }
      const relay = httpRequest(
        {
          host: '127.0.0.1',
          port: upstreamPort,
          path: incoming.url,
          method: incoming.method,
          headers: incoming.headers,
        },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      relay.on('error', () => outgoing.destroy());
      outgoing.on('close', () => relay.destroy());
      relay.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    port,
    get refused() {
      return refused;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(incoming: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => resolve(Buffer.concat(chunks)));
    incoming.on('error', reject);
  });
}

function isToolCall(body: Buffer): boolean {
  try {
    const message = JSON.parse(body.toString('utf8')) as { method?: unknown };
    return message.method === 'tools/call';
  } catch {
    return false;
  }
}
