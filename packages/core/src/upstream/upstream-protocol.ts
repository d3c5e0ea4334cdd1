import type { GatewayError } from '../errors.ts';
import { LEGACY_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSION, isLegacyProtocolVersion } from '../protocol/versions.ts';
import type { JsonObject } from './types.ts';
import { upstreamProtocolError } from './upstream-errors.ts';

/**
 * The version proposed in the gateway's `initialize`: the newest legacy one. Accepted answers
 * are LEGACY_PROTOCOL_VERSIONS (protocol/versions.ts).
 * @see MCP 2025-11-25 basic/lifecycle §Version Negotiation
 */
export const PROPOSED_PROTOCOL_VERSION = LEGACY_PROTOCOL_VERSIONS[0];

/**
 * JSON-RPC code of UnsupportedProtocolVersionError (2026-07-28), `data{supported[], requested}`.
 * @see MCP 2026-07-28 basic/versioning
 */
export const UNSUPPORTED_PROTOCOL_VERSION_CODE = -32022;

/** The message of an upstream that speaks only the modern protocol. */
export const MODERN_ONLY_MESSAGE = `upstream speaks only MCP ${MODERN_PROTOCOL_VERSION} but did not answer server/discover`;

const unsupportedProtocolErrors = new WeakSet<object>();

/** True for the errors this module returns: the upstream speaks no protocol version the gateway serves. */
export function isUnsupportedProtocolError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && unsupportedProtocolErrors.has(error);
}

function unsupported(message: string): GatewayError {
  const error = upstreamProtocolError(message);
  unsupportedProtocolErrors.add(error);
  return error;
}

function isUpstreamProtocolVersion(version: unknown): version is string {
  return typeof version === 'string' && isLegacyProtocolVersion(version);
}

/**
 * Reads the upstream's supported versions from an initialize error and, when none of them is
 * one the gateway speaks, returns the UPSTREAM_PROTOCOL_ERROR to reject with. Looks at
 * `data.supported` (2026-07-28) and `data.supportedVersions` (some pre-release servers), and
 * treats code -32022 without a usable list as a modern-only upstream.
 * @see MCP 2026-07-28 basic/versioning (UnsupportedProtocolVersionError)
 */
export function protocolErrorFromRpcError(code: number, data: unknown): GatewayError | undefined {
  const supported = supportedVersionsOf(data);
  if (supported !== undefined && supported.length > 0) {
    if (supported.some(isUpstreamProtocolVersion)) return undefined;
    if (supported.includes(MODERN_PROTOCOL_VERSION)) return unsupported(MODERN_ONLY_MESSAGE);
    return unsupported(
      `upstream supports only protocol versions ${supported.join(', ')}, none of which this gateway serves`,
    );
  }
  return code === UNSUPPORTED_PROTOCOL_VERSION_CODE ? unsupported(MODERN_ONLY_MESSAGE) : undefined;
}

/**
 * Checks an InitializeResult's `protocolVersion`; returns the error to reject with when the
 * upstream negotiated a version outside LEGACY_PROTOCOL_VERSIONS.
 * @see MCP 2025-11-25 basic/lifecycle §Version Negotiation ("client SHOULD disconnect")
 */
export function protocolErrorFromInitializeResult(result: JsonObject): GatewayError | undefined {
  const version = result['protocolVersion'];
  if (isUpstreamProtocolVersion(version)) return undefined;
  if (version === MODERN_PROTOCOL_VERSION) return unsupported(MODERN_ONLY_MESSAGE);
  const shown = typeof version === 'string' ? version : JSON.stringify(version ?? null);
  return unsupported(`upstream negotiated unsupported protocol version ${shown}`);
}

function supportedVersionsOf(data: unknown): string[] | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const record = data as JsonObject;
  const list = record['supported'] ?? record['supportedVersions'];
  return Array.isArray(list) ? list.filter((v): v is string => typeof v === 'string') : undefined;
}
