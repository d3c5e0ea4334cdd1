import { concatBytes } from './bytes.ts';

/**
 * One dispatched Server-Sent Event. `event` is absent for the default type ("message");
 * `id` and `retry` are present only when the event's own block set them.
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
export interface SseEvent {
  event?: string;
  data: string;
  id?: string;
  retry?: number;
}

/** Options of `createSseParser`. */
export interface SseParserOptions {
  /** Largest event, in bytes of its field lines plus any partial line; default DEFAULT_MAX_SSE_EVENT_BYTES. */
  maxEventBytes?: number;
}

/** Default `maxEventBytes`: 1 MiB. */
export const DEFAULT_MAX_SSE_EVENT_BYTES = 1024 * 1024;

/**
 * Limit for events that carry whole JSON-RPC answers relayed or read from upstreams (tool
 * results with images, large lists): 32 MiB. Bounded, but well above what a tool returns.
 */
export const MAX_ANSWER_EVENT_BYTES = 32 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;

/**
 * Creates a stream that turns the bytes of a `text/event-stream` body into events, following
 * the WHATWG event stream interpretation: LF, CR and CRLF line ends (also when a CRLF is split
 * across chunks), one leading BOM ignored, comment lines ignored, a field without a colon has an
 * empty value, one space after the colon is removed, data lines joined with "\n", an event
 * dispatched only on a blank line and only when it had a `data` line, `id` values containing
 * NUL and non-digit `retry` values ignored, unknown fields ignored, and an unterminated event at
 * the end of the stream discarded. Lines are split on bytes (CR and LF never occur inside a UTF-8
 * sequence) and decoded whole, so characters split across chunks decode correctly; invalid
 * UTF-8 becomes U+FFFD.
 *
 * Per spec the last event id persists across events; here each event carries only the `id` its
 * own block set, so consumers that resume (Last-Event-ID) keep the last one they saw.
 *
 * The stream errors when an event (its field lines plus any unfinished line) exceeds
 * `maxEventBytes`; comment lines do not count once complete.
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#streamable-http
 */
export function createSseParser(options: SseParserOptions = {}): TransformStream<Uint8Array, SseEvent> {
  const maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_SSE_EVENT_BYTES;
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let partial: Uint8Array[] = [];
  let partialBytes = 0;
  let skipLeadingLf = false;
  let firstLine = true;
  let eventBytes = 0;
  let data: string | undefined;
  let eventType = '';
  let id: string | undefined;
  let retry: number | undefined;

  function dispatch(controller: TransformStreamDefaultController<SseEvent>): void {
    if (data !== undefined) {
      const event: SseEvent = { data };
      if (eventType !== '') event.event = eventType;
      if (id !== undefined) event.id = id;
      if (retry !== undefined) event.retry = retry;
      controller.enqueue(event);
    }
    data = undefined;
    eventType = '';
    id = undefined;
    retry = undefined;
    eventBytes = 0;
  }

  function processLine(line: Uint8Array, controller: TransformStreamDefaultController<SseEvent>): void {
    let start = 0;
    if (firstLine) {
      firstLine = false;
      if (line[0] === 0xef && line[1] === 0xbb && line[2] === 0xbf) start = 3;
    }
    if (start === line.length) return dispatch(controller);
    if (line[start] === COLON) return;
    eventBytes += line.length - start;
    if (eventBytes > maxEventBytes) throw tooLarge(maxEventBytes);
    const colon = line.indexOf(COLON, start);
    const nameEnd = colon === -1 ? line.length : colon;
    const field = fieldAt(line, start, nameEnd);
    if (field === undefined) return;
    let valueStart = colon === -1 ? line.length : colon + 1;
    if (line[valueStart] === 0x20) valueStart += 1;
    applyField(field, decoder.decode(line.subarray(valueStart)));
  }

  function applyField(field: SseField, value: string): void {
    switch (field) {
      case 'data':
        data = data === undefined ? value : `${data}\n${value}`;
        break;
      case 'event':
        eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) id = value;
        break;
      case 'retry':
        if (isAsciiDigits(value)) retry = Number(value);
        break;
    }
  }

  function takeLine(chunk: Uint8Array, start: number, end: number): Uint8Array {
    if (partial.length === 0) return chunk.subarray(start, end);
    partial.push(chunk.subarray(start, end));
    const line = concatBytes(partial, partialBytes + end - start);
    partial = [];
    partialBytes = 0;
    return line;
  }

  return new TransformStream<Uint8Array, SseEvent>({
    transform(chunk, controller) {
      let start = 0;
      if (skipLeadingLf && chunk.length > 0) {
        skipLeadingLf = false;
        if (chunk[0] === LF) start = 1;
      }
      // Next CR and LF positions are cached so each byte is searched once.
      let nextCr = chunk.indexOf(CR, start);
      let nextLf = chunk.indexOf(LF, start);
      while (nextCr !== -1 || nextLf !== -1) {
        const end = nextCr === -1 ? nextLf : nextLf === -1 ? nextCr : Math.min(nextCr, nextLf);
        processLine(takeLine(chunk, start, end), controller);
        start = end + 1;
        if (end === nextCr) {
          if (start === chunk.length) skipLeadingLf = true;
          else if (chunk[start] === LF) start += 1;
        }
        if (nextCr !== -1 && nextCr < start) nextCr = chunk.indexOf(CR, start);
        if (nextLf !== -1 && nextLf < start) nextLf = chunk.indexOf(LF, start);
      }
      if (start < chunk.length) {
        // Copied: the caller may reuse the chunk's buffer once transform returns.
        partial.push(chunk.slice(start));
        partialBytes += chunk.length - start;
        if (eventBytes + partialBytes > maxEventBytes) throw tooLarge(maxEventBytes);
      }
    },
    flush() {
      // The spec discards an event that the stream ends before its blank line.
      partial = [];
      data = undefined;
    },
  });
}

