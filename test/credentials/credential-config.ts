// The config files of the credentials suites (issue 15's design): upstreams with a per-user
// method (URL elicitation, token exchange, the gateway as the upstream's OAuth client), token
// verification, and the `credentials` section (the /tokens pages' login at the provider).
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import type { RunningOidcProvider } from '../harness/identity.ts';

/** RFC 8693 token exchange to an upstream, as a server's `tokenExchange`. */
export interface TokenExchangeEntry {
  readonly tokenEndpoint?: string;
  readonly issuer?: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly audience?: string;
  readonly resource?: string;
  readonly scopes?: readonly string[];
}

/** One upstream of the config. */
export interface CredentialServer {
  readonly name: string;
  readonly url: string;
  readonly prefix: string;
  /** The Envoy route's hostname (the router); default `<name>.mcp.local`. */
  readonly hostname?: string;
  /** The gateway's own Authorization (list, health). */
  readonly credential?: string;
  /** `{}`: the built-in /tokens page; `{url}`: an external page. */
  readonly tokenURLElicitation?: { readonly url?: string };
  readonly tokenExchange?: TokenExchangeEntry;
  readonly upstreamOAuth?: { readonly clientId?: string; readonly clientSecret?: string; readonly scopes?: string[] };
}

/** The /tokens pages' sign-in at the provider (`credentials.login`). */
export interface LoginClient {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

/** What {@link credentialConfig} writes. */
export interface CredentialConfigOptions {
  readonly servers: readonly CredentialServer[];
  /** `auth.oauth`: the provider's issuer and the audience callers' tokens name (the gateway's MCP URL). */
  readonly oauth?: { readonly issuer: string; readonly audience: string; readonly requiredScopes?: string[] };
  readonly login?: LoginClient;
  readonly pastedTokenTtlSeconds?: number;
}

/** The config YAML. */
export function credentialConfig(options: CredentialConfigOptions): string {
  const config: Record<string, unknown> = {
    servers: options.servers.map((server) => ({
      ...server,
      hostname: server.hostname ?? `${server.name}.mcp.local`,
    })),
  };
  if (options.oauth !== undefined) {
    const { issuer, audience, requiredScopes } = options.oauth;
    config['auth'] = {
      oauth: { issuers: [issuer], audience, ...(requiredScopes === undefined ? {} : { requiredScopes }) },
    };
  }
  if (options.login !== undefined || options.pastedTokenTtlSeconds !== undefined) {
    config['credentials'] = {
      ...(options.login === undefined ? {} : { login: { ...options.login } }),
      ...(options.pastedTokenTtlSeconds === undefined ? {} : { pastedTokenTtlSeconds: options.pastedTokenTtlSeconds }),
    };
  }
  return stringify(config);
}

/** A fresh `CREDENTIAL_ENCRYPTION_KEYS` secret (48 random bytes, base64url: past the 32-byte floor). */
export function newEncryptionKey(): string {
  return randomBytes(48).toString('base64url');
}

/** The token endpoint from the provider's discovery document. */
export async function tokenEndpointOf(idp: RunningOidcProvider): Promise<string> {
  const metadata = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as {
    token_endpoint: string;
  };
  return metadata.token_endpoint;
}

/**
 * Registers the gateway's /tokens sign-in as a confidential client of the provider (dynamic
 * client registration, RFC 7591) for the login callback at each of `origins`
 * (`<origin>/tokens/login/callback`).
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3.1
 */
export async function registerLoginClient(idp: RunningOidcProvider, origins: readonly string[]): Promise<LoginClient> {
  const client = await registerClient(idp, {
    client_name: 'mcp-gateway tokens pages',
    redirect_uris: origins.map((origin) => `${origin}/tokens/login/callback`),
    grant_types: ['authorization_code'],
  });
  return { issuer: idp.issuer, ...client };
}

/**
 * Registers the gateway as a confidential client of an upstream's own authorization server, as
 * an operator does before configuring `upstreamOAuth: {clientId, clientSecret}`: its callback at
 * each of `origins` (`<origin>/tokens/oauth/callback`), the code and refresh grants.
 */
export async function registerUpstreamClient(
  as: RunningOidcProvider,
  origins: readonly string[],
): Promise<{ clientId: string; clientSecret: string }> {
  return registerClient(as, {
    client_name: 'mcp-gateway upstream client',
    redirect_uris: origins.map((origin) => `${origin}/tokens/oauth/callback`),
    grant_types: ['authorization_code', 'refresh_token'],
  });
}

async function registerClient(
  idp: RunningOidcProvider,
  metadata: { client_name: string; redirect_uris: string[]; grant_types: string[] },
): Promise<{ clientId: string; clientSecret: string }> {
  const discovery = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as {
    registration_endpoint: string;
  };
  const response = await fetch(discovery.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...metadata, response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }),
  });
  const body = (await response.json()) as { client_id?: string; client_secret?: string };
  if (!response.ok || body.client_id === undefined || body.client_secret === undefined) {
    throw new Error(
      `registering ${metadata.client_name}: the provider answered ${response.status}: ${JSON.stringify(body)}`,
    );
  }
  return { clientId: body.client_id, clientSecret: body.client_secret };
}
