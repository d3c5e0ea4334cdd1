// HTTP as an attacker sends it: any Host header (fetch does not let a caller set one), a fresh
// connection per request (no pool keeps sockets the test does not know of), and raw TCP for
// bodies that never finish.
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { toAnswer, type Answer } from './answers.ts';

/** A request of {@link rawRequest}. */
export interface RawRequest {
  readonly method?: string;
  /** Lower-case names; `host` overrides the URL's. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
}

/** Sends one request on its own connection (closed after the answer) and reads the answer whole. */
export function rawRequest(url: string, init: RawRequest = {}): Promise<Answer> {
  const body = init.body === undefined ? undefined : Buffer.from(init.body);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      url,
      {
        method: init.method ?? 'GET',
        agent: false,
        headers: {
          ...init.headers,
          ...(body === undefined ? {} : { 'content-length': String(body.byteLength) }),
        },
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', reject);
        incoming.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(incoming.headers)) {
            if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
          }
          resolve(toAnswer(incoming.statusCode ?? 0, headers, Buffer.concat(chunks).toString('utf8')));
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** A raw TCP connection to the gateway, with everything it has received so far. */
export interface RawConnection {
  readonly socket: Socket;
  /** Everything received, as latin1 text. */
  received(): string;
  /** Resolves when the connection closed (by either side, or failed). */
  readonly closed: Promise<void>;
  isClosed(): boolean;
  write(text: string): void;
  /** Resolves once `pattern` matches what was received; rejects when the connection closes first or `timeoutMs` passes. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  close(): void;
}

/** Opens a TCP connection to 127.0.0.1:`port`; rejects when it is refused. */
export function openConnection(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    let closed = false;
    const listeners = new Set<() => void>();
    const closedPromise = new Promise<void>((done) => {
      socket.once('close', () => {
        closed = true;
        done();
        for (const listener of listeners) listener();
      });
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      for (const listener of listeners) listener();
    });
    let connected = false;
    // After the connect an error is followed by 'close', which is what callers watch.
    socket.on('error', (error) => {
      if (!connected) reject(error);
    });
    socket.once('connect', () => {
      connected = true;
      resolve({
        socket,
        received: () => received,
        closed: closedPromise,
        isClosed: () => closed,
        write: (text) => socket.write(text),
        waitFor(pattern, timeoutMs) {
          return new Promise((done, fail) => {
            const check = () => {
              const match = pattern.exec(received);
              if (match !== null) {
                cleanup();
                done(match[0]);
              } else if (closed) {
                cleanup();
                fail(new Error(`connection closed before ${pattern} (received: ${JSON.stringify(received)})`));
              }
            };
            const timer = setTimeout(() => {
              cleanup();
              fail(
                new Error(`nothing matched ${pattern} within ${timeoutMs} ms (received: ${JSON.stringify(received)})`),
              );
            }, timeoutMs);
            const cleanup = () => {
              clearTimeout(timer);
              listeners.delete(check);
            };
            listeners.add(check);
            check();
          });
        },
        close: () => socket.destroy(),
      });
    });
  });
}

/** One HTTP/1.1 request as raw text, keep-alive, with a Content-Length when there is a body. */
export function httpText(
  method: string,
  path: string,
  port: number,
  headers: Record<string, string> = {},
  body = '',
): string {
  const lines = [`${method} ${path} HTTP/1.1`, `host: 127.0.0.1:${port}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body !== '' && headers['content-length'] === undefined) lines.push(`content-length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}
