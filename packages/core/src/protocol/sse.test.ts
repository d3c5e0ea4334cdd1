import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createSseParser, encodeSseComment, encodeSseEvent } from './sse.ts';
import type { SseEvent, SseParserOptions } from './sse.ts';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

async function parseChunks(chunks: readonly (string | Uint8Array)[], options?: SseParserOptions): Promise<SseEvent[]> {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(typeof chunk === 'string' ? utf8(chunk) : chunk);
      controller.close();
    },
  });
  const reader = source.pipeThrough(createSseParser(options)).getReader();
  const events: SseEvent[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return events;
    events.push(value);
  }
}

/** Splits `bytes` at the given offsets (sorted, deduplicated, clamped). */
function cut(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let previous = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(previous, point));
    previous = point;
  }
  return chunks;
}

describe('createSseParser', () => {
  it('parses an event with a type, an id and a retry', async () => {
    const events = await parseChunks(['event: message\nid: 42\nretry: 3000\ndata: {"a":1}\n\n']);
    expect(events).toEqual([{ event: 'message', id: '42', retry: 3000, data: '{"a":1}' }]);
  });

  it('joins multi-line data with LF', async () => {
    expect(await parseChunks(['data: one\ndata: two\ndata:\n\n'])).toEqual([{ data: 'one\ntwo\n' }]);
  });

  it('accepts CR, LF and CRLF line ends', async () => {
    const events = await parseChunks(['data: a\r\rdata: b\n\ndata: c\r\n\r\n']);
    expect(events).toEqual([{ data: 'a' }, { data: 'b' }, { data: 'c' }]);
  });

  it('treats a CRLF split across chunks as one line end', async () => {
    const events = await parseChunks(['data: a\r', '\ndata: b\r', '\n\r', '\n']);
    expect(events).toEqual([{ data: 'a\nb' }]);
  });

  it('dispatches an event as soon as its blank line arrives', async () => {
    const parser = createSseParser();
    const writer = parser.writable.getWriter();
    const reader = parser.readable.getReader();
    void writer.write(utf8('data: early\r\r'));
    expect(await reader.read()).toEqual({ done: false, value: { data: 'early' } });
    await writer.close();
    expect((await reader.read()).done).toBe(true);
  });

  it('ignores comment lines and unknown fields', async () => {
    const events = await parseChunks([': keep-alive\n\ndata: x\n: inside\nfoo: bar\n\n']);
    expect(events).toEqual([{ data: 'x' }]);
  });

  it('removes one leading BOM, even when split across chunks', async () => {
    const bom = new Uint8Array([0xef, 0xbb, 0xbf]);
    expect(await parseChunks([bom.subarray(0, 1), bom.subarray(1), 'data: x\n\n'])).toEqual([{ data: 'x' }]);
    expect(await parseChunks([new Uint8Array([...bom, ...bom]), 'data: x\n\n'])).toEqual([]);
  });

  it('keeps a BOM that is not at the start of the stream', async () => {
    expect(await parseChunks(['data: \ufeffx\n\n'])).toEqual([{ data: '\ufeffx' }]);
  });

  it('reads a field without a colon as an empty value', async () => {
    expect(await parseChunks(['data\ndata\n\n'])).toEqual([{ data: '\n' }]);
  });

  it('removes only one space after the colon', async () => {
    expect(await parseChunks(['data:  two spaces\ndata:none\n\n'])).toEqual([{ data: ' two spaces\nnone' }]);
  });

  it('does not dispatch an event without data lines', async () => {
    expect(await parseChunks(['id: 1\nevent: ping\nretry: 10\n\n'])).toEqual([]);
  });

  it('dispatches an id with an empty data line (a priming event)', async () => {
    expect(await parseChunks(['id: stream-1/0\ndata:\n\n'])).toEqual([{ id: 'stream-1/0', data: '' }]);
  });

  it('discards an event the stream ends before its blank line', async () => {
    expect(await parseChunks(['data: done\n\ndata: cut off\n'])).toEqual([{ data: 'done' }]);
  });

  it('ignores an id containing NUL, a retry that is not all digits and an empty event type', async () => {
    const events = await parseChunks(['id: a\0b\nretry: 1e3\nretry: -1\nevent:\ndata: x\n\n']);
    expect(events).toEqual([{ data: 'x' }]);
  });

  it('decodes characters split across chunks', async () => {
    const bytes = utf8('data: héllo 🌍\n\n');
    const events = await parseChunks(Array.from(bytes, (byte) => new Uint8Array([byte])));
    expect(events).toEqual([{ data: 'héllo 🌍' }]);
  });

  it('replaces invalid UTF-8 with U+FFFD', async () => {
    const events = await parseChunks([new Uint8Array([0x64, 0x61, 0x74, 0x61, 0x3a, 0xff, 0x0a, 0x0a])]);
    expect(events).toEqual([{ data: '\ufffd' }]);
  });

  it('errors the stream when an event exceeds maxEventBytes', async () => {
    await expect(parseChunks(['data: 0123456789\n', 'data: 0123456789\n\n'], { maxEventBytes: 20 })).rejects.toThrow(
      /SSE event exceeds maxEventBytes \(20 bytes\)/,
    );
  });

  it('errors the stream when an unfinished line exceeds maxEventBytes', async () => {
    await expect(parseChunks(['data: ', 'x'.repeat(64)], { maxEventBytes: 32 })).rejects.toThrow(/maxEventBytes/);
  });

  it('counts the limit per event', async () => {
    const events = await parseChunks(['data: 0123456789\n\ndata: 0123456789\n\n'], { maxEventBytes: 20 });
    expect(events).toHaveLength(2);
  });
});

