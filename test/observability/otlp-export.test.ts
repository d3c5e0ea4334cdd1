// The Node host's OTLP/HTTP export against real loopback collectors: TLS with the collector's own
// CA (OTEL_EXPORTER_OTLP_CERTIFICATE), gzip, headers, the retry the specification asks for, and
// a refusal that is logged, not retried. The collector here is a Node server that records what
// it is sent (a real collector, Jaeger, is in traces.test.ts).
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOOP_LOGGER, type Logger } from '@mcp-gateway/core';
import { startOtlpTracing } from 'mcp-gateway';
import { createPrivateCa, type PrivateCa } from '../gateway-tls/private-ca.ts';

interface Received {
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

function collector(answer: (count: number) => { status: number; headers?: Record<string, string> }) {
  const received: Received[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      const { status, headers } = answer(received.length);
      res.writeHead(status, headers).end();
    });
  };
  return { received, handle };
}

async function listen(server: ReturnType<typeof createHttpServer>): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return String((server.address() as AddressInfo).port);
}

function warnings() {
  const lines: Array<{ message: string; fields: unknown }> = [];
  const logger: Logger = { ...NOOP_LOGGER, warn: (message, fields) => void lines.push({ message, fields }) };
  return { lines, logger };
}

/** One traced call's two spans, exported now. */
async function traceOneCall(env: Record<string, string>, logger: Logger = NOOP_LOGGER): Promise<void> {
  const tracing = startOtlpTracing({ OTEL_BSP_SCHEDULE_DELAY: '60000', ...env }, '9.9.9', logger);
  const span = tracing.tracer.server('tools/call w_echo', undefined, { 'mcp.method.name': 'tools/call' });
  span.client('tools/call echo', { 'server.port': 8080 }).end();
  span.end();
  await tracing.shutdown();
}

describe('OTLP/HTTP export from the Node process', () => {
  let ca: PrivateCa;
  beforeAll(async () => {
    ca = await createPrivateCa('otlp-export test CA');
  });
  afterAll(async () => {
    await ca.remove();
  });

  it("reaches a collector over TLS with the collector's CA, gzipped, with the configured headers", async () => {
    const { received, handle } = collector(() => ({ status: 200 }));
    const certificate = await ca.issueServerCertificate();
    const server = createHttpsServer({ cert: certificate.certPem, key: certificate.keyPem }, handle);
    const port = await listen(server);
    try {
      await traceOneCall({
        OTEL_EXPORTER_OTLP_ENDPOINT: `https://localhost:${port}`,
        OTEL_EXPORTER_OTLP_CERTIFICATE: ca.certPath,
        OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20collector-token,x-tenant=a',
      });
    } finally {
      server.close();
    }
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request?.headers).toMatchObject({
      'content-type': 'application/x-protobuf',
      'content-encoding': 'gzip',
      authorization: 'Bearer collector-token',
      'x-tenant': 'a',
    });
    const body = gunzipSync(request!.body).toString('latin1');
    expect(body).toContain('tools/call w_echo');
    expect(body).toContain('tools/call echo');
    expect(body).toContain('9.9.9');
  });

  it('refuses to start when the CA file cannot be read, naming the variable', () => {
    expect(() =>
      startOtlpTracing(
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://localhost:1', OTEL_EXPORTER_OTLP_CERTIFICATE: '/nonexistent/ca.pem' },
        '1',
        NOOP_LOGGER,
      ),
    ).toThrow(/OTEL_EXPORTER_OTLP_CERTIFICATE: cannot read \/nonexistent\/ca.pem: ENOENT/);
    expect(() =>
      startOtlpTracing(
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_COMPRESSION: 'br' },
        '1',
        NOOP_LOGGER,
      ),
    ).toThrow(/OTEL_EXPORTER_OTLP_COMPRESSION must be gzip or none, not "br"/);
  });

  it('retries a collector that is busy, after the wait it asks for, and sends the spans once', async () => {
    const { received, handle } = collector((count) =>
      count === 1 ? { status: 503, headers: { 'retry-after': '0' } } : { status: 200 },
    );
    const server = createHttpServer(handle);
    const port = await listen(server);
    const { lines, logger } = warnings();
    try {
      await traceOneCall({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}/custom/traces` }, logger);
    } finally {
      server.close();
    }
    expect(received).toHaveLength(2);
    expect(received[1]?.body.equals(received[0]!.body)).toBe(true);
    expect(lines).toEqual([]);
  });

  it('does not retry a refusal, and logs it once at warn with the answer', async () => {
    const { received, handle } = collector(() => ({ status: 400 }));
    const server = createHttpServer(handle);
    const port = await listen(server);
    const { lines, logger } = warnings();
    try {
      await traceOneCall(
        { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
        logger,
      );
    } finally {
      server.close();
    }
    expect(received).toHaveLength(1);
    expect(received[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(received[0]!.body.toString('utf8')).resourceSpans[0].scopeSpans[0].spans).toHaveLength(2);
    expect(lines).toEqual([
      { message: 'could not export spans', fields: { spans: 2, error: 'Error: the collector answered 400' } },
    ]);
  });
});
