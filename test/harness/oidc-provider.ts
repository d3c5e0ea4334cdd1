import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { createJwksFront, type JwksControl } from './jwks-fault.ts';
import { authorizationCodeFlow, requestToken, type IssuedToken } from './oauth-code-flow.ts';
import { DEFAULT_ACCOUNTS, type OidcAccount } from './oidc-accounts.ts';
import { createOidcConfiguration, HARNESS_WEB_CLIENT, JWKS_PATH } from './oidc-config.ts';
import { handleInteraction } from './oidc-interactions.ts';
import { createOidcStore } from './oidc-store.ts';
import { registerTokenExchange, type TokenExchangeInput } from './oidc-token-exchange.ts';
import { createSigningKey, type SigningKey } from './signing-keys.ts';

export interface OidcProviderOptions {
  /** The access tokens' signature algorithm. Default RS256. */
  alg?: 'RS256' | 'ES256';
  /** The scopes every resource offers (besides `openid` and `offline_access`). Default `mcp:tools`, `mcp:admin`. */
  scopes?: readonly string[];
  /** Access token lifetime in seconds (also client_credentials tokens). Default 300. */
  accessTokenTtl?: number;
  /** The users who can sign in. Default {@link DEFAULT_ACCOUNTS} (alice, bob). */
  accounts?: Readonly<Record<string, OidcAccount>>;
  /** Which resource indicators tokens may be issued for. Default: any http(s) URL without a fragment. */
  acceptResource?: (resource: string) => boolean;
}

/** A confidential client registered up front, for the client_credentials grant. */
export interface ServiceClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface RunningOidcProvider {
  /** `http://127.0.0.1:<port>`, exactly as tokens name it in `iss`. */
  readonly issuer: string;
  readonly port: number;
  /** `<issuer>/jwks`, the discovery documents' `jwks_uri`. */
  readonly jwksUri: string;
  /** The signing keys: `active` signs new tokens, `all` is what the JWKS publishes (active first). */
  readonly keys: { readonly active: SigningKey; readonly all: readonly SigningKey[] };
  /** The JWKS endpoint's fault switch and fetch counter. */
  readonly jwks: JwksControl;
  readonly serviceClient: ServiceClient;
  /** A confidential client allowed RFC 8693 token exchange (what a gateway is configured with). */
  readonly exchangeClient: ServiceClient;
  /** The token exchanges the provider answered, in order. */
  exchanges(): TokenExchangeInput['log'];
  /** A client_credentials token for `resource` (its `sub` is the service client's id). */
  clientCredentialsToken(options: { resource: string; scope?: string }): Promise<IssuedToken>;
  /** A user's token by the authorization code flow with PKCE, the browser played by fetch. */
  userToken(options: { account: string; resource: string; scope?: string }): Promise<IssuedToken>;
  /** A refresh_token grant as the public harness client (the one {@link RunningOidcProvider.userToken} uses). */
  refreshUserToken(refreshToken: string, options: { resource: string }): Promise<IssuedToken>;
  /**
   * A new signing key (same algorithm, new kid) signs from now on; the old keys stay in the
   * JWKS unless `keepOld` is false. Registered clients, sessions and grants carry over.
   */
  rotateKeys(options?: { keepOld?: boolean }): Promise<SigningKey>;
  /** Changes the lifetime of tokens issued from now on. */
  setAccessTokenTtl(seconds: number): void;
  /** Every request the provider received, in order (method and path, query left out). */
  requests(): ReadonlyArray<{ readonly method: string; readonly path: string }>;
  /** Every grant its token endpoint answered with tokens, in order: the grant type and the client. */
  grants(): ReadonlyArray<{ readonly grantType: string; readonly clientId: string }>;
  stop(): Promise<void>;
}

export const DEFAULT_OIDC_SCOPES = ['mcp:tools', 'mcp:admin'] as const;
const DEFAULT_ACCESS_TOKEN_TTL = 300;

/**
 * A real OpenID provider (panva's oidc-provider, in this process) on 127.0.0.1, configured as
 * an MCP authorization server: open dynamic client registration, PKCE required, refresh tokens,
 * client_credentials, and resource indicators whose access tokens are RFC 9068 JWTs (`at+jwt`,
 * `aud` = the resource) carrying each account's `roles` and `org`. It runs in the test process
 * so that tests can rotate its keys, fault its JWKS and count its fetches with plain calls.
 * @see https://www.rfc-editor.org/rfc/rfc9068 (JWT access tokens)
 * @see https://www.rfc-editor.org/rfc/rfc8707 (resource indicators)
 */
