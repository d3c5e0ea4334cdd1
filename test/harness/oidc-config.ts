import { errors, type Configuration } from 'oidc-provider';
import { accountTokenClaims, type OidcAccount } from './oidc-accounts.ts';
import { INTERACTION_PATH } from './oidc-interactions.ts';
import { TOKEN_EXCHANGE_GRANT } from './oidc-token-exchange.ts';
import type { SigningKey } from './signing-keys.ts';

/** The JWKS endpoint's path, kept explicit because the fault switch sits in front of it. */
export const JWKS_PATH = '/jwks';
/** The public client the harness's own code flow uses, and its redirect_uri (nothing listens there). */
export const HARNESS_WEB_CLIENT = { clientId: 'harness-web', redirectUri: 'http://127.0.0.1/callback' } as const;

/** What the provider's configuration reads; `keys()` and `ttl()` are read per token, so they can change. */
export interface OidcConfigInput {
  readonly alg: 'RS256' | 'ES256';
  /** The signing keys, active first. */
  keys(): readonly SigningKey[];
  /** Access token lifetime in seconds. */
  ttl(): number;
  readonly scopes: readonly string[];
  readonly accounts: Readonly<Record<string, OidcAccount>>;
  readonly acceptResource: (resource: string) => boolean;
  readonly store: NonNullable<Configuration['adapter']>;
  readonly cookieKeys: readonly string[];
  readonly serviceClient: { readonly clientId: string; readonly clientSecret: string };
  /** A confidential client allowed the token exchange grant (a gateway exchanging its callers' tokens). */
  readonly exchangeClient: { readonly clientId: string; readonly clientSecret: string };
}

/**
 * oidc-provider configured as an MCP authorization server: open dynamic registration, the code
 * flow only and always with PKCE, refresh tokens, client_credentials, and JWT access tokens
 * (RFC 9068) for any accepted resource indicator, signed with the active key.
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#configuration-options
 */
export function createOidcConfiguration(input: OidcConfigInput): Configuration {
  const { alg, accounts, scopes } = input;
  return {
    adapter: input.store,
    jwks: { keys: input.keys().map((key) => key.privateJwk) as NonNullable<Configuration['jwks']>['keys'] },
    cookies: { keys: [...input.cookieKeys] },
    scopes: ['openid', 'offline_access', ...scopes],
    clients: [
      {
        client_id: input.serviceClient.clientId,
        client_secret: input.serviceClient.clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      },
      {
        client_id: input.exchangeClient.clientId,
        client_secret: input.exchangeClient.clientSecret,
        grant_types: [TOKEN_EXCHANGE_GRANT],
        response_types: [],
        redirect_uris: [],
      },
      {
        client_id: HARNESS_WEB_CLIENT.clientId,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [HARNESS_WEB_CLIENT.redirectUri],
      },
    ],
    clientDefaults: { id_token_signed_response_alg: alg },
    findAccount: (_ctx, id) =>
      Object.hasOwn(accounts, id) ? { accountId: id, claims: () => ({ sub: id, name: id }) } : undefined,
    extraTokenClaims: (_ctx, token) => {
      const account = 'accountId' in token ? accounts[token.accountId] : undefined;
      return account === undefined ? undefined : accountTokenClaims(account);
    },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true, initialAccessToken: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (!input.acceptResource(resource)) throw new errors.InvalidTarget();
          const kid = input.keys()[0]?.kid;
          return { scope: scopes.join(' '), accessTokenFormat: 'jwt', jwt: { sign: { alg, kid } } };
        },
      },
    },
    // OAuth 2.1: the code flow only (no implicit or hybrid response types), always with PKCE.
    responseTypes: ['code'],
    pkce: { required: () => true },
    interactions: { url: (_ctx, interaction) => `${INTERACTION_PATH}/${interaction.uid}` },
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    routes: { jwks: JWKS_PATH },
    ttl: {
      AccessToken: () => input.ttl(),
      ClientCredentials: () => input.ttl(),
      AuthorizationCode: 60,
      IdToken: 3_600,
      RefreshToken: 86_400,
      Interaction: 600,
      Session: 86_400,
      Grant: 86_400,
    },
    // Errors as JSON, so that the harness's browser and token requests can say what went wrong.
    renderError: (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  };
}