describe('encodeSseEvent', () => {
  it('writes fields and ends with a blank line', () => {
    expect(encodeSseEvent({ event: 'message', id: '7', retry: 500, data: '{}' })).toBe(
      'event: message\nid: 7\nretry: 500\ndata: {}\n\n',
    );
  });

  it('splits multi-line data into several data lines', () => {
    expect(encodeSseEvent({ data: 'a\nb\r\nc\rd' })).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n');
  });

  it('writes empty data as one data line', () => {
    expect(encodeSseEvent({ id: '1', data: '' })).toBe('id: 1\ndata: \n\n');
  });

  it('rejects values that cannot be framed', () => {
    expect(() => encodeSseEvent({ event: 'a\nb', data: '' })).toThrow(TypeError);
    expect(() => encodeSseEvent({ id: 'a\rb', data: '' })).toThrow(TypeError);
    expect(() => encodeSseEvent({ id: 'a\0b', data: '' })).toThrow(TypeError);
    expect(() => encodeSseEvent({ retry: 1.5, data: '' })).toThrow(TypeError);
  });
});

describe('encodeSseComment', () => {
  it('writes comment lines that parsers ignore', async () => {
    expect(encodeSseComment('ping')).toBe(': ping\n\n');
    expect(encodeSseComment('a\nb')).toBe(': a\n: b\n\n');
    expect(await parseChunks([encodeSseComment('x\ny'), encodeSseEvent({ data: 'after' })])).toEqual([
      { data: 'after' },
    ]);
  });
});

describe('encoding then parsing', () => {
  const fieldValue = fc.string({ unit: 'binary', minLength: 1 }).filter((s) => !/[\r\n\0]/.test(s));
  const event: fc.Arbitrary<SseEvent> = fc.record(
    {
      event: fieldValue,
      id: fc.string({ unit: 'binary' }).filter((s) => !/[\r\n\0]/.test(s)),
      retry: fc.nat(),
      data: fc.string({ unit: 'binary' }),
    },
    { requiredKeys: ['data'] },
  );

  it('yields the same events wherever the byte stream is cut, with any line end', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(event, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.boolean(),
        fc.constantFrom('\n', '\r', '\r\n'),
        async (events, offsets, withComments, lineEnd) => {
          const text = events
            .map((e) => (withComments ? encodeSseComment('keep-alive') : '') + encodeSseEvent(e))
            .join('')
            .replaceAll('\n', lineEnd);
          const parsed = await parseChunks(cut(utf8(text), offsets));
          expect(parsed).toEqual(events.map((e) => ({ ...e, data: e.data.replace(/\r\n|\r/g, '\n') })));
        },
      ),
      { numRuns: 300 },
    );
  });
});
