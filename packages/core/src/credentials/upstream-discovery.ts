import type { UpstreamOAuthConfig } from '../config/credentials-schema.ts';
import { boundedFetch, describeOAuthFailure, discoverAuthorizationServer, OAUTH_TIMEOUT_MS } from './oauth-fetch.ts';
import type * as oauth from 'oauth4webapi';

/**
 * Where an upstream that wants its own login sends its users: its 401 names its protected
 * resource metadata (RFC 9728), whose first authorization server's metadata (RFC 8414, or
 * OpenID discovery) says where to register, authorize and get tokens.
 * @see https://www.rfc-editor.org/rfc/rfc9728
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
 */

/** A server's `upstreamOAuth` config. */
export type { UpstreamOAuthConfig };

/** What the OAuth client needs of a server's config. */
export interface UpstreamOAuthServer {
  readonly name: string;
  readonly url: string;
  readonly upstreamOAuth: UpstreamOAuthConfig;
}

/** Where an upstream's users authorize the gateway. */
export interface UpstreamAuthorization {
  /** The protected resource metadata's `resource` (the RFC 8707 indicator sent). */
  readonly resource: string;
  readonly authorizationServer: oauth.AuthorizationServer;
  readonly scopesSupported: readonly string[];
}

/**
 * Finds an upstream's authorization server: an unauthenticated initialize → 401 with
 * `WWW-Authenticate: Bearer resource_metadata="…"`, else the RFC 9728 well-known URL (path
 * form, then root); the metadata's `resource` must be on the server's origin.
 * @throws Error naming the server URL and what failed (unreachable, no metadata, another resource).
 */
export async function discoverUpstreamAuthorization(
  serverUrl: string,
  fetcher: typeof fetch,
): Promise<UpstreamAuthorization> {
  const bounded = boundedFetch(fetcher);
  const server = new URL(serverUrl);
  const challenged = await resourceMetadataUrl(server, bounded);
  const candidates =
    challenged !== undefined
      ? [challenged]
      : [
          new URL(`/.well-known/oauth-protected-resource${server.pathname.replace(/\/$/, '')}`, server.origin).href,
          new URL('/.well-known/oauth-protected-resource', server.origin).href,
        ];
  let metadata: Record<string, unknown> | undefined;
  for (const candidate of candidates) {
    const response = await bounded(candidate, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(OAUTH_TIMEOUT_MS),
    }).catch(() => undefined);
    if (response?.ok) {
      metadata = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
      if (metadata !== undefined) break;
    }
  }
  const resource = metadata?.resource;
  const servers = metadata?.authorization_servers;
  if (typeof resource !== 'string' || !Array.isArray(servers) || typeof servers[0] !== 'string') {
    throw new Error(`${serverUrl} publishes no protected resource metadata naming an authorization server`);
  }
  if (new URL(resource).origin !== server.origin) {
    throw new Error(`${serverUrl}'s protected resource metadata names another resource (${resource})`);
  }
  const authorizationServer = await discoverAuthorizationServer(servers[0], fetcher);
  const scopes = metadata?.scopes_supported;
  const scopesSupported = Array.isArray(scopes) ? scopes.filter((s): s is string => typeof s === 'string') : [];
  return { resource, authorizationServer, scopesSupported };
}

async function resourceMetadataUrl(server: URL, fetcher: typeof fetch): Promise<string | undefined> {
  const initialize = {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'mcp-gateway', version: '0' } },
  };
  const response = await fetcher(server.href, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify(initialize),
    signal: AbortSignal.timeout(OAUTH_TIMEOUT_MS),
  }).catch((error: unknown) => {
    // Its well-known URLs are on the same origin: no use asking them.
    throw new Error(`${server.href}: ${describeOAuthFailure(error)}`, { cause: error });
  });
  if (response.status !== 401) return undefined;
  const header = response.headers.get('www-authenticate') ?? '';
  const match = /resource_metadata="([^"]+)"/i.exec(header);
  if (match?.[1] === undefined) return undefined;
  const url = new URL(match[1], server);
  return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
}
