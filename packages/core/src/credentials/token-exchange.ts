import * as oauth from 'oauth4webapi';
import { GatewayError } from '../errors.ts';
import { clip, isLoopbackHttp } from './oauth-fetch.ts';

/**
 * OAuth 2.0 Token Exchange (RFC 8693): the caller's verified access token traded at the
 * authorization server for a token meant for one upstream (its audience or resource, and
 * optional scopes), the gateway authenticating as a confidential client. The protocol is
 * oauth4webapi's (request, response validation, OAuth error bodies); what is ours is what to
 * ask for, the limits and the error a client sees.
 * @see https://www.rfc-editor.org/rfc/rfc8693
 */

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** Where and as whom the gateway exchanges tokens for one upstream server. */
export interface TokenExchangeTarget {
  /** The config name of the upstream server (named in errors). */
  readonly server: string;
  /** The authorization server's issuer identifier. */
  readonly issuer: string;
  /** Its token endpoint (from its metadata, or the config). */
  readonly tokenEndpoint: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** RFC 8693 `audience`: the logical name of the upstream. */
  readonly audience?: string;
  /** RFC 8707 `resource`: the upstream's URL, when the server issues by resource indicator. */
  readonly resource?: string;
  readonly scopes?: readonly string[];
}

/** The token to send upstream and when it stops being usable. */
export interface ExchangedToken {
  /** The Authorization header value (`Bearer …`). */
  readonly authorization: string;
  /** ms since the epoch. */
  readonly expiresAt: number;
}

export interface TokenExchangeOptions {
  readonly fetch?: typeof fetch;
  /** Give up after this long; default 10 s. */
  readonly timeoutMs?: number;
  /** When the caller's own token expires (ms): the exchanged one is not used past it. */
  readonly subjectExpiresAt?: number;
  readonly now?: number;
}

/** What the gateway assumes of a token answered without expires_in: 5 minutes. */
const DEFAULT_LIFETIME_MS = 5 * 60_000;
/** The longest exchanged token the gateway forwards (the same bound as a stored credential). */
const MAX_EXCHANGED_TOKEN_LENGTH = 8 * 1024;

/**
 * Exchanges `subjectToken` for a token for `target`'s upstream.
 * @throws GatewayError TOKEN_EXCHANGE_FAILED naming the server and what the authorization server
 *   said (its `error` and `error_description`), or that it could not be reached; never the token.
 */
export async function exchangeToken(
  target: TokenExchangeTarget,
  subjectToken: string,
  options: TokenExchangeOptions = {},
): Promise<ExchangedToken> {
  const as: oauth.AuthorizationServer = { issuer: target.issuer, token_endpoint: target.tokenEndpoint };
  const client: oauth.Client = { client_id: target.clientId };
  const parameters = new URLSearchParams({
    subject_token: subjectToken,
    subject_token_type: ACCESS_TOKEN_TYPE,
    requested_token_type: ACCESS_TOKEN_TYPE,
  });
  if (target.audience !== undefined) parameters.set('audience', target.audience);
  if (target.resource !== undefined) parameters.set('resource', target.resource);
  if (target.scopes !== undefined && target.scopes.length > 0) parameters.set('scope', target.scopes.join(' '));
  const requestOptions = {
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    [oauth.allowInsecureRequests]: isLoopbackHttp(target.tokenEndpoint),
    ...(options.fetch === undefined ? {} : { [oauth.customFetch]: options.fetch }),
  };
  let answer: oauth.TokenEndpointResponse;
  try {
    const response = await oauth.genericTokenEndpointRequest(
      as,
      client,
      oauth.ClientSecretBasic(target.clientSecret),
      TOKEN_EXCHANGE_GRANT,
      parameters,
      requestOptions,
    );
    answer = await oauth.processGenericTokenEndpointResponse(as, client, response);
  } catch (error) {
    throw new GatewayError('TOKEN_EXCHANGE_FAILED', exchangeFailure(target.server, error), { cause: error });
  }
  const type = answer.token_type.toLowerCase();
  if (type !== 'bearer' || answer.access_token.length > MAX_EXCHANGED_TOKEN_LENGTH) {
    throw new GatewayError(
      'TOKEN_EXCHANGE_FAILED',
      `token exchange for server ${target.server} failed: the authorization server answered a token the gateway cannot send (${type === 'bearer' ? 'too long' : `type ${answer.token_type}`})`,
    );
  }
  const now = options.now ?? Date.now();
  const lifetime = typeof answer.expires_in === 'number' ? answer.expires_in * 1000 : DEFAULT_LIFETIME_MS;
  const expiresAt = Math.min(now + lifetime, options.subjectExpiresAt ?? Number.POSITIVE_INFINITY);
  return { authorization: `Bearer ${answer.access_token}`, expiresAt };
}

function exchangeFailure(server: string, error: unknown): string {
  const prefix = `token exchange for server ${server} failed`;
  if (error instanceof oauth.ResponseBodyError) {
    const description = error.error_description === undefined ? '' : `: ${clip(error.error_description)}`;
    return `${prefix}: the authorization server answered ${error.status} ${clip(error.error)}${description}`;
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    // RFC 6749 §5.2: a 401 with a challenge is the client's authentication refused.
    const code = error.cause[0]?.parameters.error ?? (error.status === 401 ? 'invalid_client' : 'error');
    return `${prefix}: the authorization server answered ${error.status} ${clip(code)} (the gateway's client id or secret was refused)`;
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `${prefix}: the authorization server did not answer in time`;
  }
  if (error instanceof TypeError) return `${prefix}: the authorization server could not be reached`;
  return `${prefix}: ${clip(error instanceof Error ? error.message : String(error))}`;
}
