import { LEGACY_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSION } from '../protocol/versions.ts';

/**
 * The wire eras the gateway speaks: `legacy` is Streamable HTTP with sessions (protocol
 * 2024-11-05 to 2025-11-25, code in folders named rev2025-11-25), `modern` is 2026-07-28
 * (sessionless, folders named rev2026-07-28).
 */
export type Era = 'legacy' | 'modern';

/** The four list methods, answered from the catalog in both eras. */
export const LIST_METHODS = ['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list'] as const;

/**
 * Methods the gateway answers itself, per era. `initialize` is answered before a session
 * exists; in 2026-07-28, `server/discover` and `subscriptions/listen` replace it and the GET stream.
 */
const LOCAL_METHODS: Readonly<Record<Era, ReadonlySet<string>>> = {
  legacy: new Set(['initialize', 'ping', 'logging/setLevel', ...LIST_METHODS]),
  modern: new Set(['server/discover', 'subscriptions/listen', ...LIST_METHODS]),
};

/**
 * Methods forwarded to the upstream that owns the named item, per era: the one list of routed
 * methods, used by the broker, the worker and the Envoy router. 2026-07-28 has no
 * resources/subscribe (subscriptions/listen replaces it).
 */
const FORWARDED_METHODS: Readonly<Record<Era, ReadonlySet<string>>> = {
  legacy: new Set([
    'tools/call',
    'prompts/get',
    'resources/read',
    'resources/subscribe',
    'resources/unsubscribe',
    'completion/complete',
  ]),
  modern: new Set(['tools/call', 'prompts/get', 'resources/read', 'completion/complete']),
};

/** True for methods the gateway answers itself in `era` (never for Object.prototype names). */
export function isLocalMethod(era: Era, method: string): boolean {
  return LOCAL_METHODS[era].has(method);
}

/** True for methods the gateway forwards to an upstream in `era`. */
export function isForwardedMethod(era: Era, method: string): boolean {
  return FORWARDED_METHODS[era].has(method);
}

/** What the gateway knows of the versions an upstream speaks (its snapshot). */
export interface UpstreamVersions {
  /** The version its discovery found (2026-07-28, or the legacy version negotiated). */
  readonly protocolVersion?: string | undefined;
  /** Every version its server/discover listed, when it has one. */
  readonly supportedVersions?: readonly string[] | undefined;
}

/**
 * The era the gateway speaks with an upstream on behalf of a client of `clientEra`: a legacy
 * upstream in the legacy era; a 2026-07-28 upstream in that era, unless it also speaks a legacy
 * version and the client is a legacy client: then in the client's era, so the client gets all
 * the upstream offers on its wire (server-to-client requests during calls, subscriptions).
 */
export function upstreamEraFor(upstream: UpstreamVersions | undefined, clientEra: Era): Era {
  if (upstream?.protocolVersion !== MODERN_PROTOCOL_VERSION) return 'legacy';
  return clientEra === 'legacy' && legacyVersionOf(upstream) !== undefined ? 'legacy' : 'modern';
}

/**
 * The legacy version to speak on backend sessions with an upstream: the one negotiated with a
 * legacy upstream, or the newest legacy version a 2026-07-28 upstream also lists; undefined when
 * it speaks none (or nothing is known yet).
 */
export function legacyVersionOf(upstream: UpstreamVersions | undefined): string | undefined {
  if (upstream?.protocolVersion === undefined) return undefined;
  if (upstream.protocolVersion !== MODERN_PROTOCOL_VERSION) return upstream.protocolVersion;
  return LEGACY_PROTOCOL_VERSIONS.find((version) => upstream.supportedVersions?.includes(version) === true);
}