/**
 * Encodes one event as `event`, `id`, `retry` and `data` lines followed by a blank line.
 * Data containing line breaks (CRLF, CR or LF) becomes several `data:` lines, which a parser
 * joins back with "\n"; empty data is sent as one empty `data:` line, so the event is dispatched.
 * @throws TypeError when `event` or `id` contains CR or LF (or `id` NUL), or `retry` is not a
 *   non-negative integer: such values cannot be framed.
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
export function encodeSseEvent(event: SseEvent): string {
  let out = '';
  if (event.event !== undefined) {
    assertFieldValue('event', event.event, false);
    out += `event: ${event.event}\n`;
  }
  if (event.id !== undefined) {
    assertFieldValue('id', event.id, true);
    out += `id: ${event.id}\n`;
  }
  if (event.retry !== undefined) {
    if (!Number.isSafeInteger(event.retry) || event.retry < 0) {
      throw new TypeError('SSE retry must be a non-negative integer');
    }
    out += `retry: ${event.retry}\n`;
  }
  return `${out}${prefixLines('data: ', event.data)}\n`;
}

/**
 * Encodes a comment (ignored by parsers; used as a keep-alive), one `:` line per line of `text`,
 * followed by a blank line so that buffering intermediaries forward it at once.
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
export function encodeSseComment(text: string): string {
  return `${prefixLines(': ', text)}\n`;
}

type SseField = 'data' | 'event' | 'id' | 'retry';

const FIELD_NAMES: readonly SseField[] = ['data', 'event', 'id', 'retry'];
const FIELD_BYTES = FIELD_NAMES.map((name) => new TextEncoder().encode(name));

/** The known field named by `line[start, end)`, compared as bytes so unknown names are never decoded. */
function fieldAt(line: Uint8Array, start: number, end: number): SseField | undefined {
  const length = end - start;
  for (let f = 0; f < FIELD_BYTES.length; f++) {
    const bytes = FIELD_BYTES[f]!;
    if (bytes.length !== length) continue;
    let i = 0;
    while (i < length && line[start + i] === bytes[i]) i++;
    if (i === length) return FIELD_NAMES[f];
  }
  return undefined;
}

function prefixLines(prefix: string, text: string): string {
  if (!text.includes('\n') && !text.includes('\r')) return `${prefix}${text}\n`;
  let out = '';
  for (const line of text.split(LINE_BREAK)) out += `${prefix}${line}\n`;
  return out;
}

const LINE_BREAK = /\r\n|\r|\n/;

function assertFieldValue(field: string, value: string, forbidNul: boolean): void {
  if (value.includes('\n') || value.includes('\r') || (forbidNul && value.includes('\0'))) {
    throw new TypeError(`SSE ${field} must not contain line breaks${forbidNul ? ' or NUL' : ''}`);
  }
}

function isAsciiDigits(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

function tooLarge(limit: number): Error {
  return new RangeError(`SSE event exceeds maxEventBytes (${limit} bytes); the stream was stopped`);
}
