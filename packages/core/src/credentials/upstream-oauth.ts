import * as oauth from 'oauth4webapi';
import { GatewayError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { SessionStore } from '../store/session-store.ts';
import type { CredentialSealer, UserCredential } from './credential-sealer.ts';
import type { CredentialHolder } from './credential-owner.ts';
import { describeOAuthFailure, oauthFailureStatus, oauthOptions, openGrant, sealGrant } from './oauth-fetch.ts';
import {
  discoverUpstreamAuthorization,
  type UpstreamAuthorization,
  type UpstreamOAuthServer,
} from './upstream-discovery.ts';
import { clientAuth, toCredential, type ClientRecord } from './upstream-token.ts';

/**
 * The gateway as an upstream's OAuth client, between the /tokens pages and the upstream's
 * authorization server: the authorization redirect (PKCE S256, state, RFC 8707 `resource`,
 * dynamic client registration when no client is configured) and its callback.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
 */

/** The path the upstream's authorization server sends the browser back to. */
export const UPSTREAM_OAUTH_CALLBACK_PATH = '/tokens/oauth/callback';
/** How long an authorization waits for its user, in seconds. */
export const UPSTREAM_OAUTH_STATE_TTL_SECONDS = 600;
const STATE_GRANT = 'oa:';
const DISCOVERY_TTL_MS = 10 * 60_000;

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
  readonly elicitation?: AnsweredElicitation;
}

/** The URL elicitation an authorization answers (its session is told once it is done). */
export interface AnsweredElicitation {
  readonly id: string;
  readonly jti?: string;
}

export type UpstreamOAuthFinish =
  | {
      readonly ok: true;
      readonly holder: CredentialHolder;
      readonly server: string;
      readonly credential: UserCredential;
      readonly elicitation?: AnsweredElicitation;
    }
  | { readonly ok: false; readonly status: 400 | 403 | 502; readonly error: string };

export interface UpstreamOAuth {
  /** The upstream authorization server's URL the user's browser goes to, for `holder`'s credential to `server`. */
  authorize(
    server: UpstreamOAuthServer,
    holder: CredentialHolder,
    origin: string,
    elicitation?: AnsweredElicitation,
  ): Promise<string>;
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
    if (clientId !== undefined)
      return Promise.resolve(clientSecret === undefined ? { clientId } : { clientId, clientSecret });
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
    async authorize(server, holder, origin, elicitation) {
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
        throw new GatewayError(
          'UPSTREAM_UNAVAILABLE',
          `authorization server ${as.issuer} of server ${server.name} has no authorization or token endpoint`,
        );
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
        ...(elicitation !== undefined && { elicitation }),
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
      if (stateId === '' || stateId.length > 100)
        return { ok: false, status: 400, error: 'the authorization has no state' };
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
        const answered = state.elicitation;
        return {
          ok: true,
          holder,
          server: state.server,
          credential,
          ...(answered !== undefined && { elicitation: answered }),
        };
      } catch (error) {
        const reason = describeOAuthFailure(error);
        deps.logger.warn('an upstream authorization failed', { server: state.server, issuer: state.as.issuer, reason });
        return {
          ok: false,
          status: oauthFailureStatus(error),
          error: `authorization for server ${state.server} at ${state.as.issuer} failed: ${reason}`,
        };
      }
    },
  };
}

async function register(
  as: oauth.AuthorizationServer,
  redirectUri: string,
  fetcher: typeof fetch,
): Promise<ClientRecord> {
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
