import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.ts';
import { readBody } from './read-body.ts';

const encoder = new TextEncoder();

/** A body stream that sends `chunks` one per pull and records how far it was read. */
function chunkedStream(chunks: Uint8Array[]) {
  const state = { pulls: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = chunks[state.pulls++];
        if (chunk === undefined) controller.close();
        else controller.enqueue(chunk);
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

function post(body: BodyInit | null, headers: Record<string, string> = {}): Request {
  return new Request('http://gateway.test/mcp', { method: 'POST', body, headers, duplex: 'half' } as RequestInit);
}

async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(GatewayError);
  return error as GatewayError;
}

describe('readBody', () => {
  it('reads a body', async () => {
    const text = '{"jsonrpc":"2.0","id":1,"method":"ping"}';

    const body = await readBody(post(text), 1024);

    expect(new TextDecoder().decode(body)).toBe(text);
  });

  it('reads a body sent in several chunks', async () => {
    const { stream } = chunkedStream([encoder.encode('{"a":'), encoder.encode('1'), encoder.encode('}')]);

    const body = await readBody(post(stream), 1024);

    expect(new TextDecoder().decode(body)).toBe('{"a":1}');
  });

  it('reads a request without a body as empty', async () => {
    const body = await readBody(new Request('http://gateway.test/mcp', { method: 'POST' }), 1024);

    expect(body.byteLength).toBe(0);
  });

  it('refuses a declared Content-Length above the limit without reading the body', async () => {
    const { stream, state } = chunkedStream([new Uint8Array(8)]);
    const request = post(stream, { 'content-length': '11' });

    const error = await refusal(readBody(request, 10));

    expect(error.code).toBe('BODY_TOO_LARGE');
    expect(error.status).toBe(413);
    expect(error.message).toContain('10');
    expect(state.pulls).toBe(0);
    expect(request.bodyUsed).toBe(false);
  });

  it('refuses a streamed body without a length once it grows past the limit', async () => {
    const { stream, state } = chunkedStream([new Uint8Array(6), new Uint8Array(6), new Uint8Array(6)]);

    const error = await refusal(readBody(post(stream), 10));

    expect(error.code).toBe('BODY_TOO_LARGE');
    expect(error.data).toEqual({ limit: 10 });
    // It stops at the chunk that crosses the limit and cancels the rest.
    expect(state.pulls).toBe(2);
    expect(state.cancelled).toBe(true);
  });

  it('refuses a streamed body that understates its Content-Length', async () => {
    const { stream } = chunkedStream([new Uint8Array(6), new Uint8Array(6)]);

    const error = await refusal(readBody(post(stream, { 'content-length': '4' }), 10));

    expect(error.code).toBe('BODY_TOO_LARGE');
  });

  it('accepts a body of exactly the limit', async () => {
    expect((await readBody(post(new Uint8Array(10), { 'content-length': '10' }), 10)).byteLength).toBe(10);

    const { stream } = chunkedStream([new Uint8Array(4), new Uint8Array(6)]);
    expect((await readBody(post(stream), 10)).byteLength).toBe(10);
  });
});
