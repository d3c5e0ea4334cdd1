/**
 * A small Server-Sent Events reader private to the upstream client, kept until
 * `protocol/sse.ts` (`createSseParser`) lands; it has the same shape so the switch is one import.
 */

/** One dispatched SSE event. `data` lines are joined with "\n". */
export interface UpstreamSseEvent {
  event?: string;
  data: string;
  id?: string;
  retry?: number;
}

/** Longest line accepted, matching the anchor's 1 MiB SSE line limit. */
export const MAX_SSE_LINE_CHARS = 1024 * 1024;

/**
 * A TransformStream that turns SSE bytes into events. Comment lines (`: keepalive`) are skipped;
 * an event is emitted for every block that set any field, so an id-only priming event (data "")
 * still surfaces its id. A line longer than {@link MAX_SSE_LINE_CHARS} errors the stream.
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 * @see MCP 2025-11-25 basic/transports §Streamable HTTP (SSE polling, priming event)
 */
export function createUpstreamSseParser(): TransformStream<Uint8Array, UpstreamSseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let pending: UpstreamSseEvent | undefined;
  let dataLines: string[] = [];

  const takeLine = (line: string, emit: (event: UpstreamSseEvent) => void): void => {
    if (line === '') {
      if (pending !== undefined) {
        pending.data = dataLines.join('\n');
        emit(pending);
      }
      pending = undefined;
      dataLines = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    pending ??= { data: '' };
    if (field === 'data') dataLines.push(value);
    else if (field === 'event') pending.event = value;
    else if (field === 'id' && !value.includes('\0')) pending.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) pending.retry = Number(value);
  };

  const drain = (emit: (event: UpstreamSseEvent) => void, final: boolean): void => {
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer);
      // A lone trailing "\r" may be the first half of "\r\n": wait for the next chunk.
      if (match === null || (!final && match[0] === '\r' && match.index === buffer.length - 1)) break;
      takeLine(buffer.slice(0, match.index), emit);
      buffer = buffer.slice(match.index + match[0].length);
    }
    if (buffer.length > MAX_SSE_LINE_CHARS) throw new Error(`SSE line longer than ${MAX_SSE_LINE_CHARS} characters`);
  };

  return new TransformStream<Uint8Array, UpstreamSseEvent>({
    transform(chunk, controller) {
      buffer += decoder.decode(chunk, { stream: true });
      drain((event) => controller.enqueue(event), false);
    },
    flush(controller) {
      buffer += decoder.decode();
      drain((event) => controller.enqueue(event), true);
      // An unterminated final block is incomplete by the spec and is dropped.
    },
  });
}
