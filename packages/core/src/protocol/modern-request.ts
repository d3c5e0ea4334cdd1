import { GatewayError } from '../errors.ts';
import type { JsonRpcRequest } from './json-rpc.ts';
import { LEGACY_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSION } from './versions.ts';

/**
 * The per-request `_meta` keys of MCP 2026-07-28: every request names its protocol version and
 * the client's capabilities (there is no initialize), results name the server.
 * @see MCP 2026-07-28 basic/versioning, SEP-2575
 */
export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
  logLevel: 'io.modelcontextprotocol/logLevel',
} as const;

/** Every version the gateway serves downstream, modern first (what server/discover lists). */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly string[] = [MODERN_PROTOCOL_VERSION, ...LEGACY_PROTOCOL_VERSIONS];

/** The methods whose `Mcp-Name` header mirrors a body field, and that field. */
const NAME_SOURCE: Readonly<Record<string, 'name' | 'uri'>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

/** True for 2026-07-28 and later revisions this gateway knows (today only 2026-07-28). */
export function isModernVersion(version: string | null | undefined): boolean {
  return version === MODERN_PROTOCOL_VERSION;
}

/** The `_meta` object of a message's params, if any. */
export function requestMeta(message: { params?: unknown }): Record<string, unknown> | undefined {
  const params = message.params;
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return undefined;
  const meta = (params as Record<string, unknown>)['_meta'];
  return typeof meta === 'object' && meta !== null && !Array.isArray(meta)
    ? (meta as Record<string, unknown>)
    : undefined;
}

