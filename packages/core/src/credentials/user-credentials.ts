import type { ServerConfig } from '../config/schema.ts';
import type { TokenExchangeConfig } from '../config/credentials-schema.ts';
import { GatewayError } from '../errors.ts';
import type { Authentication } from '../identity/authentication.ts';
import type { Logger } from '../logger.ts';
import type { CallerIdentities } from '../session/caller-identity.ts';
import type { NotificationBus } from '../store/notification-bus.ts';
import type { SessionStore } from '../store/session-store.ts';
import {
  bindingOf,
  credentialHolder,
  storedCredentialTtlSeconds,
  TOKEN_ELICITATION_GRANT,
  TOKEN_ELICITATION_TTL_SECONDS,
  type CredentialHolder,
  type TokenElicitation,
} from './credential-owner.ts';
import type { CredentialSealer, UserCredential } from './credential-sealer.ts';
import { credentialCache, type CredentialCache } from './credential-cache.ts';
import { exchangeToken } from './token-exchange.ts';
import { tokenEndpointOf } from './token-endpoint.ts';

/**
 * The per-call decision on a server that takes each user's own credential (docs/credentials.md):
 * which Authorization goes upstream, made once, in core, for the broker, the Envoy router and
 * the worker alike. A server without a method keeps the client's own Authorization (`client`).
 */
export type UpstreamCredential =
  | { readonly kind: 'client' }
  | { readonly kind: 'user'; readonly authorization: string }
  /** Not forwarded: `error` is answered (a tools/call's `asToolError` as an isError result, as the anchor does). */
  | { readonly kind: 'refuse'; readonly error: GatewayError; readonly asToolError?: boolean };

/** One call's facts the decision reads. */
export interface CredentialCall {
  readonly server: ServerConfig;
  readonly auth: Authentication;
  /** The client's own Authorization header: the subject token a token exchange trades. */
  readonly authorization: string | null | undefined;
  /** The client's declared capabilities (session claims, or a 2026-07-28 request's `_meta`). */
  readonly clientCapabilities: Readonly<Record<string, unknown>> | undefined;
  /** Where the gateway's /tokens pages are reached (`https://host`), for the elicitation URL. */
  readonly origin: string;
  /** The legacy session of the call: told `notifications/elicitation/complete` once the user is done. */
  readonly jti?: string | undefined;
  /**
   * False: a user without a credential is not asked (no URL elicitation is started); the
   * answer is a refusal the caller hands on (the Envoy router sends such calls to the broker,
   * which asks). Default true.
   */
  readonly ask?: boolean;
}

export interface UserCredentials {
  /** Whether `server` takes each user's own credential here (a URL elicitation server only with the flag on). */
  applies(server: ServerConfig): boolean;
  forCall(call: CredentialCall): Promise<UpstreamCredential>;
  /** The upstream refused the user's credential (HTTP 401): it is dropped, so the next call asks again. */
  rejected(server: ServerConfig, auth: Authentication): Promise<void>;
  /** `owner`'s credential for `server` changed (stored, removed): every replica drops what it remembers of it. */
  changed(owner: string, server: string): Promise<void>;
  close(): void;
}

export interface UserCredentialsOptions {
  readonly store: SessionStore;
  readonly sealer: CredentialSealer;
  readonly callers: CallerIdentities;
  readonly logger: Logger;
  /** For token exchange and refresh (the identity fetch: timeouts, test transport). */
  readonly fetch?: typeof fetch;
  /** Where replicas tell each other that a credential changed. */
  readonly bus?: NotificationBus;
  /** `--enable-url-elicitation`: `tokenURLElicitation` servers take pasted tokens (the anchor's flag). */
  readonly urlElicitation: boolean;
  /** Refreshes an upstream OAuth credential whose access token expired; undefined: it cannot be. */
  readonly refresh?: (server: ServerConfig, credential: UserCredential) => Promise<UserCredential | undefined>;
  readonly now?: () => number;
}

/** The bus topic on which replicas announce changed credentials. */
export const CREDENTIALS_TOPIC = 'gateway:credentials';
/** An exchanged or refreshable token is not used in its last 30 s (it could expire on its way). */
const EXPIRY_MARGIN_MS = 30_000;
const TOOL_ERROR_TEXT = 'upstream server requires a per-user token but client does not support elicitation';

const CLIENT: UpstreamCredential = Object.freeze({ kind: 'client' });
const NOT_ASKED: UpstreamCredential = Object.freeze({
  kind: 'refuse',
  error: new GatewayError('USER_CREDENTIAL_UNAVAILABLE', 'the user has no credential for this upstream yet'),
});

