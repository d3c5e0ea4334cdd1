import { createServer, type Server } from 'node:http';
import type { PrometheusMetrics } from './prometheus-metrics.ts';

/** A listener of its own serving GET /metrics (`--metrics-addr`). */
export interface MetricsListener {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves the Prometheus exposition at GET /metrics on `address` (HOST:PORT; port 0 picks one):
 * for a router-only process, which has no broker port, and for scrapers kept off the MCP port.
 * @throws Error naming `--metrics-addr` when the address cannot be bound.
 */
export async function startMetricsListener(address: string, metrics: PrometheusMetrics): Promise<MetricsListener> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    metrics.expose().then(
      (text) => response.writeHead(200, { 'content-type': metrics.contentType }).end(text),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`--metrics-addr ${address}: cannot listen (${error.message})`)));
    server.listen(Number(address.slice(colon + 1)), host, () => resolve());
  });
  const bound = server.address();
  return {
    port: typeof bound === 'object' && bound !== null ? bound.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
