import { describe, expect, it } from 'vitest';
import { isEventStream, whenSent, wholeResponse } from './when-sent.ts';

describe('isEventStream', () => {
  it('tells an SSE answer from a JSON one by its content type', () => {
    const stream = new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
    expect(isEventStream(new Response(stream, { headers: { 'content-type': 'text/event-stream' } }))).toBe(true);
    expect(isEventStream(new Response('{}', { headers: { 'content-type': 'application/json' } }))).toBe(false);
  });

  it('knows an answer the gateway made whole by its mark, before any header', () => {
    const marked = wholeResponse('data: x\n\n', { headers: { 'content-type': 'text/event-stream' } });
    expect(isEventStream(marked)).toBe(false);
    expect(marked.status).toBe(200);
    expect(wholeResponse(null, { status: 202 }).status).toBe(202);
  });
});

describe('whenSent', () => {
  it('reports a stream sent once its last chunk has been read', async () => {
    const events: string[] = [];
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('data: 1\n\n'));
        controller.close();
      },
    });
    const watched = whenSent(new Response(stream), (how) => events.push(how));
    expect(events).toEqual([]);
    expect(await watched.text()).toBe('data: 1\n\n');
    expect(events).toEqual(['sent']);
  });
});
