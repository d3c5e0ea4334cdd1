import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { AddressInfo } from 'node:net';

/** A broker listening on a Node HTTP server. */
export interface NodeBroker {
  /** The bound address (port resolved when 0 was asked). */
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves the broker app on Node. Resolves once listening; rejects when the address cannot be
 * bound (the message names it). Request timeouts are off: notification streams are long-lived.
 */
export function startNodeBroker(app: Hono, address: { host: string; port: number }): Promise<NodeBroker> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: address.host, port: address.port }, (info: AddressInfo) => {
      resolve({
        host: address.host,
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            if ('closeAllConnections' in server) server.closeAllConnections();
          }),
      });
    });
    if ('requestTimeout' in server) server.requestTimeout = 0;
    if ('keepAliveTimeout' in server) server.keepAliveTimeout = 65_000;
    server.once('error', (error: Error) =>
      reject(new Error(`cannot listen on ${address.host}:${address.port}: ${error.message}`, { cause: error })),
    );
  });
}
