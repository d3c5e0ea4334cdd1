import { afterEach, describe, expect, it, vi } from 'vitest';
import { NOOP_LOGGER } from '../logger.ts';
import { createSessionTokens } from '../session/session-token.ts';
import { createMemorySessionStore } from '../store/memory-session-store.ts';
import type { SessionStore } from '../store/session-store.ts';
import type { ServerConfig } from '../config/schema.ts';
import type { SessionClaims } from '../session/session-token.ts';
import { MAX_STREAM_RESUMES } from '../relay/upstream-messages.ts';
import { relayLegacyStream, type LegacyRelayOptions } from './rev2025-11-25.ts';

const KEY = 'gateway-signing-key-for-tests-0001';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const stores: SessionStore[] = [];

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

/** An upstream SSE body the test writes to chunk by chunk. */
interface UpstreamFeed {
  readonly stream: ReadableStream<Uint8Array>;
  send(text: string): void;
  close(): void;
  fail(error: Error): void;
  /** Resolves when the relay stops reading this body. */
  readonly cancelled: Promise<void>;
}

function upstreamFeed(): UpstreamFeed {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let onCancel!: () => void;
  const cancelled = new Promise<void>((resolve) => (onCancel = resolve));
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      onCancel();
    },
  });
  return {
    stream,
    send: (text) => controller.enqueue(encoder.encode(text)),
    close: () => controller.close(),
    fail: (error) => controller.error(error),
    cancelled,
  };
}

/** An upstream body that holds `text` and then ends. */
function upstreamBody(text: string): ReadableStream<Uint8Array> {
  const feed = upstreamFeed();
  feed.send(text);
  feed.close();
  return feed.stream;
}

function sse(message: unknown, fields: { id?: string; retry?: number; event?: string } = {}): string {
  let out = '';
  if (fields.event !== undefined) out += `event: ${fields.event}\n`;
  if (fields.id !== undefined) out += `id: ${fields.id}\n`;
  if (fields.retry !== undefined) out += `retry: ${fields.retry}\n`;
  return `${out}data: ${typeof message === 'string' ? message : JSON.stringify(message)}\n\n`;
}

const progress = (n: number) => ({
  jsonrpc: '2.0',
  method: 'notifications/progress',
  params: { progressToken: 'p', progress: n },
});
const RESULT = { jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'sunny' }] } };

const WEATHER: ServerConfig = {
  name: 'weather',
  url: 'http://weather.invalid/mcp',
  hostname: 'weather.invalid',
  prefix: 'w_',
  enabled: true,
  userSpecificList: false,
  category: [],
  tags: [],
};

interface Relay {
  readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly abort: AbortController;
  readonly store: SessionStore;
  readonly claims: SessionClaims;
  /** What the relay logged at warn. */
  readonly warnings: string[];
}

async function relay(upstream: ReadableStream<Uint8Array>, extra: Partial<LegacyRelayOptions> = {}): Promise<Relay> {
  const store = createMemorySessionStore();
  stores.push(store);
  const tokens = createSessionTokens({ key: KEY });
  const { claims } = await tokens.issue({ protocolVersion: '2025-06-18', clientCapabilities: {} });
  const abort = new AbortController();
  const warnings: string[] = [];
  const stream = relayLegacyStream({
    body: upstream,
    requestId: 7,
    // The call asked for progress under token 'p'.
    params: { name: 'forecast', _meta: { progressToken: 'p' } },
    server: WEATHER,
    backendSessionId: 'backend-1',
    jti: claims.jti,
    store,
    abort,
    timeoutMs: 10_000,
    logger: { ...NOOP_LOGGER, warn: (message, fields) => warnings.push(`${message} ${JSON.stringify(fields)}`) },
    ...extra,
  });
  return { reader: stream.getReader(), abort, store, claims, warnings };
}

interface ClientEvent {
  readonly raw: string;
  readonly event: string | undefined;
  readonly data: string;
}

