import { META, encodeHeaderValue, nameSource } from '../protocol/modern-request.ts';
import { MODERN_PROTOCOL_VERSION } from '../protocol/versions.ts';
import type { JsonObject } from './types.ts';

/** Who the gateway says it is on its own modern requests. */
export interface EnvelopeClient {
  readonly clientInfo: { readonly name: string; readonly version: string };
  /** Capabilities declared on the request; the gateway's own requests declare none. */
  readonly clientCapabilities?: JsonObject;
}

/**
 * Adds the 2026-07-28 per-request envelope to `params._meta` (protocol version, client
 * capabilities and info), keeping any `_meta` the caller set (progress tokens).
 * @see MCP 2026-07-28 basic/versioning (SEP-2575)
 */
export function withModernEnvelope(params: JsonObject | undefined, client: EnvelopeClient): JsonObject {
  const meta = params?.['_meta'];
  const existing = typeof meta === 'object' && meta !== null && !Array.isArray(meta) ? (meta as JsonObject) : {};
  return {
    ...params,
    _meta: {
      ...existing,
      [META.protocolVersion]: MODERN_PROTOCOL_VERSION,
      [META.clientCapabilities]: client.clientCapabilities ?? {},
      [META.clientInfo]: { ...client.clientInfo },
    },
  };
}

/**
 * The standard request headers of a modern request: MCP-Protocol-Version, Mcp-Method and,
 * for tools/call, prompts/get and resources/read, Mcp-Name (Base64 form when not plain ASCII).
 * @see MCP 2026-07-28 basic/transports §Standard Request Headers (SEP-2243)
 */
export function modernRequestHeaders(method: string, params: unknown): Record<string, string> {
  const headers: Record<string, string> = { 'mcp-protocol-version': MODERN_PROTOCOL_VERSION, 'mcp-method': method };
  const source = nameSource(method, params);
  if (source?.value !== undefined) headers['mcp-name'] = encodeHeaderValue(source.value);
  return headers;
}

/** Reads `supportedVersions` of a server/discover result; undefined when it is not one. */
export function discoverVersions(result: JsonObject): string[] | undefined {
  const list = result['supportedVersions'];
  return Array.isArray(list) ? list.filter((v): v is string => typeof v === 'string') : undefined;
}
