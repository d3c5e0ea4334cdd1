import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What the JWKS endpoint does while a fault is on:
 * - `down`: the connection is cut without an answer (a crashed server, a reset);
 * - `hang`: the request is accepted and never answered (its connection is cut when the provider stops);
 * - `slow`: the answer comes after `ms` (default 3 000 ms);
 * - `error`: 503 at once.
 */
export type JwksFault = 'down' | 'hang' | 'slow' | 'error';

/** The fault switch and fetch counter of the provider's JWKS endpoint. */
export interface JwksControl {
  /** Turns a fault on for every JWKS request from now on, until {@link JwksControl.restore}. */
  fail(fault: JwksFault, ms?: number): void;
  /** Serves the keys normally again (requests already hanging stay hung). */
  restore(): void;
  /** How many requests reached the JWKS endpoint so far, faulted or not. */
  fetches(): number;
}

/** The JWKS endpoint's front: decides, per request, whether the provider answers it. */
export interface JwksFront {
  readonly control: JwksControl;
  /**
   * Applies the current fault to a request for the JWKS path. Resolves true when the request
   * is dealt with here (cut, hung, answered 503), false when the provider should answer it.
   */
  intercept(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Cuts the hung connections. */
  close(): void;
}

const DEFAULT_SLOW_MS = 3_000;

/**
 * A fault switch in front of the JWKS endpoint. A down, hung or slow key server is a fault no
 * real provider produces on demand, so this stand-in produces it; the keys themselves are always
 * the real provider's answer.
 */
export function createJwksFront(path: string): JwksFront {
  let fault: { kind: JwksFault; ms: number } | undefined;
  let fetches = 0;
  const hung = new Set<Socket>();

  return {
    control: {
      fail(kind, ms = DEFAULT_SLOW_MS) {
        fault = { kind, ms };
      },
      restore() {
        fault = undefined;
      },
      fetches: () => fetches,
    },
    async intercept(req, res) {
      if (new URL(req.url ?? '/', 'http://provider').pathname !== path) return false;
      fetches += 1;
      const current = fault;
      switch (current?.kind) {
        case undefined:
          return false;
        case 'down':
          req.socket.destroy();
          return true;
        case 'hang':
          hung.add(req.socket);
          req.socket.once('close', () => hung.delete(req.socket));
          return true;
        case 'error':
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'temporarily_unavailable' }));
          return true;
        case 'slow':
          await new Promise((resolve) => setTimeout(resolve, current.ms));
          return false;
      }
    },
    close() {
      for (const socket of hung) socket.destroy();
      hung.clear();
    },
  };
}