/** Reads one chunk of the relayed stream (the relay enqueues one whole event per chunk). */
async function nextEvent(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<ClientEvent | undefined> {
  const { value, done } = await reader.read();
  if (done) return undefined;
  const raw = decoder.decode(value);
  const lines = raw.split('\n');
  return {
    raw,
    event: lines.find((line) => line.startsWith('event: '))?.slice('event: '.length),
    data: lines
      .filter((line) => line.startsWith('data: '))
      .map((line) => line.slice('data: '.length))
      .join('\n'),
  };
}

async function nextMessage(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Record<string, unknown>> {
  const event = await nextEvent(reader);
  if (event === undefined) throw new Error('the relayed stream ended');
  return JSON.parse(event.data) as Record<string, unknown>;
}

async function expectEnd(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  const { done, value } = await reader.read();
  expect(value === undefined ? undefined : decoder.decode(value)).toBeUndefined();
  expect(done).toBe(true);
}

describe('relayLegacyStream', () => {
  it('relays each upstream event to the client as it arrives, in order', async () => {
    const feed = upstreamFeed();
    const { reader } = await relay(feed.stream);

    feed.send(sse(progress(1)));
    expect(await nextMessage(reader)).toEqual(progress(1));
    feed.send(sse(progress(2)));
    expect(await nextMessage(reader)).toEqual(progress(2));
    feed.send(sse(RESULT));
    expect(await nextMessage(reader)).toEqual(RESULT);
    await expectEnd(reader);
  });

  it('relays an event whose bytes arrive split across chunks once it is complete', async () => {
    const feed = upstreamFeed();
    const { reader } = await relay(feed.stream);
    const text = sse(RESULT);

    feed.send(text.slice(0, 10));
    feed.send(text.slice(10, 30));
    feed.send(text.slice(30));
    feed.close();

    expect(await nextMessage(reader)).toEqual(RESULT);
    await expectEnd(reader);
  });

  it('sends every event as a message event without the upstream event id', async () => {
    const { reader } = await relay(upstreamBody(sse(RESULT, { id: 'ev-1' })));

    const event = await nextEvent(reader);

    expect(event?.event).toBe('message');
    expect(event?.raw).not.toMatch(/^id:/m);
  });

  it('sends a message event whatever event type the upstream gave', async () => {
    const { reader } = await relay(upstreamBody(sse(RESULT, { event: 'custom' })));

    expect((await nextEvent(reader))?.event).toBe('message');
  });

  it('skips events with empty data', async () => {
    const { reader } = await relay(upstreamBody(`data:\n\n${sse(RESULT)}`));

    expect(await nextMessage(reader)).toEqual(RESULT);
    await expectEnd(reader);
  });

  it('drops data that is not a JSON-RPC message', async () => {
    const { reader } = await relay(upstreamBody(`data: not json\n\ndata: [1,"x"]\n\n${sse(RESULT)}`));

    expect(await nextMessage(reader)).toEqual(RESULT);
    await expectEnd(reader);
  });

  it('gives a server-to-client request a gateway id stored as pending with the upstream id', async () => {
    const elicitation = {
      jsonrpc: '2.0',
      id: 3,
      method: 'elicitation/create',
      params: { message: 'Which city?', requestedSchema: { type: 'object', properties: {} } },
    };
    const { reader, store, claims } = await relay(upstreamBody(sse(elicitation) + sse(RESULT)));

    const relayed = await nextMessage(reader);

    expect(relayed).toEqual({ ...elicitation, id: expect.any(String) });
    expect(relayed['id']).not.toBe(3);
    expect(await store.takePending(relayed['id'] as string)).toEqual({
      jti: claims.jti,
      server: 'weather',
      backendSessionId: 'backend-1',
      upstreamId: 3,
    });
    expect(await nextMessage(reader)).toEqual(RESULT);
  });

  it('gives each server-to-client request its own gateway id', async () => {
    const ping = (id: number) => ({ jsonrpc: '2.0', id, method: 'ping' });
    const { reader, store } = await relay(upstreamBody(sse(ping(1)) + sse(ping(2)) + sse(RESULT)));

    const first = (await nextMessage(reader))['id'] as string;
    const second = (await nextMessage(reader))['id'] as string;

    expect(first).not.toBe(second);
    expect((await store.takePending(first))?.upstreamId).toBe(1);
    expect((await store.takePending(second))?.upstreamId).toBe(2);
  });

  it('applies rewriteResult to the result of the call', async () => {
    const rewriteResult = (result: Record<string, unknown>) => ({ ...result, rewritten: true });
    const { reader } = await relay(upstreamBody(sse(RESULT)), { rewriteResult });

    expect(await nextMessage(reader)).toEqual({ ...RESULT, result: { ...RESULT.result, rewritten: true } });
  });

  it('passes an error response for the call through untouched by rewriteResult', async () => {
    const rewriteResult = vi.fn((result: Record<string, unknown>) => result);
    const error = { jsonrpc: '2.0', id: 7, error: { code: -32602, message: 'Unknown city' } };
    const { reader } = await relay(upstreamBody(sse(error)), { rewriteResult });

    expect(await nextMessage(reader)).toEqual(error);
    await expectEnd(reader);
    expect(rewriteResult).not.toHaveBeenCalled();
  });

  it('drops and logs a response that carries another id, also inside a batch, and relays the answer', async () => {
    const rewriteResult = vi.fn((result: Record<string, unknown>) => result);
    const other = { jsonrpc: '2.0', id: 8, result: { stolen: true } };
    const batch = [{ jsonrpc: '2.0', id: 9, error: { code: 1, message: 'x' } }, progress(1)];
    const { reader, warnings } = await relay(upstreamBody(sse(other) + sse(batch) + sse(RESULT)), { rewriteResult });

    expect(await nextMessage(reader)).toEqual(progress(1));
    expect(await nextMessage(reader)).toEqual(RESULT);
    await expectEnd(reader);
    expect(rewriteResult).toHaveBeenCalledExactlyOnceWith(RESULT.result);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('a response to another request');
    expect(warnings.join('\n')).not.toContain('stolen');
  });

  it("drops progress of another call's token and notifications that do not belong to the call", async () => {
    const foreign = { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'q', progress: 1 } };
    const log = { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'working' } };
    const changed = { jsonrpc: '2.0', method: 'notifications/tools/list_changed' };
    const cancelOther = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3 } };
    const body = [foreign, changed, cancelOther, log, progress(1)].map((m) => sse(m)).join('') + sse(RESULT);
    const { reader, warnings } = await relay(upstreamBody(body));

    expect(await nextMessage(reader)).toEqual(log);
    expect(await nextMessage(reader)).toEqual(progress(1));
    expect(await nextMessage(reader)).toEqual(RESULT);
    await expectEnd(reader);
    expect(warnings).toHaveLength(3);
  });

  it('drops all progress of a call that asked for none', async () => {
    const { reader } = await relay(upstreamBody(sse(progress(1)) + sse(RESULT)), { params: { name: 'forecast' } });

    expect(await nextMessage(reader)).toEqual(RESULT);
  });

  it('passes the cancellation of a request the upstream asked on this call under its gateway id', async () => {
    const ask = { jsonrpc: '2.0', id: 3, method: 'elicitation/create', params: { message: '?' } };
    const cancel = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3, reason: 'late' } };
    const { reader } = await relay(upstreamBody(sse(ask) + sse(cancel) + sse(RESULT)));

    const relayed = await nextMessage(reader);
    expect(await nextMessage(reader)).toEqual({ ...cancel, params: { requestId: relayed['id'], reason: 'late' } });
    expect(await nextMessage(reader)).toEqual(RESULT);
  });

  it('ends the client stream after the result even when the upstream keeps its stream open', async () => {
    const feed = upstreamFeed();
    const onAbandon = vi.fn();
    const { reader, abort } = await relay(feed.stream, { timeoutMs: 50, onAbandon });

    feed.send(sse(RESULT));

    expect(await nextMessage(reader)).toEqual(RESULT);
    await expectEnd(reader);
    await feed.cancelled;
    expect(onAbandon).not.toHaveBeenCalled();
    expect(abort.signal.aborted).toBe(false);
  });

  it('resumes with the last event id when the upstream closes before the result and relays the resumed stream', async () => {
    const resume = vi.fn(async () => upstreamBody(sse(progress(3), { id: 'ev-3' }) + sse(RESULT, { id: 'ev-4' })));
    const first = sse(progress(1), { id: 'ev-1', retry: 0 }) + sse(progress(2), { id: 'ev-2' });
    const { reader } = await relay(upstreamBody(first), { resume });

    expect(await nextMessage(reader)).toEqual(progress(1));
    expect(await nextMessage(reader)).toEqual(progress(2));
    expect(await nextMessage(reader)).toEqual(progress(3));
    expect(await nextMessage(reader)).toEqual(RESULT);
    await expectEnd(reader);
    expect(resume).toHaveBeenCalledExactlyOnceWith('ev-2');
  });

  it('resumes again from the last id seen on a resumed stream', async () => {
    const resumed = [
      upstreamBody(sse(progress(2), { id: 'ev-2' })),
      upstreamBody(sse(progress(3)) + sse(RESULT, { id: 'ev-4' })),
    ];
    const resume = vi.fn(async () => resumed.shift());
    const { reader } = await relay(upstreamBody(sse(progress(1), { id: 'ev-1', retry: 0 })), { resume });

    for (const n of [1, 2, 3]) expect(await nextMessage(reader)).toEqual(progress(n));
    expect(await nextMessage(reader)).toEqual(RESULT);
    await expectEnd(reader);
    expect(resume.mock.calls).toEqual([['ev-1'], ['ev-2']]);
  });

  it('answers with an error naming the server when the upstream closes before the result without resume', async () => {
    const { reader } = await relay(upstreamBody(sse(progress(1), { id: 'ev-1' })));

    expect(await nextMessage(reader)).toEqual(progress(1));
    const error = await nextMessage(reader);
    expect(error).toMatchObject({ jsonrpc: '2.0', id: 7, error: { code: -32603 } });
    expect((error['error'] as { message: string }).message).toContain('upstream weather closed the stream');
    await expectEnd(reader);
  });

  it('answers with an error when the upstream cannot resume its stream', async () => {
    const resume = vi.fn(async () => undefined);
    const { reader } = await relay(upstreamBody(sse(progress(1), { id: 'ev-1', retry: 0 })), { resume });

    expect(await nextMessage(reader)).toEqual(progress(1));
    expect(await nextMessage(reader)).toMatchObject({ id: 7, error: { message: expect.stringContaining('weather') } });
    await expectEnd(reader);
    expect(resume).toHaveBeenCalledExactlyOnceWith('ev-1');
  });

  it('answers with an error when resuming the stream fails', async () => {
    const resume = vi.fn(() => Promise.reject(new Error('connection refused')));
    const { reader } = await relay(upstreamBody(sse(progress(1), { id: 'ev-1', retry: 0 })), { resume });

    expect(await nextMessage(reader)).toEqual(progress(1));
    expect(await nextMessage(reader)).toMatchObject({ id: 7, error: { message: expect.stringContaining('weather') } });
    await expectEnd(reader);
  });

  it('does not resume a stream that carried no event id', async () => {
    const resume = vi.fn(async () => upstreamBody(sse(RESULT)));
    const { reader } = await relay(upstreamBody(sse(progress(1), { retry: 0 })), { resume });

    expect(await nextMessage(reader)).toEqual(progress(1));
    expect(await nextMessage(reader)).toMatchObject({ id: 7, error: { code: -32603 } });
    await expectEnd(reader);
    expect(resume).not.toHaveBeenCalled();
  });

  it(`gives up after ${MAX_STREAM_RESUMES} resumes`, async () => {
    let n = 0;
    const resume = vi.fn(async () => upstreamBody(sse(progress(++n), { id: `ev-${n}` })));
    const { reader } = await relay(upstreamBody(sse(progress(0), { id: 'ev-0', retry: 0 })), { resume });

    for (let i = 0; i <= MAX_STREAM_RESUMES; i++) expect(await nextMessage(reader)).toEqual(progress(i));
    expect(await nextMessage(reader)).toMatchObject({ id: 7, error: { code: -32603 } });
    await expectEnd(reader);
    expect(resume).toHaveBeenCalledTimes(MAX_STREAM_RESUMES);
  });

  it('answers with an error naming the server when the upstream stream fails', async () => {
    const feed = upstreamFeed();
    const { reader } = await relay(feed.stream);

    feed.send(sse(progress(1)));
    expect(await nextMessage(reader)).toEqual(progress(1));
    feed.fail(new Error('socket hang up'));

    const error = await nextMessage(reader);
    expect(error).toMatchObject({ id: 7, error: { code: -32603 } });
    expect((error['error'] as { message: string }).message).toContain('upstream weather closed the stream');
    await expectEnd(reader);
  });

  it('answers with an error, aborts the upstream and calls onAbandon once when the upstream stays silent', async () => {
    const feed = upstreamFeed();
    const onAbandon = vi.fn();
    const { reader, abort } = await relay(feed.stream, { timeoutMs: 50, onAbandon });

    feed.send(sse(progress(1)));
    expect(await nextMessage(reader)).toEqual(progress(1));

    const error = await nextMessage(reader);
    expect(error).toMatchObject({ id: 7, error: { code: -32603 } });
    expect((error['error'] as { message: string }).message).toContain('upstream weather sent nothing for 50 ms');
    await expectEnd(reader);
    await feed.cancelled;
    expect(abort.signal.aborted).toBe(true);
    expect(onAbandon).toHaveBeenCalledExactlyOnceWith(expect.stringContaining('weather'));
  });

  it('aborts the upstream when the client cancels the stream', async () => {
    const feed = upstreamFeed();
    const onAbandon = vi.fn();
    const { reader, abort } = await relay(feed.stream, { onAbandon });
    feed.send(sse(progress(1)));
    expect(await nextMessage(reader)).toEqual(progress(1));

    await reader.cancel();

    expect(abort.signal.aborted).toBe(true);
    await feed.cancelled;
    expect(onAbandon).not.toHaveBeenCalled();
  });

  it("aborts the upstream when the client's request is aborted", async () => {
    const client = new AbortController();
    const feed = upstreamFeed();
    const { abort } = await relay(feed.stream, { signal: client.signal });
    const aborted = new Promise((resolve) => abort.signal.addEventListener('abort', resolve));

    client.abort();

    await aborted;
    expect(abort.signal.aborted).toBe(true);
  });
});
