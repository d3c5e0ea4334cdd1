/**
 * The gateway's error family. Core returns or throws these; exactly one place maps them to
 * JSON-RPC errors (`toJsonRpcError`) and one to HTTP responses (the broker's error responder).
 * Upstream JSON-RPC errors are not GatewayErrors: they pass through untouched.
 */
export const ERROR_CODES = {
  PARSE_ERROR: { http: 400, rpc: -32700 },
  INVALID_REQUEST: { http: 400, rpc: -32600 },
  METHOD_NOT_FOUND: { http: 200, rpc: -32601 },
  /** A modern (2026-07-28) request for a method the gateway does not know: HTTP 404. */
  MODERN_METHOD_NOT_FOUND: { http: 404, rpc: -32601 },
  INVALID_PARAMS: { http: 200, rpc: -32602 },
  TOOL_NOT_FOUND: { http: 200, rpc: -32602 },
  PROMPT_NOT_FOUND: { http: 200, rpc: -32602 },
  RESOURCE_NOT_FOUND: { http: 200, rpc: -32602 },
  SESSION_REQUIRED: { http: 400, rpc: -32600 },
  /** No or a bad bearer token while token verification is on (with a WWW-Authenticate challenge). */
  UNAUTHORIZED: { http: 401, rpc: -32001 },
  /** A valid token without the required scopes. */
  INSUFFICIENT_SCOPE: { http: 403, rpc: -32003 },
  /** The issuer's keys cannot be fetched and none are cached: tokens cannot be checked. */
  AUTH_UNAVAILABLE: { http: 503, rpc: -32603 },
  /** The caller may not call, get or read this item (policy, trusted header or virtual server). */
  ACCESS_DENIED: { http: 200, rpc: -32003 },
  SESSION_NOT_FOUND: { http: 404, rpc: -32001 },
  SESSION_EXPIRED: { http: 404, rpc: -32001 },
  BODY_TOO_LARGE: { http: 413, rpc: -32600 },
  ORIGIN_FORBIDDEN: { http: 403, rpc: -32600 },
  NOT_ACCEPTABLE: { http: 406, rpc: -32600 },
  UNSUPPORTED_MEDIA_TYPE: { http: 415, rpc: -32600 },
  METHOD_NOT_ALLOWED: { http: 405, rpc: -32600 },
  UNSUPPORTED_PROTOCOL_VERSION: { http: 400, rpc: -32022 },
  HEADER_MISMATCH: { http: 400, rpc: -32020 },
  /** A 2026-07-28 request whose `_meta` envelope is missing or malformed: HTTP 400, invalid params. */
  ENVELOPE_INVALID: { http: 400, rpc: -32602 },
  MISSING_CLIENT_CAPABILITY: { http: 400, rpc: -32021 },
  UPSTREAM_UNAVAILABLE: { http: 502, rpc: -32603 },
  UPSTREAM_TIMEOUT: { http: 504, rpc: -32603 },
  UPSTREAM_PROTOCOL_ERROR: { http: 502, rpc: -32603 },
  /** The caller's token could not be exchanged for one for the upstream (RFC 8693): nothing is forwarded. */
  TOKEN_EXCHANGE_FAILED: { http: 502, rpc: -32603 },
  /**
   * The upstream takes each user's own credential and the caller has none stored: the user opens
   * the URL in `data.elicitations` (MCP URL elicitation) and the client retries.
   */
  URL_ELICITATION_REQUIRED: { http: 200, rpc: -32042 },
  /** The upstream takes each user's own credential and this caller cannot have one (no identity to bind it to). */
  USER_CREDENTIAL_UNAVAILABLE: { http: 200, rpc: -32001 },
  STORE_UNAVAILABLE: { http: 503, rpc: -32603 },
  /** A pinned server's tool while its pin store cannot be read (fail closed): a JSON-RPC error, HTTP 200. */
  PIN_STORE_UNAVAILABLE: { http: 200, rpc: -32603 },
  /** A pinned tool whose changed definition awaits the operator's approval and is withheld. */
  TOOL_QUARANTINED: { http: 200, rpc: -32602 },
  /** A call over the caller's quota (docs/configuration.md#quotas): when to retry is in `data`. */
  RATE_LIMITED: { http: 200, rpc: -32029 },
  /**
   * A call that needed the user's confirmation and did not get it (declined, cancelled, no
   * answer in time, a client that cannot elicit): not forwarded; `data.confirmation` says which.
   */
  CONFIRMATION_DECLINED: { http: 200, rpc: -32030 },
  /** A 2026-07-28 retry whose confirmation (`requestState`) is forged, expired or for another call. */
  CONFIRMATION_INVALID: { http: 200, rpc: -32602 },
  CONFIG_INVALID: { http: 500, rpc: -32603 },
  INTERNAL: { http: 500, rpc: -32603 },
} as const;

/** Stable string code of a GatewayError. */
export type GatewayErrorCode = keyof typeof ERROR_CODES;

/** Options of a GatewayError beyond its code and message. */
export interface GatewayErrorOptions {
  /** Whether the message may be shown to the client. Defaults to true except for INTERNAL. */
  expose?: boolean;
  /** Structured `data` for the JSON-RPC error object (exposed errors only). */
  data?: unknown;
  cause?: unknown;
}

/** An error with a stable code, an HTTP status and a JSON-RPC code. */
export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  readonly status: number;
  readonly rpcCode: number;
  readonly expose: boolean;
  readonly data: unknown;

  constructor(code: GatewayErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = ERROR_CODES[code].http;
    this.rpcCode = ERROR_CODES[code].rpc;
    this.expose = options.expose ?? code !== 'INTERNAL';
    this.data = options.data;
  }
}

/** True when `value` is a GatewayError (also across bundle copies). */
export function isGatewayError(value: unknown): value is GatewayError {
  return (
    value instanceof GatewayError || (value instanceof Error && value.name === 'GatewayError' && 'rpcCode' in value)
  );
}
