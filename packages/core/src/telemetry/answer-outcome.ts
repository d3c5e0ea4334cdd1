import type { CallOutcome } from './gateway-metrics.ts';

/** How an upstream's answer to a call went, as metrics count it and spans record it. */
export interface AnswerOutcome {
  readonly outcome: CallOutcome;
  /** `error.type`: the JSON-RPC error code, or `tool_error` for a tool result with `isError`. */
  readonly errorType?: string;
  /** The JSON-RPC error code (`rpc.response.status_code`), for an error answer. */
  readonly code?: number;
}

const OK: AnswerOutcome = Object.freeze({ outcome: 'ok' });
const TOOL_ERROR: AnswerOutcome = Object.freeze({ outcome: 'tool_error', errorType: 'tool_error' });

/**
 * A call's answer judged: a JSON-RPC error is `error` (its code the error type), a tool result
 * with `isError: true` is `tool_error` (the tool ran and failed), anything else `ok`.
 * @see https://opentelemetry.io/docs/specs/semconv/gen-ai/mcp/ (error.type)
 */
export function answerOutcome(answer: Readonly<Record<string, unknown>>): AnswerOutcome {
  const error = answer['error'];
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'number' && Number.isInteger(code)
      ? { outcome: 'error', errorType: String(code), code }
      : { outcome: 'error', errorType: 'jsonrpc_error' };
  }
  const result = answer['result'];
  return typeof result === 'object' && result !== null && (result as { isError?: unknown }).isError === true
    ? TOOL_ERROR
    : OK;
}
