// A fault stand-in: no real MCP server hangs on purpose or drops its connection halfway through
// a response, so this node:http proxy sits in front of a real SDK upstream and passes everything
// through (initialize, lists, GET streams, DELETE) except the tools/call requests it is told to
// break. It is used only to produce those faults.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with one tools/call: never answer, or cut the connection after the first chunk. */
export type Fault = 'hang' | 'drop';

export interface FaultProxyOptions {
  /** The real upstream's MCP URL. */
  target: string;
  /** The fault for a tools/call of this tool name, or undefined to pass it through. */
  faultFor: (toolName: string) => Fault | undefined;
}

export interface FaultProxy {
  readonly url: string;
  /** tools/call requests the proxy took and never answered. */
  held(): number;
  /** tools/call responses the proxy cut off. */
  dropped(): number;
  stop(): Promise<void>;
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const holding = new Set<ServerResponse>();
  let held = 0;
  let dropped = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const fault = req.method === 'POST' ? faultOf(body, options.faultFor) : undefined;
    if (fault === 'hang') {
      held += 1;
      holding.add(res);
      res.once('close', () => holding.delete(res));
      return;
    }
    const headers = { ...req.headers, host: target.host };
    const forwarded = request(target, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      if (fault === 'drop') {
        answer.once('data', (chunk: Buffer) => {
          res.write(chunk, () => {
            dropped += 1;
            res.destroy();
            answer.destroy();
          });
        });
        return;
      }
      answer.pipe(res);
    });
    forwarded.once('error', () => res.destroy());
    res.once('close', () => forwarded.destroy());
    forwarded.end(body);
  };

  const http = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = http.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    held: () => held,
    dropped: () => dropped,
    async stop() {
      for (const res of holding) res.destroy();
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await closed;
    },
  };
}

function faultOf(body: Buffer, faultFor: (toolName: string) => Fault | undefined): Fault | undefined {
  try {
    const message = JSON.parse(body.toString('utf8')) as { method?: unknown; params?: { name?: unknown } };
    if (message.method !== 'tools/call' || typeof message.params?.name !== 'string') return undefined;
    return faultFor(message.params.name);
  } catch {
    return undefined;
  }
}
