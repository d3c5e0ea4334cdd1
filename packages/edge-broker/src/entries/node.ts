import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A broker listening on a Node HTTP server. */
export interface NodeBroker {
  /** The bound address (port resolved when 0 was asked). */
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Where and how the broker listens. */
export interface NodeBrokerOptions {
  readonly host: string;
  readonly port: number;
  /**
   * Longest a client may take to send a whole request, headers and body (Node's
   * `requestTimeout`: 408 and the connection closed). It bounds only the request: a GET stream
   * or an SSE answer lasts as long as it needs. Default DEFAULT_REQUEST_TIMEOUT_MS.
   */
  readonly requestTimeoutMs?: number;
  /** Open connections accepted at once; more are closed as they arrive. Default DEFAULT_MAX_CONNECTIONS. */
  readonly maxConnections?: number;
}

/** Default time to receive a request: 30 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Default bound of open connections: 4096. */
export const DEFAULT_MAX_CONNECTIONS = 4096;

/**
 * Serves the broker app on Node. Resolves once listening; rejects when the address cannot be
 * bound (the message names it). A client that sends its request too slowly (a body that never
 * ends) gets 408 and loses its connection; the number of open connections is bounded; answers
 * (notification streams, SSE calls) are never timed.
 */
export function startNodeBroker(app: Hono, options: NodeBrokerOptions): Promise<NodeBroker> {
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch: app.fetch,
        hostname: options.host,
        port: options.port,
        serverOptions: {
          requestTimeout,
          // Headers come first: they get the same bound, never more than the whole request.
          headersTimeout: requestTimeout,
          // How often Node checks those timers (default 30 s, which would let a slow request run far past its bound).
          connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(requestTimeout / 4))),
          keepAliveTimeout: 65_000,
        },
      },
      (info: AddressInfo) => {
        resolve({
          host: options.host,
          port: info.port,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              if ('closeAllConnections' in server) server.closeAllConnections();
            }),
        });
      },
    );
    (server as Server).maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    server.once('error', (error: Error) =>
      reject(new Error(`cannot listen on ${options.host}:${options.port}: ${error.message}`, { cause: error })),
    );
  });
}
