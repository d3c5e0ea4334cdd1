/** A JSON-RPC request id. MCP forbids `null` ids on requests. */
export type JsonRpcId = string | number;

/** Structured `params`: by-name (object) or by-position (array). */
export type JsonRpcParams = { [key: string]: unknown } | unknown[];

/**
 * A request: expects exactly one response carrying the same id.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic#requests
 */
export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: JsonRpcParams;
}

/**
 * A notification: a request without an id, never answered.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic#notifications
 */
export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: JsonRpcParams;
}

/**
 * A successful response.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic#responses
 */
export interface JsonRpcSuccess<T = unknown> {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result: T;
}

/** The `error` member of an error response. */
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/**
 * An error response; `id` is null when the request's id could not be read.
 * @see https://www.jsonrpc.org/specification#response_object
 */
export interface JsonRpcErrorResponse {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  error: JsonRpcErrorObject;
}

/** Either kind of response. */
export type JsonRpcResponse = JsonRpcSuccess | JsonRpcErrorResponse;

/** Any single JSON-RPC 2.0 message (batches are not messages: MCP 2025-06-18 removed them). */
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/** What kind of message a valid body holds. */
export type JsonRpcMessageKind = 'request' | 'notification' | 'response';

/**
 * Result of `parseJsonRpcMessage`: the message and its kind, or the JSON-RPC error to answer
 * with (-32700 Parse error or -32600 Invalid Request) and the id to answer to, when one was read.
 */
export type JsonRpcParseResult =
  | { ok: true; kind: JsonRpcMessageKind; message: JsonRpcMessage }
  | { ok: false; code: -32700 | -32600; message: string; id: JsonRpcId | null };

/** Internal outcome of checking a parsed value's shape: its kind, or what is wrong with it. */
type Classification = { kind: JsonRpcMessageKind } | { problem: string };

/**
 * Deepest nesting of arrays and objects accepted in a message: 128 levels. JSON-RPC messages of
 * MCP nest a few levels (tool arguments a few more); much deeper input only serves to exhaust the
 * stack of whoever re-serializes it.
 */
export const MAX_JSON_DEPTH = 128;

/** Longest engine message quoted in a parse error (V8 quotes part of the input). */
const MAX_CAUSE_LENGTH = 160;

// fatal: invalid UTF-8 is a parse error rather than silently replaced; the BOM is stripped.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses one JSON-RPC 2.0 message from a request or response body, parsing the JSON once and
 * returning the parsed object itself (no copy). Never throws: malformed bytes or JSON give
 * -32700, well-formed JSON that is not a single JSON-RPC 2.0 message gives -32600, each with a
 * message naming the cause. A leading byte order mark is ignored. Members beyond those of
 * JSON-RPC are kept. Numeric ids must be finite and within ±(2^53−1), since other numbers
 * cannot be echoed back exactly.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic#messages
 * @see https://www.jsonrpc.org/specification#error_object
 */
export function parseJsonRpcMessage(body: string | Uint8Array): JsonRpcParseResult {
  let text: string;
  if (typeof body === 'string') {
    text = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  } else {
    try {
      text = utf8.decode(body);
    } catch {
      return parseError('Parse error: request body is not valid UTF-8');
    }
  }
  // Nesting d needs at least d bytes: short bodies cannot be too deep.
  if (text.length > MAX_JSON_DEPTH) {
    const deep = scanNesting(text, MAX_JSON_DEPTH);
    if (deep !== undefined) {
      return invalid(`Invalid Request: the JSON nests deeper than the limit of ${MAX_JSON_DEPTH} levels`, deep.id);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // Checked only on failure so that valid bodies are scanned once.
    if (text.trim() === '') return parseError('Parse error: request body is empty');
    return parseError(`Parse error: request body is not valid JSON (${describeCause(error)})`);
  }
  if (Array.isArray(value)) {
    return invalid('Invalid Request: batch requests are not supported (removed in MCP 2025-06-18)', null);
  }
  if (typeof value !== 'object' || value === null) {
    return invalid('Invalid Request: a JSON-RPC message must be a JSON object', null);
  }
  const record = value as Record<string, unknown>;
  const id = isJsonRpcId(record.id) ? record.id : null;
  const outcome = classify(record);
  if ('problem' in outcome) return invalid(`Invalid Request: ${outcome.problem}`, id);
  return { ok: true, kind: outcome.kind, message: value as JsonRpcMessage };
}

/**
 * Builds a success response.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic#responses
 */
export function jsonRpcResult<T>(id: JsonRpcId, result: T): JsonRpcSuccess<T> {
  return { jsonrpc: '2.0', id, result };
}

/**
 * Builds an error response; `data` is included only when given.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic#responses
 */
export function jsonRpcError(
  id: JsonRpcId | null,
  code: number,
  message: string,
  data?: unknown,
): JsonRpcErrorResponse {
  const error: JsonRpcErrorObject = data === undefined ? { code, message } : { code, message, data };
  return { jsonrpc: '2.0', id, error };
}

/** True when `value` is a well-formed JSON-RPC 2.0 request (the checks of `parseJsonRpcMessage`). */
export function isJsonRpcRequest(value: unknown): value is JsonRpcRequest {
  return kindOf(value) === 'request';
}

/** True when `value` is a well-formed JSON-RPC 2.0 notification. */
export function isJsonRpcNotification(value: unknown): value is JsonRpcNotification {
  return kindOf(value) === 'notification';
}

/** True when `value` is a well-formed JSON-RPC 2.0 response (success or error). */
export function isJsonRpcResponse(value: unknown): value is JsonRpcResponse {
  return kindOf(value) === 'response';
}

/** True for a string id or a number that survives a JSON round trip exactly. */
function isJsonRpcId(value: unknown): value is JsonRpcId {
  return (
    typeof value === 'string' ||
    (typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER)
  );
}

function kindOf(value: unknown): JsonRpcMessageKind | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const outcome = classify(value as Record<string, unknown>);
  return 'kind' in outcome ? outcome.kind : undefined;
}

