/** The JSON-RPC response fields a test looks at. */
export interface RpcMessage {
  id?: string | number | null;
  result?: unknown;
  error?: { code: number; message: string };
}

/** What `readRpcMessage` needs of a response: a fetch Response or Miniflare's. */
export interface RpcAnswer {
  readonly headers: { get(name: string): string | null };
  json(): Promise<unknown>;
  text(): Promise<string>;
}

/**
 * Reads the JSON-RPC response with `id` from a Streamable HTTP answer, whether it came as
 * `application/json` or as an SSE stream. An SSE stream is read to its end, so a relay that
 * does not close after the response makes the test time out instead of passing. Deliberately
 * independent of the gateway's own SSE parser.
 */
export async function readRpcMessage(response: RpcAnswer, id: string | number): Promise<RpcMessage> {
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('text/event-stream')) return (await response.json()) as RpcMessage;
  const text = (await response.text()).replaceAll('\r\n', '\n');
  const messages = text
    .split('\n\n')
    .map(dataOf)
    .filter((data) => data !== '')
    .map((data) => JSON.parse(data) as RpcMessage);
  const answer = messages.find((message) => message.id === id && ('result' in message || 'error' in message));
  if (answer === undefined) {
    throw new Error(`readRpcMessage: the SSE stream ended without a response to id ${String(id)}:\n${text}`);
  }
  return answer;
}

/** The data of one SSE event: its `data:` lines joined with newlines. */
function dataOf(event: string): string {
  return event
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).replace(/^ /, ''))
    .join('\n');
}
