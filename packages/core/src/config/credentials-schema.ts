import * as v from 'valibot';
import { isHttpUrl, mapping, text } from './schema-parts.ts';

/**
 * The config of users' own upstream credentials: per server, one of the three ways a user's
 * credential is had (a pasted token by URL elicitation, OAuth token exchange, the gateway as
 * the upstream's OAuth client), and the top-level `credentials` section (the /tokens pages'
 * login, how long a pasted token is kept).
 * @see docs/credentials.md
 */

const nonEmpty = () => v.pipe(text(), v.trim(), v.minLength(1, 'must not be empty'));
const scopes = () =>
  v.nullish(
    v.pipe(
      v.array(v.pipe(text(), v.regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be a scope token')), 'must be a list'),
      v.maxLength(50, 'must hold at most 50 scopes'),
    ),
  );

const httpUrl = () => v.pipe(text(), v.trim(), v.check(isHttpUrl, 'must be an absolute http(s) URL'));

/** `tokenURLElicitation` (the anchor's field): `{}` for the built-in /tokens page, or an external page's `url`. */
export const RawTokenUrlElicitationSchema = v.nullish(
  mapping(
    v.looseObject({
      url: v.nullish(v.pipe(text(), v.trim(), v.regex(/^https?:\/\//, 'must start with http:// or https://'))),
    }),
    'must be a mapping (`{}` for the built-in page, or `url`)',
  ),
);

/** `tokenExchange`: RFC 8693 at the user's authorization server. */
export const RawTokenExchangeSchema = v.nullish(
  mapping(
    v.strictObject(
      {
        tokenEndpoint: v.nullish(httpUrl()),
        issuer: v.nullish(httpUrl()),
        clientId: nonEmpty(),
        clientSecret: nonEmpty(),
        audience: v.nullish(nonEmpty()),
        resource: v.nullish(httpUrl()),
        scopes: scopes(),
      },
      'must be a mapping of tokenEndpoint or issuer, clientId, clientSecret, audience, resource and scopes',
    ),
    'must be a mapping',
  ),
);

/** `upstreamOAuth`: the gateway as the upstream's own OAuth client (authorization code with PKCE). */
export const RawUpstreamOAuthSchema = v.nullish(
  mapping(
    v.strictObject(
      { clientId: v.nullish(nonEmpty()), clientSecret: v.nullish(nonEmpty()), scopes: scopes() },
      'must be a mapping of clientId, clientSecret and scopes',
    ),
    'must be a mapping',
  ),
);

/** The top-level `credentials` section. */
export const RawCredentialsSchema = v.strictObject(
  {
    login: v.nullish(
      mapping(
        v.strictObject(
          {
            issuer: v.nullish(httpUrl()),
            clientId: nonEmpty(),
            clientSecret: v.nullish(nonEmpty()),
            scopes: scopes(),
          },
          'must be a mapping of issuer, clientId, clientSecret and scopes',
        ),
        'must be a mapping',
      ),
    ),
    pastedTokenTtlSeconds: v.nullish(
      v.pipe(
        v.number('must be a number'),
        v.integer('must be a whole number'),
        v.minValue(60, 'must be at least 60'),
        v.maxValue(2_592_000, 'must be at most 2592000 (30 days)'),
      ),
    ),
  },
  'must be a mapping of login and pastedTokenTtlSeconds',
);

/** How a server's users get their own credential; at most one per server. */
export type UserCredentialMethod =
  | { readonly kind: 'paste'; readonly url?: string }
  | ({ readonly kind: 'exchange' } & TokenExchangeConfig)
  | ({ readonly kind: 'oauth' } & UpstreamOAuthConfig);

/** RFC 8693 token exchange for one upstream. */
export interface TokenExchangeConfig {
  /** The token endpoint; else found in `issuer`'s metadata. */
  readonly tokenEndpoint?: string;
  readonly issuer?: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly audience?: string;
  readonly resource?: string;
  readonly scopes?: readonly string[];
}

/** The gateway as an upstream's OAuth client. */
export interface UpstreamOAuthConfig {
  /** Absent: registered dynamically (RFC 7591). */
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly scopes?: readonly string[];
}

/** The /tokens pages' login: who the browser's user is (OpenID Connect, code with PKCE). */
export interface CredentialLoginConfig {
  /** Absent: the token verification's only issuer. */
  readonly issuer?: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly scopes: readonly string[];
}

/** How long a pasted token is kept by default: a day. */
export const DEFAULT_PASTED_TOKEN_TTL_SECONDS = 86_400;

/** The `credentials` section, resolved. */
export interface CredentialsConfig {
  /** Absent: the pages know the user only by a bearer token on the page request. */
  readonly login?: CredentialLoginConfig;
  readonly pastedTokenTtlSeconds: number;
}

type RawServerMethods = {
  tokenURLElicitation?: v.InferOutput<typeof RawTokenUrlElicitationSchema>;
  tokenExchange?: v.InferOutput<typeof RawTokenExchangeSchema>;
  upstreamOAuth?: v.InferOutput<typeof RawUpstreamOAuthSchema>;
};

/** A server's user credential method, or undefined; more than one, or an exchange without its endpoint, is an issue. */
export function resolveUserCredentialMethod(
  raw: RawServerMethods,
  at: string,
  issues: string[],
): UserCredentialMethod | undefined {
  const given = (['tokenURLElicitation', 'tokenExchange', 'upstreamOAuth'] as const).filter(
    (key) => raw[key] !== undefined && raw[key] !== null,
  );
  if (given.length > 1) {
    issues.push(
      `${at}: give at most one of tokenURLElicitation, tokenExchange and upstreamOAuth (got ${given.join(', ')})`,
    );
    return undefined;
  }
  if (raw.tokenURLElicitation) {
    const url = raw.tokenURLElicitation.url;
    return url ? { kind: 'paste', url } : { kind: 'paste' };
  }
  if (raw.tokenExchange) {
    const exchange = raw.tokenExchange;
    if (!exchange.tokenEndpoint && !exchange.issuer) {
      issues.push(`${at}.tokenExchange: needs tokenEndpoint or issuer (whose metadata names the token endpoint)`);
      return undefined;
    }
    return {
      kind: 'exchange',
      clientId: exchange.clientId,
      clientSecret: exchange.clientSecret,
      ...(exchange.tokenEndpoint ? { tokenEndpoint: exchange.tokenEndpoint } : {}),
      ...(exchange.issuer ? { issuer: exchange.issuer } : {}),
      ...(exchange.audience ? { audience: exchange.audience } : {}),
      ...(exchange.resource ? { resource: exchange.resource } : {}),
      ...(exchange.scopes && exchange.scopes.length > 0 ? { scopes: exchange.scopes } : {}),
    };
  }
  if (raw.upstreamOAuth) {
    const oauth = raw.upstreamOAuth;
    return {
      kind: 'oauth',
      ...(oauth.clientId ? { clientId: oauth.clientId } : {}),
      ...(oauth.clientSecret ? { clientSecret: oauth.clientSecret } : {}),
      ...(oauth.scopes && oauth.scopes.length > 0 ? { scopes: oauth.scopes } : {}),
    };
  }
  return undefined;
}

/**
 * The `credentials` section, resolved. A login without `issuer` uses the token verification's
 * only issuer (from the file or OAUTH_ISSUERS), found when the config is applied.
 */
export function resolveCredentials(
  raw: v.InferOutput<typeof RawCredentialsSchema> | null | undefined,
): CredentialsConfig {
  const pastedTokenTtlSeconds = raw?.pastedTokenTtlSeconds ?? DEFAULT_PASTED_TOKEN_TTL_SECONDS;
  const login = raw?.login;
  if (!login) return { pastedTokenTtlSeconds };
  return {
    pastedTokenTtlSeconds,
    login: {
      ...(login.issuer ? { issuer: login.issuer } : {}),
      clientId: login.clientId,
      ...(login.clientSecret ? { clientSecret: login.clientSecret } : {}),
      scopes: login.scopes && login.scopes.length > 0 ? login.scopes : ['openid'],
    },
  };
}
