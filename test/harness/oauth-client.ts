import { randomBytes } from 'node:crypto';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { authorizeInBrowser } from './oauth-browser.ts';

export interface HarnessOAuthOptions {
  /** Who signs in when the SDK sends the user to the authorization server. */
  account: string;
  /** The SDK's last-resort scope (`clientMetadata.scope`); the server's 401 and metadata come first. */
  scope?: string;
  /** Press Deny on the consent page. Default false. */
  deny?: boolean;
  /** The client's redirect_uri; nothing listens there, the browser stops at it. Default `http://127.0.0.1/oauth/callback`. */
  redirectUri?: string;
  /** `client_name` at registration. Default 'harness-oauth-client'. */
  clientName?: string;
}

/**
 * The SDK's OAuthClientProvider held in memory, with a browser played by fetch: what an MCP
 * host application keeps for one server, plus what it saw, for assertions.
 */
export interface HarnessOAuthProvider extends OAuthClientProvider {
  /** Every authorization URL the SDK sent the browser to, in order. */
  readonly authorizationUrls: readonly URL[];
  /** The code of the last authorization, taken once (what the redirect handler hands to finishAuth). */
  takeAuthorizationCode(): string | undefined;
  /** The tokens stored now, if any. */
  currentTokens(): OAuthTokens | undefined;
  /** The registered client, if any. */
  currentClient(): OAuthClientInformationMixed | undefined;
}

const DEFAULT_REDIRECT_URI = 'http://127.0.0.1/oauth/callback';

/** An in-memory OAuthClientProvider whose redirectToAuthorization signs in as `options.account`. */
export function createHarnessOAuthProvider(options: HarnessOAuthOptions): HarnessOAuthProvider {
  const redirectUri = options.redirectUri ?? DEFAULT_REDIRECT_URI;
  const urls: URL[] = [];
  let client: OAuthClientInformationMixed | undefined;
  let tokens: OAuthTokens | undefined;
  let verifier: string | undefined;
  let state: string | undefined;
  let code: string | undefined;

  return {
    authorizationUrls: urls,
    get redirectUrl() {
      return redirectUri;
    },
    get clientMetadata(): OAuthClientMetadata {
      return {
        client_name: options.clientName ?? 'harness-oauth-client',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        ...(options.scope === undefined ? {} : { scope: options.scope }),
      };
    },
    state: () => (state = randomBytes(16).toString('base64url')),
    clientInformation: () => client,
    saveClientInformation: (information) => void (client = information),
    tokens: () => tokens,
    saveTokens: (saved) => void (tokens = saved),
    saveCodeVerifier: (saved) => void (verifier = saved),
    codeVerifier() {
      if (verifier === undefined) throw new Error('no PKCE code verifier saved');
      return verifier;
    },
    async redirectToAuthorization(url) {
      urls.push(url);
      const answer = await authorizeInBrowser(url, {
        account: options.account,
        redirectUri,
        ...(options.deny === undefined ? {} : { deny: options.deny }),
      });
      const error = answer.get('error');
      if (error !== null) throw new Error(`authorization refused: ${error} (${answer.get('error_description') ?? ''})`);
      if (answer.get('state') !== state) throw new Error('authorization answered another request (state mismatch)');
      code = answer.get('code') ?? undefined;
    },
    invalidateCredentials(scope) {
      if (scope === 'all' || scope === 'client') client = undefined;
      if (scope === 'all' || scope === 'tokens') tokens = undefined;
      if (scope === 'all' || scope === 'verifier') verifier = undefined;
    },
    takeAuthorizationCode() {
      const taken = code;
      code = undefined;
      return taken;
    },
    currentTokens: () => tokens,
    currentClient: () => client,
  };
}

export interface OAuthConnectedClient {
  readonly client: Client;
  readonly transport: StreamableHTTPClientTransport;
  readonly provider: HarnessOAuthProvider;
  /** The tokens the client holds now (they change when the SDK refreshes them). */
  tokens(): OAuthTokens | undefined;
  sessionId(): string | undefined;
  /** Ends the session with DELETE (errors ignored) and closes the client. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Connects a 1.x SDK `Client` over Streamable HTTP with `authProvider`, as an SDK user does: the
 * first connect meets the server's 401, the SDK discovers the protected resource and the
 * authorization server, registers, and sends the browser to authorize with PKCE; then
 * `transport.finishAuth(code)` trades the code for tokens and the client connects again on a
 * new transport. Pass `provider` to connect with what an earlier connection stored, and `fetch`
 * to see (or route) every request the SDK makes, its OAuth discovery and token requests included.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
 */
export async function connectOAuthClient(
  url: string | URL,
  options: HarnessOAuthOptions & { provider?: HarnessOAuthProvider; fetch?: FetchLike },
): Promise<OAuthConnectedClient> {
  const endpoint = new URL(url);
  const provider = options.provider ?? createHarnessOAuthProvider(options);
  const client = new Client({ name: options.clientName ?? 'harness-oauth-client', version: '1.0.0' });
  const transportOptions = { authProvider: provider, ...(options.fetch === undefined ? {} : { fetch: options.fetch }) };

  let transport = new StreamableHTTPClientTransport(endpoint, transportOptions);
  try {
    await client.connect(transport);
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
    const code = provider.takeAuthorizationCode();
    if (code === undefined) throw error;
    await transport.finishAuth(code);
    transport = new StreamableHTTPClientTransport(endpoint, transportOptions);
    await client.connect(transport);
  }

  let closed = false;
  return {
    client,
    transport,
    provider,
    tokens: () => provider.currentTokens(),
    sessionId: () => transport.sessionId,
    async close() {
      if (closed) return;
      closed = true;
      if (transport.sessionId !== undefined) await transport.terminateSession().catch(() => undefined);
      await client.close();
    },
  };
}
