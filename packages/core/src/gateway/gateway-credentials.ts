import type { GatewayConfig, ServerConfig } from '../config/schema.ts';
import {
  assertCredentialSecrets,
  createCredentialSealer,
  deferredSealer,
  parseCredentialSecrets,
  type CredentialSealer,
  type UserCredential,
} from '../credentials/credential-sealer.ts';
import { createUserCredentials, type UserCredentials } from '../credentials/user-credentials.ts';
import type { BrowserLoginConfig } from '../credentials/browser-login.ts';
import { createTokenPages, type TokenPages, type TokenPagesServer } from '../credentials/token-pages.ts';
import { refreshUpstreamToken } from '../credentials/upstream-token.ts';
import { DEFAULT_PASTED_TOKEN_TTL_SECONDS } from '../config/credentials-schema.ts';
import { oauthOf, type AccessControl, type AccessEnv } from '../decision/access-control.ts';
import type { Logger } from '../logger.ts';
import type { CallerIdentities } from '../session/caller-identity.ts';
import { sessionTopic, type NotificationBus } from '../store/notification-bus.ts';
import type { SessionStore } from '../store/session-store.ts';

/** A host's settings of users' own upstream credentials (docs/credentials.md). */
export interface CredentialSettings {
  /** `--enable-url-elicitation` (ENABLE_URL_ELICITATION): `tokenURLElicitation` servers take pasted tokens. Default false. */
  readonly urlElicitation?: boolean;
  /**
   * CREDENTIAL_ENCRYPTION_KEYS: secrets of at least 32 bytes, comma or space separated, newest
   * first. Absent or empty: one key derived from the session signing key (as the anchor does).
   */
  readonly encryptionKeys?: string;
  /** `--mcp-gateway-public-host`: the host in the /tokens URLs; else the request's Host. */
  readonly publicHost?: string;
  /** Refreshes an upstream OAuth credential whose access token expired (the /tokens pages' OAuth client). */
  readonly refresh?: (server: ServerConfig, credential: UserCredential) => Promise<UserCredential | undefined>;
}

export interface GatewayCredentials {
  readonly credentials: UserCredentials;
  readonly tokenPages: TokenPages;
  /** Logs what a config's credential settings leave off (credentialWarnings). */
  warn(config: GatewayConfig): void;
}

/** What the credentials read of the running gateway. */
export interface GatewayCredentialDeps {
  readonly store: SessionStore;
  readonly bus: NotificationBus;
  readonly callers: CallerIdentities;
  readonly logger: Logger;
  /** For token exchange, refresh and the pages' OAuth (the identity fetch). */
  readonly fetch?: typeof fetch;
  readonly accessEnv: AccessEnv;
  config(): GatewayConfig;
  server(name: string): ServerConfig | undefined;
  access(): AccessControl;
}

/**
 * The sealer of users' credentials (its keys checked now, derived in the background), the
 * per-call decision over the gateway's store, bus and caller identities, and the /tokens pages.
 * @throws Error naming a key shorter than 32 bytes.
 */
export function createGatewayCredentials(
  settings: CredentialSettings,
  signingKey: string | Uint8Array,
  deps: GatewayCredentialDeps,
): GatewayCredentials {
  const configured = parseCredentialSecrets(settings.encryptionKeys ?? '');
  const secrets =
    configured.length > 0
      ? configured
      : [typeof signingKey === 'string' ? new TextEncoder().encode(signingKey) : new Uint8Array(signingKey)];
  assertCredentialSecrets(secrets);
  const made = createCredentialSealer(secrets);
  // Checked above: derivation itself does not fail; a rejection would surface at first use.
  made.catch(() => undefined);
  const sealer = deferredSealer(made);
  const credentials = createUserCredentials({
    store: deps.store,
    bus: deps.bus,
    callers: deps.callers,
    logger: deps.logger,
    ...(deps.fetch && { fetch: deps.fetch }),
    sealer,
    urlElicitation: settings.urlElicitation === true,
    refresh:
      settings.refresh ??
      (async (server, credential) =>
        server.userCredential?.kind === 'oauth'
          ? refreshUpstreamToken(
              { name: server.name, url: server.url, upstreamOAuth: server.userCredential },
              credential,
              {
                ...(deps.fetch && { fetch: deps.fetch }),
              },
            )
          : undefined),
  });
  const tokenPages = gatewayTokenPages({ ...deps, sealer, credentials, publicHost: settings.publicHost });
  const warn = (config: GatewayConfig) => {
    for (const warning of credentialWarnings(config, settings, deps.accessEnv)) deps.logger.warn(warning);
  };
  return { credentials, tokenPages, warn };
}

