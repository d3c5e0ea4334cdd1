import * as oauth from 'oauth4webapi';
import type { Logger } from '../logger.ts';
import type { SessionStore } from '../store/session-store.ts';
import type { CredentialBinding, CredentialSealer } from './credential-sealer.ts';
import { credentialOwner, type CredentialHolder } from './credential-owner.ts';
import {
  describeOAuthFailure,
  oauthFailureStatus,
  discoverAuthorizationServer,
  oauthOptions,
  openGrant,
  sealGrant,
} from './oauth-fetch.ts';
import { setCookie, readCookie } from './page-http.ts';

/**
 * Who the browser on the /tokens pages is, when it carries no bearer token: the gateway signs
 * its user in at the OpenID provider (authorization code, PKCE S256, state, nonce; the gateway a
 * relying party) and keeps the ID token's issuer and subject in a sealed, short-lived cookie.
 * @see https://openid.net/specs/openid-connect-core-1_0.html#CodeFlowAuth
 */

/** The OpenID provider the /tokens pages sign users in at (config `credentials.login`). */
export interface BrowserLoginConfig {
  readonly issuer: string;
  readonly clientId: string;
  /** Absent: a public client (PKCE only). */
  readonly clientSecret?: string;
  /** Default ['openid']; `openid` is always asked for. */
  readonly scopes?: readonly string[];
}

/** The login cookie's name. */
export const LOGIN_COOKIE = 'mcpgw_login';
/** How long a login lasts (the cookie) and how long a started login waits (its grant), in seconds. */
export const LOGIN_TTL_SECONDS = 600;
/** The path the provider sends the browser back to. */
export const LOGIN_CALLBACK_PATH = '/tokens/login/callback';
const LOGIN_GRANT = 'lg:';
const COOKIE_BINDING: CredentialBinding = { issuer: '', subject: 'login-cookie', server: '' };
const METADATA_TTL_MS = 10 * 60_000;

export interface BrowserLoginDeps {
  readonly store: SessionStore;
  readonly sealer: CredentialSealer;
  readonly fetch: typeof fetch;
  readonly logger: Logger;
}

export type LoginFinish =
  | { readonly ok: true; readonly cookie: string; readonly returnTo: string }
  | { readonly ok: false; readonly status: 400 | 403 | 502; readonly error: string };

export interface BrowserLogin {
  /** The provider's authorization URL for a new login that comes back to `returnTo` (a /tokens path). */
  start(login: BrowserLoginConfig, origin: string, returnTo: string): Promise<string>;
  /** Finishes a login at the callback URL: the login cookie and where to go, or why not. */
  finish(login: BrowserLoginConfig, origin: string, callback: URL): Promise<LoginFinish>;
  /** The holder the request's login cookie names, if it has a live one. */
  user(request: Request): Promise<CredentialHolder | undefined>;
}

/** Makes the login flow over `deps`; provider metadata is cached for 10 minutes per issuer. */
export function createBrowserLogin(deps: BrowserLoginDeps): BrowserLogin {
  const metadata = new Map<string, { as: oauth.AuthorizationServer; at: number }>();

  async function provider(issuer: string): Promise<oauth.AuthorizationServer> {
    const known = metadata.get(issuer);
    if (known !== undefined && Date.now() - known.at < METADATA_TTL_MS) return known.as;
    const as = await discoverAuthorizationServer(issuer, deps.fetch);
    metadata.set(issuer, { as, at: Date.now() });
    return as;
  }

  return {
    async start(login, origin, returnTo) {
      const as = await provider(login.issuer);
      if (as.authorization_endpoint === undefined) {
        throw new Error(`the login provider ${login.issuer} has no authorization endpoint`);
      }
      const state = oauth.generateRandomState();
      const nonce = oauth.generateRandomNonce();
      const verifier = oauth.generateRandomCodeVerifier();
      const sealed = await sealGrant(deps.sealer, 'login', state, { verifier, nonce, returnTo }, LOGIN_TTL_SECONDS);
      await deps.store.putGrant(LOGIN_GRANT + state, sealed, LOGIN_TTL_SECONDS);
      const scopes = new Set(['openid', ...(login.scopes ?? [])]);
      const url = new URL(as.authorization_endpoint);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: login.clientId,
        redirect_uri: origin + LOGIN_CALLBACK_PATH,
        scope: [...scopes].join(' '),
        state,
        nonce,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      }).toString();
      return url.href;
    },

    async finish(login, origin, callback) {
      const state = callback.searchParams.get('state') ?? '';
      if (state === '' || state.length > 100) return { ok: false, status: 400, error: 'the login has no state' };
      const grant = await openGrant(deps.sealer, 'login', state, await deps.store.takeGrant(LOGIN_GRANT + state));
      const { verifier, nonce, returnTo } = grant ?? {};
      if (typeof verifier !== 'string' || typeof nonce !== 'string' || typeof returnTo !== 'string') {
        return { ok: false, status: 400, error: 'the login is unknown or expired: start again' };
      }
      try {
        const as = await provider(login.issuer);
        const client: oauth.Client = { client_id: login.clientId };
        const auth = login.clientSecret === undefined ? oauth.None() : oauth.ClientSecretBasic(login.clientSecret);
        const params = oauth.validateAuthResponse(as, client, callback.searchParams, state);
        const options = oauthOptions(as.token_endpoint ?? login.issuer, deps.fetch);
        const response = await oauth.authorizationCodeGrantRequest(
          as,
          client,
          auth,
          params,
          origin + LOGIN_CALLBACK_PATH,
          verifier,
          options,
        );
        const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
          expectedNonce: nonce,
          requireIdToken: true,
        });
        const claims = oauth.getValidatedIdTokenClaims(tokens);
        if (claims === undefined || typeof claims.sub !== 'string') throw new Error('no ID token subject');
        const expiresAt = Date.now() + LOGIN_TTL_SECONDS * 1000;
        const identity = JSON.stringify({ issuer: claims.iss, subject: claims.sub });
        const sealed = await deps.sealer.seal({ authorization: identity, expiresAt }, COOKIE_BINDING);
        const secure = origin.startsWith('https:');
        const cookie = setCookie(LOGIN_COOKIE, sealed, { maxAge: LOGIN_TTL_SECONDS, secure, sameSite: 'Lax' });
        return { ok: true, cookie, returnTo };
      } catch (error) {
        const reason = describeOAuthFailure(error);
        deps.logger.warn('a /tokens login failed', { issuer: login.issuer, reason });
        return {
          ok: false,
          status: oauthFailureStatus(error),
          error: `the login at ${login.issuer} failed: ${reason}`,
        };
      }
    },

    async user(request) {
      const sealed = readCookie(request, LOGIN_COOKIE);
      if (sealed === undefined) return undefined;
      const opened = await deps.sealer.open(sealed, COOKIE_BINDING);
      if (opened === undefined) return undefined;
      try {
        const { issuer, subject } = JSON.parse(opened.authorization) as Record<string, unknown>;
        if (typeof issuer !== 'string' || typeof subject !== 'string') return undefined;
        return { issuer, subject, owner: await credentialOwner(issuer, subject) };
      } catch {
        return undefined;
      }
    },
  };
}