const ID_PROBLEM = 'id must be a string or a number (a number must be finite and within ±(2^53−1))';

// Reads members with `!== undefined` rather than hasOwn: JSON.parse never yields undefined
// and none of these names exists on Object.prototype, while `__proto__` stays an own key.
function classify(message: Record<string, unknown>): Classification {
  if (message.jsonrpc !== '2.0') return { problem: 'jsonrpc must be "2.0"' };
  const { id, method, params, result, error } = message;
  const isResponse = result !== undefined || error !== undefined;
  if (method !== undefined) {
    if (typeof method !== 'string') return { problem: 'method must be a string' };
    if (isResponse) return { problem: 'a message must not have both a method and a result or error' };
    if (params !== undefined && (typeof params !== 'object' || params === null)) {
      return { problem: 'params must be an object or an array' };
    }
    if (id === undefined) return { kind: 'notification' };
    return isJsonRpcId(id) ? { kind: 'request' } : { problem: ID_PROBLEM };
  }
  if (!isResponse) {
    return { problem: 'a message needs a method (request/notification) or result/error (response)' };
  }
  if (result !== undefined && error !== undefined) {
    return { problem: 'a response must not have both result and error' };
  }
  if (id === undefined) return { problem: 'a response needs an id' };
  if (!isJsonRpcId(id) && !(error !== undefined && id === null)) return { problem: ID_PROBLEM };
  if (error !== undefined) {
    const problem = errorObjectProblem(error);
    if (problem !== undefined) return { problem };
  }
  return { kind: 'response' };
}

function errorObjectProblem(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || Array.isArray(error)) return 'error must be an object';
  const { code, message } = error as Record<string, unknown>;
  if (!Number.isSafeInteger(code)) return 'error.code must be an integer';
  if (typeof message !== 'string') return 'error.message must be a string';
  return undefined;
}

/**
 * Scans JSON text for nesting deeper than `limit` without parsing it. Undefined when the text
 * stays within the limit (or is not JSON: the parser says why); otherwise the top-level `id`
 * read on the way, when it came before the point where the limit was passed.
 */
function scanNesting(text: string, limit: number): { id: JsonRpcId | null } | undefined {
  let depth = 0;
  let id: JsonRpcId | null = null;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) {
      const end = stringEnd(text, i);
      if (depth === 1 && id === null && end - i === 3 && text.startsWith('"id"', i)) id = idAfterKey(text, end + 1);
      i = end;
    } else if (code === 0x5b || code === 0x7b) {
      depth += 1;
      if (depth > limit) return { id };
    } else if (code === 0x5d || code === 0x7d) {
      depth -= 1;
    }
  }
  return undefined;
}

/** Index of the quote that closes the string opening at `start` (or the text's end). */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x5c) i += 1;
    else if (code === 0x22) return i;
  }
  return text.length;
}

const SCALAR_ID = /^\s*:\s*("(?:[^"\\]|\\.){0,256}"|-?\d{1,16}(?:\.\d+)?(?:[eE][+-]?\d+)?)/;

/** The id value after a top-level `"id"` key at `from`, when it is a string or a number. */
function idAfterKey(text: string, from: number): JsonRpcId | null {
  const match = SCALAR_ID.exec(text.slice(from, from + 300));
  if (match === null) return null;
  try {
    const value: unknown = JSON.parse(match[1] as string);
    return isJsonRpcId(value) ? value : null;
  } catch {
    return null;
  }
}

function describeCause(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > MAX_CAUSE_LENGTH ? `${text.slice(0, MAX_CAUSE_LENGTH)}…` : text;
}

function parseError(message: string): JsonRpcParseResult {
  return { ok: false, code: -32700, message, id: null };
}

function invalid(message: string, id: JsonRpcId | null): JsonRpcParseResult {
  return { ok: false, code: -32600, message, id };
}

/** A tools/call result reporting a failure to the model as the tool's (`isError: true`), with `message` as its text. */
export function toolErrorResult(message: string): { content: { type: 'text'; text: string }[]; isError: true } {
  return { content: [{ type: 'text', text: message }], isError: true };
}
