import * as oauth from 'oauth4webapi';
import { GatewayError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { SessionStore } from '../store/session-store.ts';
import { fromBase64url, toBase64url } from '../session/base64url.ts';
import type { CredentialSealer, UserCredential } from './credential-sealer.ts';
import type { CredentialHolder } from './credential-owner.ts';
import {
  boundedFetch,
  describeOAuthFailure,
  discoverAuthorizationServer,
  OAUTH_TIMEOUT_MS,
  oauthOptions,
  openGrant,
  sealGrant,
} from './oauth-fetch.ts';

/**
 * The gateway as an OAuth client of an upstream that wants its own login: the upstream's 401
 * names its protected resource metadata (RFC 9728), whose first authorization server (RFC 8414)
 * the gateway registers at when no client is configured (RFC 7591), sends the user to
 * (authorization code, PKCE S256, RFC 8707 `resource`), and later refreshes the token at.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
 */

/** A server's `upstreamOAuth` config. */
export interface UpstreamOAuthConfig {
  /** Absent: the gateway registers itself (dynamic client registration). */
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** Absent: the metadata's scopes_supported. */
  readonly scopes?: readonly string[];
}

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

/** The path the upstream's authorization server sends the browser back to. */
export const UPSTREAM_OAUTH_CALLBACK_PATH = '/tokens/oauth/callback';
/** How long an authorization waits for its user, in seconds. */
export const UPSTREAM_OAUTH_STATE_TTL_SECONDS = 600;
/** What the gateway assumes of a token answered without expires_in: one hour. */
const DEFAULT_TOKEN_LIFETIME_MS = 3_600_000;
const STATE_GRANT = 'oa:';
const REFRESH_FORMAT = 'uo1.';
const DISCOVERY_TTL_MS = 10 * 60_000;

/**
 * Finds an upstream's authorization server: an unauthenticated initialize → 401 with
 * `WWW-Authenticate: Bearer resource_metadata="…"`, else the RFC 9728 well-known URL (path
 * form, then root); the metadata's `resource` must be on the server's origin.
 * @throws Error naming the server URL and what failed.
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
  }).catch(() => undefined);
  if (response === undefined || response.status !== 401) return undefined;
  const header = response.headers.get('www-authenticate') ?? '';
  const match = /resource_metadata="([^"]+)"/i.exec(header);
  if (match?.[1] === undefined) return undefined;
  const url = new URL(match[1], server);
  return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
}

/** The client the gateway is at an authorization server, as the state and refresh carry it. */
interface ClientRecord {
  readonly clientId: string;
  readonly clientSecret?: string;
  /** Registered by the gateway (its secret travels with the refresh token; a configured one is read at refresh). */
  readonly registered?: true;
}

/** The sealed `oa:` state of an authorization between its redirect and its callback. */
interface AuthorizationState extends ClientRecord {
  readonly owner: string;
  readonly issuer: string;
  readonly subject: string;
  readonly server: string;
  readonly verifier: string;
  readonly redirectUri: string;
  readonly resource: string;
  readonly as: { issuer: string; token_endpoint: string; authorization_response_iss_parameter_supported?: boolean };
}

export type UpstreamOAuthFinish =
  | { readonly ok: true; readonly holder: CredentialHolder; readonly server: string; readonly credential: UserCredential }
  | { readonly ok: false; readonly status: 400 | 403 | 502; readonly error: string };

export interface UpstreamOAuth {
  /** The upstream authorization server's URL the user's browser goes to, for `holder`'s credential to `server`. */
  authorize(server: UpstreamOAuthServer, holder: CredentialHolder, origin: string): Promise<string>;
  /** Finishes the authorization at its callback for the browser's `user`: the credential to store, or why not. */
  finish(callback: URL, user: CredentialHolder): Promise<UpstreamOAuthFinish>;
}

export interface UpstreamOAuthDeps {
  readonly store: SessionStore;
  readonly sealer: CredentialSealer;
  readonly fetch: typeof fetch;
  readonly logger: Logger;
}

/** Makes the OAuth client; discoveries and registrations are cached in this process (10 min / its life). */
export function createUpstreamOAuth(deps: UpstreamOAuthDeps): UpstreamOAuth {
  const discovered = new Map<string, { value: UpstreamAuthorization; at: number }>();
  const registered = new Map<string, Promise<ClientRecord>>();

  async function discover(url: string): Promise<UpstreamAuthorization> {
    const known = discovered.get(url);
    if (known !== undefined && Date.now() - known.at < DISCOVERY_TTL_MS) return known.value;
    const value = await discoverUpstreamAuthorization(url, deps.fetch);
    discovered.set(url, { value, at: Date.now() });
    return value;
  }

  function clientFor(server: UpstreamOAuthServer, as: oauth.AuthorizationServer, redirectUri: string) {
    const { clientId, clientSecret } = server.upstreamOAuth;
    if (clientId !== undefined) return Promise.resolve(clientSecret === undefined ? { clientId } : { clientId, clientSecret });
    const key = `${server.name}\n${as.issuer}\n${redirectUri}`;
    let client = registered.get(key);
    if (client === undefined) {
      client = register(as, redirectUri, deps.fetch);
      registered.set(key, client);
      client.catch(() => registered.delete(key));
    }
    return client;
  }

  return {
    async authorize(server, holder, origin) {
      const redirectUri = origin + UPSTREAM_OAUTH_CALLBACK_PATH;
      let found: UpstreamAuthorization;
      let client: ClientRecord;
      try {
        found = await discover(server.url);
        client = await clientFor(server, found.authorizationServer, redirectUri);
      } catch (error) {
        throw new GatewayError(
          'UPSTREAM_UNAVAILABLE',
          `authorization for server ${server.name} cannot start: ${describeOAuthFailure(error)}`,
          { cause: error },
        );
      }
      const as = found.authorizationServer;
      if (as.authorization_endpoint === undefined || as.token_endpoint === undefined) {
        throw new GatewayError('UPSTREAM_UNAVAILABLE', `authorization server ${as.issuer} of server ${server.name} has no authorization or token endpoint`);
      }
      const stateId = oauth.generateRandomState();
      const verifier = oauth.generateRandomCodeVerifier();
      const state: AuthorizationState = {
        ...client,
        owner: holder.owner,
        issuer: holder.issuer,
        subject: holder.subject,
        server: server.name,
        verifier,
        redirectUri,
        resource: found.resource,
        as: {
          issuer: as.issuer,
          token_endpoint: as.token_endpoint,
          ...(as.authorization_response_iss_parameter_supported === true && {
            authorization_response_iss_parameter_supported: true,
          }),
        },
      };
      const sealed = await sealGrant(deps.sealer, 'oauth', stateId, state, UPSTREAM_OAUTH_STATE_TTL_SECONDS);
      await deps.store.putGrant(STATE_GRANT + stateId, sealed, UPSTREAM_OAUTH_STATE_TTL_SECONDS);
      const scopes = server.upstreamOAuth.scopes ?? found.scopesSupported;
      const url = new URL(as.authorization_endpoint);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: client.clientId,
        redirect_uri: redirectUri,
        state: stateId,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        resource: found.resource,
        ...(scopes.length > 0 && { scope: scopes.join(' ') }),
      }).toString();
      return url.href;
    },

    async finish(callback, user) {
      const stateId = callback.searchParams.get('state') ?? '';
      if (stateId === '' || stateId.length > 100) return { ok: false, status: 400, error: 'the authorization has no state' };
      const opened = await openGrant(deps.sealer, 'oauth', stateId, await deps.store.takeGrant(STATE_GRANT + stateId));
      const state = opened as AuthorizationState | undefined;
      if (state === undefined || typeof state.verifier !== 'string') {
        return { ok: false, status: 400, error: 'the authorization is unknown or expired: call the tool again' };
      }
      if (state.owner !== user.owner) {
        return { ok: false, status: 403, error: 'this authorization was started by another user' };
      }
      try {
        const as: oauth.AuthorizationServer = { ...state.as };
        const client: oauth.Client = { client_id: state.clientId };
        const params = oauth.validateAuthResponse(as, client, callback.searchParams, stateId);
        const response = await oauth.authorizationCodeGrantRequest(
          as,
          client,
          clientAuth(state),
          params,
          state.redirectUri,
          state.verifier,
          { ...oauthOptions(state.as.token_endpoint, deps.fetch), additionalParameters: { resource: state.resource } },
        );
        const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
        const credential = toCredential(tokens, { ...state, refreshClient: state }, Date.now());
        const holder = { owner: state.owner, issuer: state.issuer, subject: state.subject };
        return { ok: true, holder, server: state.server, credential };
      } catch (error) {
        const reason = describeOAuthFailure(error);
        deps.logger.warn('an upstream authorization failed', { server: state.server, issuer: state.as.issuer, reason });
        return {
          ok: false,
          status: 502,
          error: `authorization for server ${state.server} at ${state.as.issuer} failed: ${reason}`,
        };
      }
    },
  };
}