export function createUserCredentials(options: UserCredentialsOptions): UserCredentials {
  const now = options.now ?? Date.now;
  const { store, sealer, logger } = options;
  const cache: CredentialCache = credentialCache(now);
  const unsubscribe = options.bus?.subscribe(CREDENTIALS_TOPIC, (message) => {
    const { owner, server } = message;
    if (typeof owner === 'string' && typeof server === 'string') cache.drop(owner, server);
  });

  const applies = (server: ServerConfig) =>
    server.userCredential !== undefined && (server.userCredential.kind !== 'paste' || options.urlElicitation);

  async function holderOf(auth: Authentication): Promise<CredentialHolder | undefined> {
    if (auth.kind === 'anonymous') return undefined;
    const key = auth.kind === 'verified' ? `v ${auth.identity.issuer}\n${auth.identity.subject}` : undefined;
    const known = key === undefined ? undefined : cache.holder(key);
    if (known !== undefined) return known;
    const holder = await credentialHolder(
      auth,
      auth.kind === 'credential' ? await options.callers.identify(auth) : undefined,
    );
    if (holder !== undefined && key !== undefined) cache.rememberHolder(key, holder);
    return holder;
  }

  /** The stored credential of (holder, server), refreshed when it expired and can be; undefined when none. */
  async function stored(holder: CredentialHolder, server: ServerConfig): Promise<UserCredential | undefined> {
    const sealed = await store.readCredential(holder.owner, server.name);
    if (sealed === undefined) return undefined;
    const binding = bindingOf(holder, server.name);
    const credential = await sealer.open(sealed, binding, now());
    if (credential === undefined) {
      // Tampered, sealed under a rotated-out key, or expired: the user authorizes again.
      logger.info('a stored user credential does not open; the user is asked again', { server: server.name });
      return undefined;
    }
    // A refreshable token is refreshed a little before it expires, so no call carries it past its end.
    if (credential.expiresAt - refreshMargin(credential) > now()) return credential;
    const refreshed = await options.refresh?.(server, credential).catch((error: unknown) => {
      logger.warn('refreshing a user credential failed; the user is asked again', {
        server: server.name,
        error: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    });
    if (refreshed === undefined) {
      await store.deleteCredential(holder.owner, server.name).catch(() => false);
      return undefined;
    }
    await keep(holder, server.name, refreshed);
    return refreshed;
  }

  async function keep(holder: CredentialHolder, server: string, credential: UserCredential): Promise<void> {
    const sealed = await sealer.seal(credential, bindingOf(holder, server));
    await store.writeCredential(holder.owner, server, sealed, storedCredentialTtlSeconds(credential, now()));
  }

  async function exchanged(
    holder: CredentialHolder,
    server: ServerConfig,
    method: TokenExchangeConfig,
    call: CredentialCall,
  ): Promise<UpstreamCredential> {
    const subjectToken = bearerToken(call.authorization);
    if (call.auth.kind !== 'verified' || subjectToken === undefined) {
      return refuse(
        'USER_CREDENTIAL_UNAVAILABLE',
        `upstream ${server.name} takes a token exchanged for the caller's own, and this request carries no verified bearer token`,
      );
    }
    const kept = await stored(holder, server);
    if (kept !== undefined && kept.expiresAt - EXPIRY_MARGIN_MS > now()) {
      cache.put(holder.owner, server.name, kept.authorization, kept.expiresAt - EXPIRY_MARGIN_MS);
      return { kind: 'user', authorization: kept.authorization };
    }
    try {
      const tokenEndpoint = await tokenEndpointOf(method, options.fetch);
      const token = await exchangeToken(
        { server: server.name, ...method, issuer: method.issuer ?? new URL(tokenEndpoint).origin, tokenEndpoint },
        subjectToken,
        {
          ...(options.fetch && { fetch: options.fetch }),
          subjectExpiresAt: call.auth.identity.expiresAt * 1000,
          now: now(),
        },
      );
      cache.put(holder.owner, server.name, token.authorization, token.expiresAt - EXPIRY_MARGIN_MS);
      // Kept for the other replicas; a store that fails here costs them an exchange, not this call.
      await keep(holder, server.name, token).catch(() => undefined);
      return { kind: 'user', authorization: token.authorization };
    } catch (error) {
      if (error instanceof GatewayError) return { kind: 'refuse', error };
      throw error;
    }
  }

  async function elicit(holder: CredentialHolder, call: CredentialCall): Promise<UpstreamCredential> {
    const { server } = call;
    if (!canElicit(call.clientCapabilities)) {
      return {
        kind: 'refuse',
        error: new GatewayError('USER_CREDENTIAL_UNAVAILABLE', TOOL_ERROR_TEXT),
        asToolError: true,
      };
    }
    const id = crypto.randomUUID();
    const entry: TokenElicitation = {
      issuer: holder.issuer,
      subject: holder.subject,
      owner: holder.owner,
      server: server.name,
      expiresAt: now() + TOKEN_ELICITATION_TTL_SECONDS * 1000,
      ...(call.jti !== undefined && { jti: call.jti }),
    };
    await store.putGrant(`${TOKEN_ELICITATION_GRANT}${id}`, JSON.stringify(entry), TOKEN_ELICITATION_TTL_SECONDS);
    const method = server.userCredential;
    const page = method?.kind === 'paste' && method.url !== undefined ? method.url : `${call.origin}/tokens`;
    const url = `${page}${page.includes('?') ? '&' : '?'}elicitation_id=${id}`;
    return {
      kind: 'refuse',
      error: new GatewayError('URL_ELICITATION_REQUIRED', 'URL elicitation required', {
        data: {
          elicitations: [
            { mode: 'url', elicitationId: id, url, message: 'Authorization is required to access this service.' },
          ],
        },
      }),
    };
  }

  return {
    applies,
    async forCall(call) {
      const { server } = call;
      const method = server.userCredential;
      if (method === undefined || !applies(server)) return CLIENT;
      const holder = await holderOf(call.auth);
      if (holder === undefined) {
        return refuse(
          'USER_CREDENTIAL_UNAVAILABLE',
          `upstream ${server.name} takes each user's own credential, and this request has no identity to keep one for: sign in first`,
        );
      }
      const cached = cache.get(holder.owner, server.name);
      if (cached !== undefined) return { kind: 'user', authorization: cached };
      if (method.kind === 'exchange') return exchanged(holder, server, method, call);
      const kept = await stored(holder, server);
      if (kept !== undefined) {
        cache.put(holder.owner, server.name, kept.authorization, kept.expiresAt - refreshMargin(kept), true);
        return { kind: 'user', authorization: kept.authorization };
      }
      if (call.ask === false) return NOT_ASKED;
      return elicit(holder, call);
    },
    async rejected(server, auth) {
      const holder = await holderOf(auth);
      if (holder === undefined || server.userCredential === undefined) return;
      cache.drop(holder.owner, server.name);
      await store.deleteCredential(holder.owner, server.name).catch(() => false);
      logger.info('the upstream refused a user credential; it is dropped', { server: server.name });
      await options.bus?.publish(CREDENTIALS_TOPIC, { owner: holder.owner, server: server.name }).catch(() => 0);
    },
    async changed(owner, server) {
      cache.drop(owner, server);
      await options.bus?.publish(CREDENTIALS_TOPIC, { owner, server }).catch(() => 0);
    },
    close() {
      unsubscribe?.();
    },
  };
}

/**
 * How long before its end a refreshable token is refreshed: 30 s, or a quarter of its lifetime
 * when that is shorter (a token of a few seconds is not refreshed on every call). None for a
 * token that cannot be refreshed: it is used to its end.
 */
function refreshMargin(credential: UserCredential): number {
  if (credential.refreshToken === undefined) return 0;
  if (credential.issuedAt === undefined) return EXPIRY_MARGIN_MS;
  return Math.min(EXPIRY_MARGIN_MS, (credential.expiresAt - credential.issuedAt) / 4);
}

function refuse(code: 'USER_CREDENTIAL_UNAVAILABLE', message: string): UpstreamCredential {
  return { kind: 'refuse', error: new GatewayError(code, message) };
}

/** The token of a `Bearer` Authorization header. */
function bearerToken(authorization: string | null | undefined): string | undefined {
  if (authorization === null || authorization === undefined) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
  return match?.[1];
}

/** Whether the client declared elicitation (the anchor's test: any `elicitation` capability). */
function canElicit(capabilities: Readonly<Record<string, unknown>> | undefined): boolean {
  const elicitation = capabilities?.['elicitation'];
  return typeof elicitation === 'object' && elicitation !== null;
}

/** No server takes users' own credentials (hosts and tests without them). */
export const NO_USER_CREDENTIALS: UserCredentials = Object.freeze({
  applies: () => false,
  forCall: async () => CLIENT,
  rejected: async () => {},
  changed: async () => {},
  close: () => {},
});
