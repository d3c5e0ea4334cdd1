/**
 * The ext_proc messages this processor reads and writes, as plain objects in proto-loader's
 * shape (snake_case fields, bytes as Uint8Array, only the fields that are set), and the
 * builders the translators share.
 * @see https://www.envoyproxy.io/docs/envoy/latest/api-v3/service/ext_proc/v3/external_processor.proto
 */
import { isGatewayError, NOOP_LOGGER, type Logger } from '@mcp-gateway/core';
import { toJsonRpcError, type ForwardPlan, type JsonRpcId } from '@mcp-gateway/core/router';

/** core.v3.HeaderValue. Envoy reads and writes `raw_value` only; `value` is never set. */
export interface HeaderValue {
  readonly key: string;
  readonly raw_value: Uint8Array;
}

/** core.v3.HeaderValueOption; ext_proc treats an absent `append` as overwrite. */
export interface HeaderValueOption {
  readonly header: HeaderValue;
}

/** ext_proc.v3.HeaderMutation. */
export interface HeaderMutation {
  readonly set_headers?: readonly HeaderValueOption[];
  readonly remove_headers?: readonly string[];
}

/** ext_proc.v3.CommonResponse (status CONTINUE, the default, is left out). */
export interface CommonResponse {
  readonly header_mutation?: HeaderMutation;
  readonly body_mutation?: { readonly body: Uint8Array };
  readonly clear_route_cache?: boolean;
}

/** ext_proc.v3.ImmediateResponse: a local reply Envoy sends instead of forwarding. */
export interface ImmediateResponse {
  /** type.v3.HttpStatus; enum values are the HTTP codes. */
  readonly status: { readonly code: number };
  readonly headers?: HeaderMutation;
  readonly body: Uint8Array;
  readonly details: string;
}

/**
 * google.protobuf.Value, in the shapes this processor emits. Its member names are camelCase
 * even with `keepCase`: proto-loader takes the well-known types from protobufjs' bundled JSON
 * copies, which name them so (the wire format depends on field numbers only).
 */
export type StructValue = { readonly stringValue: string } | { readonly structValue: Struct };

/** google.protobuf.Struct. */
export interface Struct {
  readonly fields: Readonly<Record<string, StructValue>>;
}

/**
 * ext_proc.v3.ProcessingMode as a `mode_override` (honoured on a headers answer only, with
 * `allow_mode_override`). Enum members by name. It replaces the whole mode; members left out are
 * 0 (headers DEFAULT, that is sent; bodies NONE; trailers not sent). On the response headers
 * only the response body's mode still matters.
 */
export interface ProcessingModeOverride {
  readonly response_header_mode?: 'SEND' | 'SKIP';
  readonly request_body_mode?: 'NONE' | 'BUFFERED';
  readonly response_body_mode?: 'NONE' | 'STREAMED' | 'BUFFERED';
}

/** ext_proc.v3.ProcessingResponse: exactly one of the phase members (or an immediate response). */
export type ProcessingResponse = (
  | { readonly request_headers: { readonly response?: CommonResponse } }
  | { readonly request_body: { readonly response?: CommonResponse } }
  | { readonly response_headers: { readonly response?: CommonResponse } }
  | { readonly response_body: { readonly response?: CommonResponse } }
  | { readonly immediate_response: ImmediateResponse }
) & { readonly dynamic_metadata?: Struct; readonly mode_override?: ProcessingModeOverride };

/** ext_proc.v3.HttpHeaders as decoded: header values arrive in `raw_value`. */
export interface HttpHeaders {
  readonly headers?: { readonly headers?: readonly IncomingHeaderValue[] };
  readonly end_of_stream?: boolean;
}

/** A decoded core.v3.HeaderValue; older Envoys may still fill `value`. */
export interface IncomingHeaderValue {
  readonly key: string;
  readonly value?: string;
  readonly raw_value?: Uint8Array;
}

/** ext_proc.v3.HttpBody as decoded. */
export interface HttpBody {
  readonly body?: Uint8Array;
  readonly end_of_stream?: boolean;
}

/** Namespace of the dynamic metadata the processor publishes (Envoy RBAC, ext_authz, access logs). */
export const METADATA_NAMESPACE = 'mcp-gateway';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A header to set, its value as `raw_value` bytes. */
export function setHeader(key: string, value: string): HeaderValueOption {
  return { header: { key, raw_value: encoder.encode(value) } };
}

/**
 * Reads a decoded header map into a map by lower-case name (web Headers would refuse the
 * pseudo-headers `:authority`, `:path`, `:status`); `raw_value` wins over `value`, and
 * repeated headers are joined with ', '.
 */
export function toHeaders(message: HttpHeaders): Map<string, string> {
  const headers = new Map<string, string>();
  for (const entry of message.headers?.headers ?? []) {
    const value =
      entry.raw_value !== undefined && entry.raw_value.length > 0
        ? decoder.decode(entry.raw_value)
        : (entry.value ?? '');
    const key = entry.key.toLowerCase();
    const previous = headers.get(key);
    headers.set(key, previous === undefined ? value : `${previous}, ${value}`);
  }
  return headers;
}

/**
 * A local reply with a plain-text body, as the anchor's router answers errors.
 * `details` (Envoy's response code details) carries the same text for access logs.
 */
export function immediateResponse(code: number, text: string): ProcessingResponse {
  return {
    immediate_response: {
      status: { code },
      headers: { set_headers: [setHeader('content-type', 'text/plain; charset=utf-8')] },
      body: encoder.encode(text),
      details: `ext_proc: ${text}`.slice(0, 200).replace(/[^\x21-\x7e]/g, '_'),
    },
  };
}

/** Dynamic metadata under {@link METADATA_NAMESPACE}, one string field per routing fact. */
export function routingMetadata(facts: Readonly<Record<string, string | undefined>>): Struct {
  const fields: Record<string, StructValue> = {};
  for (const [key, value] of Object.entries(facts)) {
    if (value !== undefined) fields[key] = { stringValue: value };
  }
  return { fields: { [METADATA_NAMESPACE]: { structValue: { fields } } } };
}

/**
 * The metadata of a call routed to an upstream: method, server, the item it names (`tool`,
 * `prompt` or `resource`, without the prefix) and, for a legacy call, the gateway session's jti.
 */
export function routedCallMetadata(plan: ForwardPlan, session?: string): Struct {
  return routingMetadata({
    method: plan.method,
    server: plan.server.name,
    ...(plan.target !== undefined && { [plan.target.kind]: plan.target.name }),
    session,
  });
}

/**
 * A refusal as Envoy's local reply, the broker's answer to the same request: the error's HTTP
 * status and its JSON-RPC error (with `id` when known). An unexpected error is a 500 naming a
 * reference, its details in the log only.
 */
export function refusalResponse(
  error: unknown,
  id: JsonRpcId | null,
  logger: Logger = NOOP_LOGGER,
  headers: Readonly<Record<string, string>> = {},
): ProcessingResponse {
  const status = isGatewayError(error) && error.expose ? error.status : 500;
  const body = { jsonrpc: '2.0', id, error: toJsonRpcError(error, logger) };
  const code = isGatewayError(error) ? error.code : 'INTERNAL';
  return {
    immediate_response: {
      status: { code: status },
      headers: {
        set_headers: [
          setHeader('content-type', 'application/json'),
          ...Object.entries(headers).map(([name, value]) => setHeader(name, value)),
        ],
      },
      body: encoder.encode(JSON.stringify(body)),
      details: `ext_proc: ${code}`,
    },
  };
}
