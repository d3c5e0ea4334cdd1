import type { GatewayError } from '../errors.ts';
import type { JsonObject } from './types.ts';
import { upstreamProtocolError } from './upstream-errors.ts';

/**
 * Protocol versions the gateway speaks with upstreams (the legacy, session-based era), newest
 * first. The first one is proposed in `initialize`.
 * @see MCP 2025-11-25 basic/lifecycle §Version Negotiation
 */
export const UPSTREAM_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;

/** The version proposed in `initialize`. */
export const PROPOSED_PROTOCOL_VERSION = UPSTREAM_PROTOCOL_VERSIONS[0];

/** The first modern (sessionless) MCP version, which this gateway does not serve yet. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28';

/**
 * JSON-RPC code of UnsupportedProtocolVersionError (2026-07-28), `data{supported[], requested}`.
 * @see MCP 2026-07-28 basic/versioning
 */
export const UNSUPPORTED_PROTOCOL_VERSION_CODE = -32022;

/** The message of an upstream that speaks only the modern protocol. */
export const MODERN_ONLY_MESSAGE = `upstream speaks only MCP ${MODERN_PROTOCOL_VERSION}, which this gateway does not serve yet`;

/** True when the gateway can speak `version` with an upstream. */
export function isUpstreamProtocolVersion(version: unknown): version is string {
  return typeof version === 'string' && (UPSTREAM_PROTOCOL_VERSIONS as readonly string[]).includes(version);
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
    if (supported.includes(MODERN_PROTOCOL_VERSION)) return upstreamProtocolError(MODERN_ONLY_MESSAGE);
    return upstreamProtocolError(`upstream supports only protocol versions ${supported.join(', ')}, none of which this gateway serves`);
  }
  return code === UNSUPPORTED_PROTOCOL_VERSION_CODE ? upstreamProtocolError(MODERN_ONLY_MESSAGE) : undefined;
}

/**
 * Checks an InitializeResult's `protocolVersion`; returns the error to reject with when the
 * upstream negotiated a version the gateway does not speak.
 * @see MCP 2025-11-25 basic/lifecycle §Version Negotiation ("client SHOULD disconnect")
 */
export function protocolErrorFromInitializeResult(result: JsonObject): GatewayError | undefined {
  const version = result['protocolVersion'];
  if (isUpstreamProtocolVersion(version)) return undefined;
  if (version === MODERN_PROTOCOL_VERSION) return upstreamProtocolError(MODERN_ONLY_MESSAGE);
  const shown = typeof version === 'string' ? version : JSON.stringify(version ?? null);
  return upstreamProtocolError(`upstream negotiated unsupported protocol version ${shown}`);
}

function supportedVersionsOf(data: unknown): string[] | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const record = data as JsonObject;
  const list = record['supported'] ?? record['supportedVersions'];
  return Array.isArray(list) ? list.filter((v): v is string => typeof v === 'string') : undefined;
}
