import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { authorizeInBrowser } from './oauth-browser.ts';

/** A token endpoint's answer, with the access token's header and claims decoded (not verified). */
export interface IssuedToken {
  readonly accessToken: string;
  readonly refreshToken?: string;
  readonly idToken?: string;
  readonly tokenType: string;
  readonly expiresIn: number;
  readonly scope: string;
  readonly header: ProtectedHeaderParameters;
  readonly claims: JWTPayload;
}

/** Client authentication at the token endpoint: a confidential client's secret, or a public client's id. */
export type TokenClient = { clientId: string; clientSecret: string } | { clientId: string; clientSecret?: undefined };

/**
 * POSTs a token request (client_secret_basic for a confidential client, `client_id` in the
 * body for a public one). Rejects with the endpoint's status and error body when it refuses.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.2
 */
export async function requestToken(
  tokenEndpoint: string,
  client: TokenClient,
  params: Record<string, string>,
): Promise<IssuedToken> {
  const body = new URLSearchParams(params);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (client.clientSecret === undefined) body.set('client_id', client.clientId);
  else {
    const credentials = `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`;
    headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  const response = await fetch(tokenEndpoint, { method: 'POST', headers, body });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) {
    throw new Error(`token endpoint answered ${response.status}: ${JSON.stringify(json)}`);
  }
  const accessToken = String(json.access_token);
  if (accessToken.split('.').length !== 3) {
    throw new Error('the access token is not a JWT: was a resource indicator sent?');
  }
  return {
    accessToken,
    ...(typeof json.refresh_token === 'string' ? { refreshToken: json.refresh_token } : {}),
    ...(typeof json.id_token === 'string' ? { idToken: json.id_token } : {}),
    tokenType: String(json.token_type),
    expiresIn: Number(json.expires_in),
    scope: typeof json.scope === 'string' ? json.scope : '',
    header: decodeProtectedHeader(accessToken),
    claims: decodeJwt(accessToken),
  };
}

export interface CodeFlowOptions {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** A public client registered with `redirectUri` (PKCE is what protects its code). */
  clientId: string;
  redirectUri: string;
  /** Who signs in on the login page. */
  account: string;
  /** The resource indicator (RFC 8707) the token is for: its `aud`. */
  resource: string;
  /** Space-separated scopes. */
  scope?: string;
}

/**
 * The authorization code flow with PKCE (S256) as a public client runs it, the browser part
 * played by {@link authorizeInBrowser}; no MCP SDK involved.
 * @see https://www.rfc-editor.org/rfc/rfc7636
 */
export async function authorizationCodeFlow(options: CodeFlowOptions): Promise<IssuedToken> {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const url = new URL(options.authorizationEndpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: options.clientId,
    redirect_uri: options.redirectUri,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state,
    resource: options.resource,
    ...(options.scope === undefined ? {} : { scope: options.scope }),
  }).toString();

  const answer = await authorizeInBrowser(url, { account: options.account, redirectUri: options.redirectUri });
  const code = answer.get('code');
  if (code === null) {
    throw new Error(`authorization refused: ${answer.get('error')} (${answer.get('error_description') ?? ''})`);
  }
  if (answer.get('state') !== state) throw new Error('authorization answered another request (state mismatch)');

  return requestToken(
    options.tokenEndpoint,
    { clientId: options.clientId },
    {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: options.redirectUri,
      resource: options.resource,
    },
  );
}
