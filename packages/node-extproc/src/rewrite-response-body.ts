/**
 * Rewrites JSON-RPC messages in an upstream's response body as Envoy streams it through the
 * processor (ext_proc response body STREAMED after a mode override, or BUFFERED for JSON).
 */

/** Returns the message as the client must see it, or undefined to pass it unchanged. */
export type MessageRewrite = (message: Record<string, unknown>) => Promise<Record<string, unknown> | undefined>;

/** Largest SSE event held back for rewriting (32 MiB, the broker's answer limit); larger ones pass through unchanged. */
export const MAX_REWRITE_EVENT_BYTES = 32 * 1024 * 1024;

/** Feeds an SSE body chunk by chunk; each chunk's answer is what Envoy sends on in its place. */
export interface SseBodyRewriter {
  /** The bytes to send for this chunk: the complete events so far, rewritten; the rest is held back. */
  push(chunk: Uint8Array, endOfStream: boolean): Promise<Uint8Array>;
}

const encoder = new TextEncoder();
/** An event ends at a blank line: LF LF, CR CR or CRLF CRLF (and mixes). */
const EVENT_END = /(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)/;

/**
 * Creates the rewriter of one SSE response. Complete events whose data is one JSON object are
 * given to `rewrite`; a rewritten event keeps its other fields (`event`, `id`, `retry`,
 * comments) and gets the new JSON as its one data line. Incomplete events wait for the next
 * chunk (an event split across chunks reaches the client when it is whole); one past
 * `maxEventBytes` is passed on unchanged and rewriting stops, so memory stays bounded. At the
 * end of the stream whatever is held goes out unchanged.
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
export function createSseBodyRewriter(
  rewrite: MessageRewrite,
  maxEventBytes = MAX_REWRITE_EVENT_BYTES,
): SseBodyRewriter {
  const decoder = new TextDecoder();
  let held = '';
  let passThrough = false;
  return {
    async push(chunk, endOfStream) {
      if (passThrough) return chunk;
      held += decoder.decode(chunk, { stream: !endOfStream });
      let out = '';
      for (let match = EVENT_END.exec(held); match !== null; match = EVENT_END.exec(held)) {
        const end = match.index + match[0].length;
        out += (await rewriteEvent(held.slice(0, match.index), rewrite)) ?? held.slice(0, end);
        held = held.slice(end);
      }
      if (endOfStream || held.length > maxEventBytes) {
        out += held;
        held = '';
        passThrough = !endOfStream;
      }
      return encoder.encode(out);
    },
  };
}

/** The event re-encoded with the rewritten message (ending in a blank line), or undefined to keep it. */
async function rewriteEvent(block: string, rewrite: MessageRewrite): Promise<string | undefined> {
  const lines = block.split(/\r\n|\r|\n/);
  const data: string[] = [];
  const others: string[] = [];
  for (const line of lines) {
    if (line === 'data' || line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    else others.push(line);
  }
  if (data.length === 0) return undefined;
  const message = parseObject(data.join('\n'));
  if (message === undefined) return undefined;
  const rewritten = await rewrite(message);
  if (rewritten === undefined) return undefined;
  return `${[...others, `data: ${JSON.stringify(rewritten)}`].join('\n')}\n\n`;
}

/**
 * Rewrites a whole JSON body (one JSON-RPC message); undefined when there is nothing to change
 * (not a JSON object, or `rewrite` keeps it).
 */
export async function rewriteJsonBody(body: Uint8Array, rewrite: MessageRewrite): Promise<Uint8Array | undefined> {
  const message = parseObject(new TextDecoder().decode(body));
  if (message === undefined) return undefined;
  const rewritten = await rewrite(message);
  return rewritten === undefined ? undefined : encoder.encode(JSON.stringify(rewritten));
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
