/** The JSON-RPC response fields a test looks at. */
export interface RpcMessage {
  id?: string | number | null;
  result?: unknown;
  error?: { code: number; message: string };
}

/**
 * Reads the JSON-RPC response with `id` from a Streamable HTTP answer, whether it came as
 * `application/json` or as an SSE stream (then read event by event up to that response, and
 * the rest of the stream cancelled). Deliberately independent of the gateway's own SSE parser.
 */
export async function readRpcMessage(response: Response, id: string | number): Promise<RpcMessage> {
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('text/event-stream')) return (await response.json()) as RpcMessage;
  if (response.body === null) throw new Error('readRpcMessage: an SSE answer without a body');

  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += value.replaceAll('\r\n', '\n');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const data = dataOf(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (data === '') continue;
        const message = JSON.parse(data) as RpcMessage;
        if (message.id === id && ('result' in message || 'error' in message)) return message;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  throw new Error(`readRpcMessage: the SSE stream ended without a response to id ${String(id)}`);
}

function dataOf(event: string): string {
  return event
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).replace(/^ /, ''))
    .join('\n');
}