async function register(as: oauth.AuthorizationServer, redirectUri: string, fetcher: typeof fetch): Promise<ClientRecord> {
  if (as.registration_endpoint === undefined) {
    throw new Error(`${as.issuer} offers no dynamic client registration and no client id is configured`);
  }
  const response = await oauth.dynamicClientRegistrationRequest(
    as,
    {
      client_name: 'MCP gateway',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    },
    oauthOptions(as.registration_endpoint, fetcher),
  );
  const client = await oauth.processDynamicClientRegistrationResponse(response);
  return typeof client.client_secret === 'string'
    ? { clientId: client.client_id, clientSecret: client.client_secret, registered: true }
    : { clientId: client.client_id, registered: true };
}

function clientAuth(client: ClientRecord): oauth.ClientAuth {
  return client.clientSecret === undefined ? oauth.None() : oauth.ClientSecretBasic(client.clientSecret);
}

/** What a refresh needs besides the refresh token, kept (sealed) with it in the stored credential. */
interface RefreshEnvelope {
  /** The refresh token. */
  readonly r: string;
  readonly clientId: string;
  /** A registered client's secret (a configured one is read from the config at refresh). */
  readonly clientSecret?: string;
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly resource: string;
}

interface TokenContext {
  readonly resource: string;
  readonly as: { issuer: string; token_endpoint: string };
  readonly refreshClient: ClientRecord;
}