export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<RunningOidcProvider> {
  const alg = options.alg ?? 'RS256';
  const accounts = options.accounts ?? DEFAULT_ACCOUNTS;
  const scopes = [...(options.scopes ?? DEFAULT_OIDC_SCOPES)];
  let ttl = options.accessTokenTtl ?? DEFAULT_ACCESS_TOKEN_TTL;
  let keys: SigningKey[] = [await createSigningKey(alg)];
  const store = createOidcStore();
  const cookieKeys = [randomBytes(32).toString('base64url')];
  const serviceClient = { clientId: 'harness-service', clientSecret: randomBytes(32).toString('base64url') };
  const exchangeClient = { clientId: 'harness-gateway', clientSecret: randomBytes(32).toString('base64url') };
  const exchanges: TokenExchangeInput['log'] = [];
  const jwksFront = createJwksFront(JWKS_PATH);
  const log: Array<{ method: string; path: string }> = [];
  const grants: Array<{ grantType: string; clientId: string }> = [];

  const http = createServer();
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', resolve);
  });
  const port = (http.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;

  const configure = () =>
    createOidcConfiguration({
      alg,
      keys: () => keys,
      ttl: () => ttl,
      scopes,
      accounts,
      acceptResource: options.acceptResource ?? isResourceUrl,
      store,
      cookieKeys,
      serviceClient,
      exchangeClient,
    });
  const acceptResource = options.acceptResource ?? isResourceUrl;
  const build = () => {
    const built = new Provider(issuer, configure());
    registerTokenExchange(built, { issuer, keys: () => keys, ttl: () => ttl, scopes, acceptResource, log: exchanges });
    built.on('grant.success', (ctx) => {
      grants.push({ grantType: String(ctx.oidc.params?.['grant_type']), clientId: ctx.oidc.client?.clientId ?? '' });
    });
    return built;
  };

  let provider = build();
  let handler = provider.callback();

  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    route(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      else res.destroy();
    });
  });
  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', issuer);
    log.push({ method: req.method ?? '', path: url.pathname });
    if (await jwksFront.intercept(req, res)) return;
    if (await handleInteraction(provider, accounts, req, res)) return;
    await handler(req, res);
  };

  const metadata = async () => {
    const response = await fetch(`${issuer}/.well-known/openid-configuration`);
    return (await response.json()) as { authorization_endpoint: string; token_endpoint: string };
  };

  return {
    issuer,
    port,
    jwksUri: `${issuer}${JWKS_PATH}`,
    keys: {
      get active() {
        return keys[0]!;
      },
      get all() {
        return [...keys];
      },
    },
    jwks: jwksFront.control,
    serviceClient,
    exchangeClient,
    exchanges: () => [...exchanges],
    async clientCredentialsToken({ resource, scope }) {
      const { token_endpoint } = await metadata();
      return requestToken(token_endpoint, serviceClient, {
        grant_type: 'client_credentials',
        resource,
        ...(scope === undefined ? {} : { scope }),
      });
    },
    async userToken({ account, resource, scope }) {
      const { authorization_endpoint, token_endpoint } = await metadata();
      return authorizationCodeFlow({
        authorizationEndpoint: authorization_endpoint,
        tokenEndpoint: token_endpoint,
        clientId: HARNESS_WEB_CLIENT.clientId,
        redirectUri: HARNESS_WEB_CLIENT.redirectUri,
        account,
        resource,
        ...(scope === undefined ? {} : { scope }),
      });
    },
    async refreshUserToken(refreshToken, { resource }) {
      const { token_endpoint } = await metadata();
      return requestToken(
        token_endpoint,
        { clientId: HARNESS_WEB_CLIENT.clientId },
        { grant_type: 'refresh_token', refresh_token: refreshToken, resource },
      );
    },
    async rotateKeys({ keepOld = true } = {}) {
      const fresh = await createSigningKey(alg);
      keys = keepOld ? [fresh, ...keys] : [fresh];
      // The keystore is fixed when a Provider is built, so a new one takes over the same store.
      provider = build();
      handler = provider.callback();
      return fresh;
    },
    setAccessTokenTtl(seconds) {
      ttl = seconds;
    },
    requests: () => [...log],
    grants: () => [...grants],
    async stop() {
      jwksFront.close();
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await closed;
    },
  };
}

/** An absolute http(s) URL without a fragment, as RFC 8707 §2 asks of a resource indicator. */
function isResourceUrl(resource: string): boolean {
  try {
    const url = new URL(resource);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hash === '' && !resource.includes('#');
  } catch {
    return false;
  }
}
