import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startJaeger, startSdkUpstream, type RunningJaeger, type SdkUpstream } from '../harness/index.ts';
import { readRpcMessage } from './read-rpc-message.ts';
import { startWorker, type RunningWorker } from './start-worker.ts';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

/** A client's trace context, as a W3C traceparent of a fresh trace and span. */
function clientContext(): { traceId: string; spanId: string; traceparent: string } {
  const hex = (bytes: number) =>
    [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
  const traceId = hex(16);
  const spanId = hex(8);
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

function echoCall(id: number, text: string) {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'w_echo', arguments: { text } } };
}

describe.each([
  ['http/protobuf', 'OTLP/HTTP protobuf'],
  ['http/json', 'OTLP/HTTP JSON'],
])('traces of the built worker in workerd, exported by %s', (protocol) => {
  let jaeger: RunningJaeger;
  let upstream: SdkUpstream;
  let worker: RunningWorker;

  beforeAll(async () => {
    jaeger = await startJaeger();
    upstream = await startSdkUpstream({
      name: 'traced-upstream',
      setup(server) {
        server.registerTool('echo', { inputSchema: { text: z.string() } }, ({ text }) => ({
          content: [{ type: 'text', text }],
        }));
      },
    });
    worker = await startWorker([{ name: 'traced', prefix: 'w_', url: upstream.url }], {
      bindings: {
        OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpHttpUrl,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_SERVICE_NAME: 'mcp-gateway-worker',
      },
    });
  });

  afterAll(async () => {
    await worker?.dispose();
    await upstream?.stop();
    await jaeger?.stop();
  });

  it("continues the client's trace: its server span, the upstream exchange's client span, and the context the upstream gets", async () => {
    const sessionId = await worker.initialize();
    const client = clientContext();
    const response = await worker.fetch('/mcp', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sessionId,
        'mcp-protocol-version': '2025-11-25',
        traceparent: client.traceparent,
      },
      body: JSON.stringify(echoCall(7, 'traced')),
    });
    expect((await readRpcMessage(response, 7)).result).toMatchObject({ content: [{ text: 'traced' }] });

    // The upstream was called in the client's trace, as a child of the worker's span, in the header and in _meta alike.
    const call = upstream.requests.find((request) => request.method === 'tools/call' && request.id === 7);
    const header = call?.headers['traceparent'] ?? '';
    const [, traceId, parentSpanId] = TRACEPARENT.exec(header) ?? [];
    expect(traceId).toBe(client.traceId);
    expect(parentSpanId).not.toBe(client.spanId);
    expect((call?.params as { _meta?: { traceparent?: string } })._meta?.traceparent).toBe(header);

    const trace = await jaeger.waitForTrace((t) => t.traceId === client.traceId && t.spans.length >= 2);
    const server = trace.spans.find((span) => span.kind === 'server');
    const exchange = trace.spans.find((span) => span.kind === 'client' && span.name === 'tools/call echo');
    expect(server).toMatchObject({
      name: 'tools/call w_echo',
      service: 'mcp-gateway-worker',
      parentSpanId: client.spanId,
      attributes: expect.objectContaining({
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': 'w_echo',
        'jsonrpc.request.id': '7',
        'mcp.server': 'traced',
      }),
    });
    expect(typeof server?.attributes['mcp.session.id']).toBe('string');
    expect(exchange).toMatchObject({
      name: 'tools/call echo',
      parentSpanId: server?.spanId,
      spanId: parentSpanId,
      attributes: expect.objectContaining({
        'gen_ai.tool.name': 'echo',
        'server.address': '127.0.0.1',
        'server.port': Number(new URL(upstream.url).port),
      }),
    });
  });
});

describe('a worker asked for OTLP/gRPC', () => {
  it('refuses to start, naming the setting and the protocol it can speak', async () => {
    const worker = await startWorker([], {
      bindings: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
    });
    try {
      const response = await worker.fetch('/healthz');
      expect(response.status).toBe(500);
      expect(await response.text()).toMatch(/OTLP\/gRPC cannot be exported from a worker.*OTEL_EXPORTER_OTLP_PROTOCOL/);
    } finally {
      await worker.dispose();
    }
  });
});
