// Reading what the gateway answered, independently of the gateway's own parsers: every JSON-RPC
// message of a JSON or SSE body, and the problems that make an answer ill-formed (the brief's
// rules for fuzzed input, C).

/** A JSON-RPC message as read from an answer. */
export type RpcMessage = Record<string, unknown>;

/** One HTTP answer, read whole. */
export interface Answer {
  readonly status: number;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
  /** Every JSON-RPC message of the body (a JSON batch flattened, SSE event by event); [] when unreadable. */
  readonly messages: readonly RpcMessage[];
}

/** Something fetch-like answered: a Response of undici or of Miniflare. */
export interface ResponseLike {
  readonly status: number;
  readonly headers: { forEach(callback: (value: string, name: string) => void): void };
  text(): Promise<string>;
}

/** Reads a response whole into an {@link Answer}. */
export async function readAnswer(response: ResponseLike): Promise<Answer> {
  const text = await response.text();
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => (headers[name.toLowerCase()] = value));
  return toAnswer(response.status, headers, text);
}

/** An {@link Answer} from its parts. */
export function toAnswer(status: number, headers: Record<string, string>, text: string): Answer {
  return { status, headers, text, messages: messagesOf(headers['content-type'] ?? '', text) };
}

/** The JSON-RPC messages of a body; unparseable parts are left out (see {@link answerProblems}). */
export function messagesOf(contentType: string, text: string): RpcMessage[] {
  const values = contentType.includes('text/event-stream')
    ? sseData(text).map(parseOrUndefined)
    : [parseOrUndefined(text)];
  return values.flatMap((value) => (Array.isArray(value) ? value : [value])).filter(isObject);
}

/** The data of each SSE event of `text` (its `data:` lines joined with newlines); events without data left out. */
export function sseData(text: string): string[] {
  return text
    .replaceAll('\r\n', '\n')
    .replaceAll('\r', '\n')
    .split('\n\n')
    .map((event) =>
      event
        .split('\n')
        .filter((line) => line === 'data' || line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n'),
    )
    .filter((data) => data !== '');
}

/** The responses (result or error) among `messages`. */
export function responsesOf(messages: readonly RpcMessage[]): RpcMessage[] {
  return messages.filter((m) => !('method' in m) && ('result' in m || 'error' in m));
}

/** The notifications among `messages`. */
export function notificationsOf(messages: readonly RpcMessage[], method?: string): RpcMessage[] {
  return messages.filter(
    (m) => typeof m['method'] === 'string' && !('id' in m) && (method ?? m['method']) === m['method'],
  );
}

/** The server-to-client requests among `messages`. */
export function serverRequestsOf(messages: readonly RpcMessage[]): RpcMessage[] {
  return messages.filter((m) => typeof m['method'] === 'string' && 'id' in m);
}

/** HTTP statuses a well-formed answer to any POST may have (brief C). */
export const ALLOWED_STATUSES: ReadonlySet<number> = new Set([200, 202, 400, 403, 404, 405, 406, 413, 415]);

/**
 * Statuses answered before the body is read (origin, method, size, media type, accept): their
 * JSON-RPC error may carry `id: null` even when the body had an id.
 */
const REFUSED_UNREAD: ReadonlySet<number> = new Set([403, 405, 406, 413, 415]);

/** What the request said, for checking its answer. */
export interface SentRequest {
  /** The id of the request when it had a valid one (a string, or a number within ±(2^53−1)); undefined otherwise. */
  readonly id: string | number | undefined;
  /**
   * The body is a response of the client's (no method, a result or an error): its id names no
   * request of the client's, so an error about it may carry that id or null.
   */
  readonly response?: boolean;
}

/** Whether a body is a response of the client's (see SentRequest.response). */
export function isClientResponse(body: string | Uint8Array): boolean {
  let text: string;
  try {
    text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return false;
  }
  const value = parseOrUndefined(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  return isObject(value) && !Array.isArray(value) && !('method' in value) && ('result' in value || 'error' in value);
}

/**
 * The id a body carries, read as a JSON-RPC peer reads it (UTF-8, a leading BOM ignored, the last
 * of duplicate keys wins); undefined when the body is not a JSON object or the id is not valid.
 */
export function readableId(body: string | Uint8Array): string | number | undefined {
  let text: string;
  try {
    text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return undefined;
  }
  const value = parseOrUndefined(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  if (!isObject(value) || Array.isArray(value)) return undefined;
  const id = value['id'];
  if (typeof id === 'string') return id;
  if (typeof id === 'number' && Number.isFinite(id) && Math.abs(id) <= Number.MAX_SAFE_INTEGER) return id;
  return undefined;
}

/**
 * Every way `answer` breaks the brief's rules for an answer to `sent`: a status outside
 * {@link ALLOWED_STATUSES}; a body that is neither empty, JSON, nor SSE whose every event's data
 * is JSON; a JSON batch; a JSON-RPC response without jsonrpc "2.0", with both or neither of
 * result/error, a non-integer error.code or non-string error.message, or an id other than the
 * request's (null only when the request's id could not be read, or the request was refused
 * before its body was read). Empty when the answer is well-formed.
 */
export function answerProblems(answer: Answer, sent: SentRequest): string[] {
  const problems: string[] = [];
  if (!ALLOWED_STATUSES.has(answer.status)) problems.push(`HTTP status ${answer.status}`);
  const type = answer.headers['content-type'] ?? '';
  if (answer.text === '') return problems;
  let values: unknown[];
  if (type.includes('text/event-stream')) {
    values = [];
    for (const data of sseData(answer.text)) {
      const value = parseOrUndefined(data);
      if (value === undefined) problems.push('an SSE event whose data is not JSON');
      else values.push(value);
    }
  } else {
    const value = parseOrUndefined(answer.text);
    if (value === undefined) {
      problems.push(`a body of type ${JSON.stringify(type)} that is not JSON`);
      return problems;
    }
    values = [value];
  }
  for (const value of values) {
    if (Array.isArray(value)) {
      problems.push('a JSON array (batch) answer');
      continue;
    }
    if (!isObject(value)) {
      problems.push('a JSON value that is not a message');
      continue;
    }
    problems.push(...messageProblems(value, sent, REFUSED_UNREAD.has(answer.status)));
  }
  return problems;
}

function messageProblems(message: RpcMessage, sent: SentRequest, refusedUnread: boolean): string[] {
  const problems: string[] = [];
  if (message['jsonrpc'] !== '2.0') problems.push('a message without jsonrpc "2.0"');
  if (typeof message['method'] === 'string') return problems; // a notification or server-to-client request
  const hasResult = 'result' in message;
  const hasError = 'error' in message;
  if (hasResult === hasError) problems.push(`a response with ${hasResult ? 'both' : 'neither'} result and error`);
  if (hasError) {
    const error = message['error'];
    if (!isObject(error)) problems.push('an error that is not an object');
    else {
      if (!Number.isInteger(error['code']))
        problems.push(`an error.code that is not an integer: ${String(error['code'])}`);
      if (typeof error['message'] !== 'string') problems.push('an error.message that is not a string');
    }
  }
  const id = message['id'];
  if (sent.id === undefined) {
    if (id !== null) problems.push(`a response id ${JSON.stringify(id)} to a request whose id could not be read`);
  } else if (id !== sent.id && !((refusedUnread || sent.response === true) && id === null)) {
    problems.push(`a response id ${JSON.stringify(id)} to a request with id ${JSON.stringify(sent.id)}`);
  }
  return problems;
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