type TokenPagesSource = GatewayCredentialDeps & {
  readonly sealer: CredentialSealer;
  readonly credentials: UserCredentials;
  readonly publicHost: string | undefined;
};

/**
 * The /tokens pages over the gateway's current config: a server's page is there only while it
 * takes users' credentials here (a URL elicitation server only with the flag on); the login is
 * the config's `credentials.login`, its issuer by default the token verification's only one.
 */
function gatewayTokenPages(source: TokenPagesSource): TokenPages {
  return createTokenPages({
    store: source.store,
    sealer: source.sealer,
    authenticate: (authorization) => source.access().authenticate(authorization),
    server: (name) => {
      const server = source.server(name);
      return server === undefined || !source.credentials.applies(server) ? undefined : pagesServer(server);
    },
    login: () => loginOf(source.config(), source.accessEnv),
    ...(source.publicHost !== undefined && { publicHost: source.publicHost }),
    ...(source.fetch && { fetch: source.fetch }),
    logger: source.logger,
    changed: (owner, server) => void source.credentials.changed(owner, server),
    // MCP 2025-11-25: the session that was asked learns the user is done (its client may retry).
    completed: (elicitationId, jti) =>
      void source.bus
        .publish(sessionTopic(jti), {
          jsonrpc: '2.0',
          method: 'notifications/elicitation/complete',
          params: { elicitationId },
        })
        .catch(() => 0),
    pastedTokenTtlSeconds: source.config().credentials?.pastedTokenTtlSeconds ?? DEFAULT_PASTED_TOKEN_TTL_SECONDS,
  });
}

function pagesServer(server: ServerConfig): TokenPagesServer | undefined {
  const method = server.userCredential;
  if (method?.kind === 'paste') {
    return {
      name: server.name,
      url: server.url,
      tokenURLElicitation: method.url === undefined ? {} : { url: method.url },
    };
  }
  if (method?.kind === 'oauth') {
    const { kind: _kind, ...upstreamOAuth } = method;
    return { name: server.name, url: server.url, upstreamOAuth };
  }
  return undefined;
}

function loginOf(config: GatewayConfig, env: AccessEnv): BrowserLoginConfig | undefined {
  const login = config.credentials?.login;
  if (login === undefined) return undefined;
  const issuers = oauthOf(config, env)?.issuers ?? [];
  const issuer = login.issuer ?? (issuers.length === 1 ? issuers[0]?.issuer : undefined);
  if (issuer === undefined) return undefined;
  return {
    issuer,
    clientId: login.clientId,
    ...(login.clientSecret !== undefined && { clientSecret: login.clientSecret }),
    scopes: login.scopes,
  };
}

/**
 * The config as this host serves it: a `tokenURLElicitation` without the URL elicitation flag is
 * ignored (the anchor's behaviour; credentialWarnings says so), so that a server has a
 * `userCredential` exactly when its users' own credentials are in force.
 */
export function inForce(config: GatewayConfig, settings: CredentialSettings): GatewayConfig {
  if (settings.urlElicitation === true || !config.servers.some((server) => server.userCredential?.kind === 'paste')) {
    return config;
  }
  return {
    ...config,
    servers: config.servers.map((server) => {
      if (server.userCredential?.kind !== 'paste') return server;
      const { userCredential: _ignored, ...rest } = server;
      return rest;
    }),
  };
}

/** What a host should say about a config's credential settings (a field that is off, and why). */
export function credentialWarnings(config: GatewayConfig, settings: CredentialSettings, env: AccessEnv = {}): string[] {
  const warnings: string[] = [];
  if (config.credentials?.login !== undefined && loginOf(config, env) === undefined) {
    warnings.push(
      'credentials.login: no issuer, and token verification does not name exactly one: the /tokens pages sign nobody in (set credentials.login.issuer)',
    );
  }
  if (settings.urlElicitation === true) return warnings;
  for (const server of config.servers) {
    if (server.userCredential?.kind !== 'paste') continue;
    warnings.push(
      `server ${server.name}: tokenURLElicitation is ignored without --enable-url-elicitation (ENABLE_URL_ELICITATION=true); its calls carry the client's own Authorization`,
    );
  }
  return warnings;
}
