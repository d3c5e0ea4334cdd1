import * as oauth from 'oauth4webapi';
import { GatewayError } from '../errors.ts';
import { fromBase64url, toBase64url } from '../session/base64url.ts';
import type { UserCredential } from './credential-sealer.ts';
import { describeOAuthFailure, oauthOptions } from './oauth-fetch.ts';
import type { UpstreamOAuthServer } from './upstream-discovery.ts';

/**
 * An upstream's OAuth tokens as the gateway stores and refreshes them: the access token as the
 * Authorization to send, and the refresh token wrapped with what its refresh needs (the client it
 * was issued to, the token endpoint, the resource), all inside the sealed credential, so any
 * replica can refresh it without the process that authorized it.
 */

/** What the gateway assumes of a token answered without expires_in: one hour. */
const DEFAULT_TOKEN_LIFETIME_MS = 3_600_000;
const REFRESH_FORMAT = 'uo1.';

/** The client the gateway is at an authorization server, as the state and refresh carry it. */
export interface ClientRecord {
  readonly clientId: string;
  readonly clientSecret?: string;
  /** Registered by the gateway (its secret travels with the refresh token; a configured one is read at refresh). */
  readonly registered?: true;
}

export function clientAuth(client: ClientRecord): oauth.ClientAuth {
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

export interface TokenContext {
  readonly resource: string;
  readonly as: { issuer: string; token_endpoint: string };
  readonly refreshClient: ClientRecord;
}

export function toCredential(tokens: oauth.TokenEndpointResponse, context: TokenContext, now: number): UserCredential {
  if (tokens.token_type.toLowerCase() !== 'bearer') throw new Error(`a token of type ${tokens.token_type}`);
  const lifetime = typeof tokens.expires_in === 'number' ? tokens.expires_in * 1000 : DEFAULT_TOKEN_LIFETIME_MS;
  const credential = { authorization: `Bearer ${tokens.access_token}`, expiresAt: now + lifetime, issuedAt: now };
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
    throw new GatewayError(
      'USER_CREDENTIAL_UNAVAILABLE',
      `the credential for server ${server.name} cannot be refreshed`,
    );
  }
  const configured = server.upstreamOAuth;
  const secret = configured.clientId === envelope.clientId ? configured.clientSecret : envelope.clientSecret;
  const client: ClientRecord = {
    clientId: envelope.clientId,
    ...(secret !== undefined && { clientSecret: secret }),
    ...(envelope.clientSecret !== undefined && { registered: true as const }),
  };
  const as: oauth.AuthorizationServer = { issuer: envelope.issuer, token_endpoint: envelope.tokenEndpoint };
  const fetcher = options.fetch ?? fetch;
  try {
    const response = await oauth.refreshTokenGrantRequest(
      as,
      { client_id: client.clientId },
      clientAuth(client),
      envelope.r,
      {
        ...oauthOptions(envelope.tokenEndpoint, fetcher),
        additionalParameters: { resource: envelope.resource },
      },
    );
    const tokens = await oauth.processRefreshTokenResponse(as, { client_id: client.clientId }, response);
    const kept = typeof tokens.refresh_token === 'string' ? tokens : { ...tokens, refresh_token: envelope.r };
    const context = {
      resource: envelope.resource,
      as: { issuer: envelope.issuer, token_endpoint: envelope.tokenEndpoint },
      refreshClient: client,
    };
    return toCredential(kept as oauth.TokenEndpointResponse, context, options.now ?? Date.now());
  } catch (error) {
    throw new GatewayError(
      'USER_CREDENTIAL_UNAVAILABLE',
      `refreshing the token for server ${server.name} at ${envelope.issuer} failed: ${describeOAuthFailure(error)}`,
      { cause: error },
    );
  }
}
