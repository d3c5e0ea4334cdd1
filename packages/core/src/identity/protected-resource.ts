import type { OAuthConfig } from '../config/access-schema.ts';
import type { AuthRefusal } from './authentication.ts';

/** Environment (or worker bindings) that shape the OAuth protected resource metadata: the anchor's names. */
export interface ProtectedResourceEnv {
  readonly OAUTH_RESOURCE_NAME?: string | undefined;
  readonly OAUTH_RESOURCE?: string | undefined;
  readonly OAUTH_AUTHORIZATION_SERVERS?: string | undefined;
  readonly OAUTH_BEARER_METHODS_SUPPORTED?: string | undefined;
  readonly OAUTH_SCOPES_SUPPORTED?: string | undefined;
}

/** RFC 9728 protected resource metadata. */
export interface ProtectedResourceMetadata {
  readonly resource_name: string;
  readonly resource: string;
  readonly authorization_servers: readonly string[];
  readonly bearer_methods_supported: readonly string[];
  readonly scopes_supported: readonly string[];
}

/** The well-known path of the metadata (RFC 9728 §3); the resource's path is appended to it. */
export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource';

/**
 * The metadata, with the anchor's defaults (resource name "MCP Server", resource "/mcp", bearer
 * methods ["header"], scopes ["basic"]); list values are comma-separated. When token
 * verification is configured, what the environment leaves unset comes from it: the resource is
 * the audience tokens must carry, the authorization servers are the trusted issuers, and the
 * scopes are the required ones (when there are).
 * @see https://www.rfc-editor.org/rfc/rfc9728.html#section-2
 */
export function protectedResourceMetadata(
  env: ProtectedResourceEnv,
  oauth: OAuthConfig | undefined,
): ProtectedResourceMetadata {
  const required = oauth?.requiredScopes ?? [];
  return {
    resource_name: nonEmpty(env.OAUTH_RESOURCE_NAME) ?? 'MCP Server',
    resource: oauth?.audience ?? nonEmpty(env.OAUTH_RESOURCE) ?? '/mcp',
    authorization_servers: list(env.OAUTH_AUTHORIZATION_SERVERS) ?? oauth?.issuers.map((i) => i.issuer) ?? [],
    bearer_methods_supported: list(env.OAUTH_BEARER_METHODS_SUPPORTED) ?? ['header'],
    scopes_supported: list(env.OAUTH_SCOPES_SUPPORTED) ?? (required.length > 0 ? required : ['basic']),
  };
}

/**
 * The audience tokens must carry: the config's, else OAUTH_RESOURCE when it is an absolute URL.
 * Never derived from a request (a Host header would let a token meant for another resource in).
 */
export function audienceOf(env: ProtectedResourceEnv, oauth: OAuthConfig): string | undefined {
  if (oauth.audience !== undefined) return oauth.audience;
  const resource = nonEmpty(env.OAUTH_RESOURCE);
  if (resource === undefined) return undefined;
  try {
    return new URL(resource).protocol.startsWith('http') ? resource : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where a client finds the metadata of `resource`: the well-known path with the resource's path
 * appended, on the resource's origin (a relative resource is taken on the request's origin).
 * @see https://www.rfc-editor.org/rfc/rfc9728.html#section-3.1
 */
export function metadataUrlOf(resource: string, requestUrl: string): string {
  let url: URL;
  try {
    url = new URL(resource, requestUrl);
  } catch {
    url = new URL('/mcp', requestUrl);
  }
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}${PROTECTED_RESOURCE_PATH}${path}`;
}

/**
 * The `WWW-Authenticate` challenge of a refusal: `Bearer resource_metadata="…"`, with the
 * RFC 6750 `error`, `error_description` and (for 403) `scope` when there is one.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#protected-resource-metadata-discovery-requirements
 */
export function bearerChallenge(refusal: AuthRefusal, metadataUrl: string): string {
  const parts = [`resource_metadata="${quoted(metadataUrl)}"`];
  if (refusal.error !== undefined) {
    parts.push(`error="${refusal.error}"`, `error_description="${quoted(refusal.description)}"`);
  }
  if (refusal.scope !== undefined) parts.push(`scope="${quoted(refusal.scope)}"`);
  return `Bearer ${parts.join(', ')}`;
}

/** A quoted-string's content: printable ASCII without `"` and `\` (RFC 6750 §3 limits these values). */
function quoted(value: string): string {
  return value.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '');
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function list(value: string | undefined): string[] | undefined {
  const text = nonEmpty(value);
  if (text === undefined) return undefined;
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