function toCredential(tokens: oauth.TokenEndpointResponse, context: TokenContext, now: number): UserCredential {
  if (tokens.token_type.toLowerCase() !== 'bearer') throw new Error(`a token of type ${tokens.token_type}`);
  const lifetime = typeof tokens.expires_in === 'number' ? tokens.expires_in * 1000 : DEFAULT_TOKEN_LIFETIME_MS;
  const credential = { authorization: `Bearer ${tokens.access_token}`, expiresAt: now + lifetime };
  if (typeof tokens.refresh_token !== 'string') return credential;
  const envelope: RefreshEnvelope = {
    r: tokens.refresh_token,
    clientId: context.refreshClient.clientId,
    ...(context.refreshClient.registered === true &&
      context.refreshClient.clientSecret !== undefined && { clientSecret: context.refreshClient.clientSecret }),
    issuer: context.as.issuer,
    tokenEndpoint: context.as.token_endpoint,
    resource: context.resource,
  };
  const refreshToken = REFRESH_FORMAT + toBase64url(new TextEncoder().encode(JSON.stringify(envelope)));
  return { ...credential, refreshToken };
}

function parseEnvelope(refreshToken: string | undefined): RefreshEnvelope | undefined {
  if (refreshToken?.startsWith(REFRESH_FORMAT) !== true) return undefined;
  const bytes = fromBase64url(refreshToken.slice(REFRESH_FORMAT.length));
  if (bytes === undefined) return undefined;
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as Partial<RefreshEnvelope>;
    const strings = [value.r, value.clientId, value.issuer, value.tokenEndpoint, value.resource];
    return strings.every((part) => typeof part === 'string') ? (value as RefreshEnvelope) : undefined;
  } catch {
    return undefined;
  }
}

export interface RefreshUpstreamTokenOptions {
  readonly fetch?: typeof fetch;
  readonly now?: number;
}

/**
 * A new credential for `server` from `credential`'s refresh token (one this module stored), at
 * the authorization server that issued it, as the client it was issued to (a configured secret is
 * read from `server`'s config, so a rotated secret applies). The new credential carries the new
 * refresh token, or the old one when the server did not rotate it.
 * @throws GatewayError USER_CREDENTIAL_UNAVAILABLE naming the server and the authorization server
 *   (the user authorizes again); never the token or a secret.
 */
export async function refreshUpstreamToken(
  server: UpstreamOAuthServer,
  credential: UserCredential,
  options: RefreshUpstreamTokenOptions = {},
): Promise<UserCredential> {
  const envelope = parseEnvelope(credential.refreshToken);
  if (envelope === undefined) {
    throw new GatewayError('USER_CREDENTIAL_UNAVAILABLE', `the credential for server ${server.name} cannot be refreshed`);
  }
  const configured = server.upstreamOAuth;
  const secret =
    configured.clientId === envelope.clientId ? configured.clientSecret : envelope.clientSecret;
  const client: ClientRecord = {
    clientId: envelope.clientId,
    ...(secret !== undefined && { clientSecret: secret }),
    ...(envelope.clientSecret !== undefined && { registered: true as const }),
  };
  const as: oauth.AuthorizationServer = { issuer: envelope.issuer, token_endpoint: envelope.tokenEndpoint };
  const fetcher = options.fetch ?? fetch;
  try {
    const response = await oauth.refreshTokenGrantRequest(as, { client_id: client.clientId }, clientAuth(client), envelope.r, {
      ...oauthOptions(envelope.tokenEndpoint, fetcher),
      additionalParameters: { resource: envelope.resource },
    });
    const tokens = await oauth.processRefreshTokenResponse(as, { client_id: client.clientId }, response);
    const kept = typeof tokens.refresh_token === 'string' ? tokens : { ...tokens, refresh_token: envelope.r };
    const context = { resource: envelope.resource, as: { issuer: envelope.issuer, token_endpoint: envelope.tokenEndpoint }, refreshClient: client };
    return toCredential(kept as oauth.TokenEndpointResponse, context, options.now ?? Date.now());
  } catch (error) {
    throw new GatewayError(
      'USER_CREDENTIAL_UNAVAILABLE',
      `refreshing the token for server ${server.name} at ${envelope.issuer} failed: ${describeOAuthFailure(error)}`,
      { cause: error },
    );
  }
}
