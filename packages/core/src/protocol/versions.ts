/** Legacy-era protocol versions the gateway serves to clients and accepts from upstreams, newest first. */
export const LEGACY_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;
/** The newest legacy version, proposed when a client asks for one the gateway does not know. */
export const LATEST_LEGACY_PROTOCOL_VERSION = '2025-11-25';
/** The version assumed when a legacy request carries no MCP-Protocol-Version header. */
export const DEFAULT_NEGOTIATED_PROTOCOL_VERSION = '2025-03-26';
/** The current (modern, sessionless) protocol revision. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28';

/** True for a legacy-era version this gateway serves. */
export function isLegacyProtocolVersion(version: string): boolean {
  return (LEGACY_PROTOCOL_VERSIONS as readonly string[]).includes(version);
}
