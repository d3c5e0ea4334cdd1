/**
 * Rewrites JSON-RPC messages in an upstream's response body as Envoy streams it through the
 * processor (ext_proc response body STREAMED after a mode override): SSE event by event, or a
 * JSON body as a whole.
 */

import { concatBytes } from '@mcp-gateway/core/router';

/** A JSON-RPC message as found in a body. */
export type BodyMessage = Record<string, unknown>;

/**
 * What becomes of the messages of one event or body: undefined keeps them byte for byte;
 * otherwise the messages to send in their place (none drops them).
 */
export type MessageRewrite = (messages: readonly BodyMessage[]) => Promise<readonly BodyMessage[] | undefined>;

/** Largest SSE event or JSON body held for rewriting (32 MiB, the broker's answer limit). */
export const MAX_REWRITE_BYTES = 32 * 1024 * 1024;

/** Feeds a body chunk by chunk; each chunk's answer is what Envoy sends on in its place. */
export interface BodyRewriter {
  /**
   * The bytes to send for this chunk: what is complete so far, rewritten; the rest is held back.
   * The chunk itself (the same object) when it goes on exactly as it came.
   */
  push(chunk: Uint8Array, endOfStream: boolean): Promise<Uint8Array>;
}

/** What a rewriter sends when the upstream's body cannot be checked or ends without the call's answer. */
export interface BodyEndings {
  /** The text that replaces everything from an event (or body) larger than the limit on. */
  tooLarge(): string;
  /** The text appended at the end of the body (an error answer when the call had none), or ''. */
  atEnd(): string;
}

const encoder = new TextEncoder();
/** An event ends at a blank line: LF LF, CR CR or CRLF CRLF (and mixes). */
const EVENT_END = /(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)/;

/**
 * Creates the rewriter of one SSE response. Complete events whose data is a JSON-RPC message
 * (or a batch) go through `rewrite`; a rewritten event keeps its other fields (`event`, `id`,
 * `retry`, comments) with the new JSON as its one data line, a dropped one disappears, and an
 * event whose data is not a JSON object or array is dropped too. Events without data pass.
 * Incomplete events wait for the next chunk. An event past `maxBytes` is not passed on: the rest
 * of the stream is replaced by `endings.tooLarge()`, so nothing unchecked reaches the client.
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
export function createSseBodyRewriter(
  rewrite: MessageRewrite,
  endings: BodyEndings,
  maxBytes = MAX_REWRITE_BYTES,
): BodyRewriter {
  const decoder = new TextDecoder();
  let held = '';
  let closed = false;
  // Whether the bytes sent so far end where the upstream's did (nothing held, no split character).
  let aligned = true;
  return {
    async push(chunk, endOfStream) {
      if (closed) return new Uint8Array();
      const startsAligned = aligned;
      held += decoder.decode(chunk, { stream: !endOfStream });
      let out = '';
      let untouched = true;
      for (let match = EVENT_END.exec(held); match !== null; match = EVENT_END.exec(held)) {
        const end = match.index + match[0].length;
        const original = held.slice(0, end);
        const sent = await rewriteEvent(held.slice(0, match.index), original, rewrite);
        if (sent !== original) untouched = false;
        out += sent;
        held = held.slice(end);
      }
      if (held.length > maxBytes) {
        closed = true;
        held = '';
        return encoder.encode(out + endings.tooLarge());
      }
      if (endOfStream) {
        // An unterminated event at the end is discarded, as an SSE parser would.
        if (held !== '') untouched = false;
        held = '';
        const ending = endings.atEnd();
        if (ending !== '') untouched = false;
        out += ending;
      }
      // A chunk that ends at a line break holds no part of a character for the next one.
      const last = chunk.at(-1);
      aligned = held === '' && (last === undefined ? startsAligned : last === 0x0a || last === 0x0d);
      // Whole events, each passed as it came: the chunk itself goes on, not a copy of it.
      if (untouched && startsAligned && aligned) return chunk;
      return encoder.encode(out);
    },
  };
}

/** The event as it must be sent: unchanged, re-encoded with the rewritten messages, or '' when dropped. */
async function rewriteEvent(block: string, original: string, rewrite: MessageRewrite): Promise<string> {
  const lines = block.split(/\r\n|\r|\n/);
  const data: string[] = [];
  const others: string[] = [];
  for (const line of lines) {
    if (line === 'data' || line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    else others.push(line);
  }
  if (data.length === 0) return original;
  const parsed = parseMessages(data.join('\n'));
  if (parsed === undefined) return '';
  const rewritten = await rewrite(parsed.messages);
  if (rewritten === undefined) return original;
  if (rewritten.length === 0) return '';
  const json = parsed.batch ? JSON.stringify(rewritten) : rewritten.map((m) => JSON.stringify(m)).join('\n');
  const kept = others.filter((line) => line !== '');
  if (parsed.batch || rewritten.length === 1) return `${[...kept, `data: ${json}`].join('\n')}\n\n`;
  // One message became several: one event each.
  return rewritten.map((m) => `${[...kept, `data: ${JSON.stringify(m)}`].join('\n')}\n\n`).join('');
}

/**
 * Creates the rewriter of one JSON response: the body is held (empty chunks go out) until its
 * end, then rewritten as a whole: the original bytes when `rewrite` keeps it, else the one
 * message it leaves (a body with none is replaced by `endings.atEnd()`). A body past `maxBytes`
 * is replaced by `endings.tooLarge()`.
 */
export function createJsonBodyRewriter(
  rewrite: MessageRewrite,
  endings: BodyEndings,
  maxBytes = MAX_REWRITE_BYTES,
): BodyRewriter {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let closed = false;
  return {
    async push(chunk, endOfStream) {
      if (closed) return new Uint8Array();
      size += chunk.byteLength;
      if (size > maxBytes) {
        closed = true;
        chunks.length = 0;
        return encoder.encode(endings.tooLarge());
      }
      chunks.push(chunk);
      if (!endOfStream) return new Uint8Array();
      const body = concatBytes(chunks, size);
      const parsed = parseMessages(new TextDecoder().decode(body));
      const rewritten = parsed === undefined ? [] : await rewrite(parsed.messages);
      if (rewritten === undefined && parsed?.batch === false) return body;
      const messages = rewritten ?? parsed?.messages ?? [];
      return encoder.encode(messages.length === 0 ? endings.atEnd() : JSON.stringify(messages[0]));
    },
  };
}

/** The JSON-RPC messages of a JSON text and whether it was a batch; undefined when not a JSON object or array. */
function parseMessages(text: string): { messages: BodyMessage[]; batch: boolean } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (Array.isArray(value)) return { messages: value.filter(isMessage), batch: true };
  return isMessage(value) ? { messages: [value], batch: false } : undefined;
}

function isMessage(value: unknown): value is BodyMessage {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