/** The protocol version a message's `_meta` envelope claims, when it claims one. */
export function claimedVersion(message: { params?: unknown }): string | undefined {
  const value = requestMeta(message)?.[META.protocolVersion];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Whether a request belongs to the modern era: its body carries the per-request envelope
 * (the body decides, so a proxy dropping the header cannot change the era), or the
 * MCP-Protocol-Version header names a modern version.
 */
export function isModernRequest(versionHeader: string | null, message: { params?: unknown }): boolean {
  const claimed = claimedVersion(message);
  if (claimed !== undefined) return !LEGACY_PROTOCOL_VERSIONS.includes(claimed as never);
  return isModernVersion(versionHeader);
}

/** The body field `Mcp-Name` mirrors for `method` and its value, when the method has one. */
export function nameSource(method: string, params: unknown): { field: 'name' | 'uri'; value?: string } | undefined {
  const field = Object.hasOwn(NAME_SOURCE, method) ? NAME_SOURCE[method] : undefined;
  if (field === undefined) return undefined;
  const raw = typeof params === 'object' && params !== null ? (params as Record<string, unknown>)[field] : undefined;
  return typeof raw === 'string' ? { field, value: raw } : { field };
}

const SENTINEL_PREFIX = '=?base64?';
const SENTINEL_SUFFIX = '?=';
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes a header value that may use the `=?base64?…?=` form (non-ASCII or unsafe values);
 * undefined when the sentinel holds no canonical Base64 of valid UTF-8.
 * @see MCP 2026-07-28 basic/transports §Standard Request Headers (SEP-2243)
 */
export function decodeHeaderValue(value: string): string | undefined {
  if (!(value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX))) return value;
  const encoded = value.slice(SENTINEL_PREFIX.length, value.length - SENTINEL_SUFFIX.length);
  if (!CANONICAL_BASE64.test(encoded)) return undefined;
  try {
    const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** Encodes a value for an `Mcp-Name`/`Mcp-Param-*` header: as is when plain visible ASCII, else the Base64 form. */
export function encodeHeaderValue(value: string): string {
  if (/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(value) && !value.startsWith(SENTINEL_PREFIX)) return value;
  const bytes = new TextEncoder().encode(value);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `${SENTINEL_PREFIX}${btoa(binary)}${SENTINEL_SUFFIX}`;
}

function mismatch(detail: string, header: string): GatewayError {
  return new GatewayError('HEADER_MISMATCH', `Bad Request: the request headers and body disagree: ${detail}`, {
    data: { mismatch: { header, body: detail } },
  });
}

/**
 * Checks the standard headers of a modern request against its body: MCP-Protocol-Version
 * present and equal to the envelope's version, Mcp-Method present and equal to the method,
 * Mcp-Name present and equal to `params.name`/`params.uri` for tools/call, prompts/get and
 * resources/read. Returns the HEADER_MISMATCH error (HTTP 400, -32020) or undefined.
 * @see MCP 2026-07-28 basic/transports §Standard Request Headers (SEP-2243)
 */
export function checkModernHeaders(
  get: (name: string) => string | null,
  message: Pick<JsonRpcRequest, 'method' | 'params'>,
): GatewayError | undefined {
  const version = get('mcp-protocol-version');
  const claimed = claimedVersion(message);
  if (version === null)
    return mismatch(
      claimed === undefined
        ? 'the required MCP-Protocol-Version header is absent'
        : `the body envelope names protocol version ${claimed} but the required MCP-Protocol-Version header is absent`,
      '(missing)',
    );
  if (claimed !== undefined && claimed !== version)
    return mismatch(
      `the body envelope names protocol version ${claimed} but the MCP-Protocol-Version header names ${version}`,
      version,
    );
  const methodHeader = get('mcp-method');
  if (methodHeader === null)
    return mismatch(
      `the body names method ${message.method} but the required Mcp-Method header is absent`,
      '(missing)',
    );
  if (methodHeader.trim() !== message.method)
    return mismatch(
      `the body names method ${message.method} but the Mcp-Method header names ${methodHeader}`,
      methodHeader,
    );
  const source = nameSource(message.method, message.params);
  if (source === undefined) return undefined;
  const nameHeader = get('mcp-name');
  if (nameHeader === null) {
    if (source.value === undefined) return undefined;
    return mismatch(
      `the body carries params.${source.field}="${source.value}" but the required Mcp-Name header is absent`,
      '(missing)',
    );
  }
  const trimmed = nameHeader.trim();
  const decoded = decodeHeaderValue(trimmed);
  if (decoded === undefined) return mismatch('the Mcp-Name header carries an invalid Base64 value', trimmed);
  if (source.value !== undefined && decoded !== source.value)
    return mismatch(
      `the body carries params.${source.field}="${source.value}" but the Mcp-Name header names "${decoded}"`,
      trimmed,
    );
  return undefined;
}

/**
 * Checks the per-request envelope of a modern request: `_meta` must name the protocol version
 * (a string) and the client's capabilities (an object). Returns ENVELOPE_INVALID (HTTP 400,
 * -32602) naming what is missing, or undefined.
 * @see MCP 2026-07-28 basic/versioning (SEP-2575)
 */
export function checkEnvelope(message: { params?: unknown }): GatewayError | undefined {
  const meta = requestMeta(message);
  const missing: string[] = [];
  const wrong: string[] = [];
  const version = meta?.[META.protocolVersion];
  const capabilities = meta?.[META.clientCapabilities];
  if (version === undefined) missing.push(META.protocolVersion);
  else if (typeof version !== 'string') wrong.push(`${META.protocolVersion} must be a string`);
  if (capabilities === undefined) missing.push(META.clientCapabilities);
  else if (typeof capabilities !== 'object' || capabilities === null || Array.isArray(capabilities))
    wrong.push(`${META.clientCapabilities} must be an object`);
  if (missing.length === 0 && wrong.length === 0) return undefined;
  const problems = [
    ...(missing.length === 0 ? [] : [`missing the required per-request _meta key(s): ${missing.join(', ')}`]),
    ...wrong,
  ];
  return new GatewayError(
    'ENVELOPE_INVALID',
    `Invalid params: a ${MODERN_PROTOCOL_VERSION} request is ${problems.join('; ')}`,
    {
      data: { envelope: { missing, invalid: wrong } },
    },
  );
}

/** The header name of an `x-mcp-header` declaration. */
export const MCP_PARAM_HEADER_PREFIX = 'mcp-param-';

/**
 * The `Mcp-Param-*` headers a tools/call must carry for the tool's `x-mcp-header` declarations
 * (properties reachable through `properties` chains only), from the call's arguments: strings as
 * they are, integers and booleans as text, Base64 form when not plain ASCII. Absent or null
 * arguments get no header.
 * @see MCP 2026-07-28 basic/transports §Custom Parameter Headers (SEP-2243)
 */
export function paramHeaders(inputSchema: unknown, args: unknown): Record<string, string> {
  const headers: Record<string, string> = {};
  const visit = (schema: unknown, value: unknown) => {
    if (typeof schema !== 'object' || schema === null) return;
    const properties = (schema as Record<string, unknown>)['properties'];
    if (typeof properties !== 'object' || properties === null) return;
    for (const [key, child] of Object.entries(properties as Record<string, unknown>)) {
      if (typeof child !== 'object' || child === null) continue;
      const argument =
        typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
      const name = (child as Record<string, unknown>)['x-mcp-header'];
      if (typeof name === 'string' && name !== '') {
        const text =
          typeof argument === 'string'
            ? argument
            : typeof argument === 'boolean' || (typeof argument === 'number' && Number.isSafeInteger(argument))
              ? String(argument)
              : undefined;
        if (text !== undefined) headers[`${MCP_PARAM_HEADER_PREFIX}${name.toLowerCase()}`] = encodeHeaderValue(text);
      }
      visit(child, argument);
    }
  };
  visit(inputSchema, args);
  return headers;
}
