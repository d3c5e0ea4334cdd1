import * as oauth from 'oauth4webapi';
import { readBytesWithin } from '../protocol/bytes.ts';
import type { UserCredential, CredentialBinding, CredentialSealer } from './credential-sealer.ts';

/**
 * What the gateway's OAuth client requests share: a 5 s timeout, a bound on every answer's size,
 * plain http only to loopback (as token exchange), and one-time state kept sealed in the store.
 */

/** How long the gateway waits for an authorization server or an upstream's metadata. */
export const OAUTH_TIMEOUT_MS = 5_000;
/** The largest answer (metadata, registration, token) the gateway reads: 64 KiB. */
export const MAX_OAUTH_RESPONSE_BYTES = 64 * 1024;

/** A fetch whose answers are cut off (an error) past `maxBytes`. */
export function boundedFetch(fetcher: typeof fetch, maxBytes = MAX_OAUTH_RESPONSE_BYTES): typeof fetch {
  return async (input, init) => {
    const response = await fetcher(input, init);
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new TypeError(`an answer of ${declared} bytes is larger than ${maxBytes}`);
    }
    if (response.body === null) return response;
    const body = await readBytesWithin(response.body, maxBytes);
    if (body === undefined) throw new TypeError(`an answer larger than ${maxBytes} bytes`);
    return new Response(body as Uint8Array<ArrayBuffer>, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/** oauth4webapi request options for a request to `url`. */
export function oauthOptions(url: string, fetcher: typeof fetch): OAuthRequestOptions {
  const bounded = boundedFetch(fetcher);
  return {
    signal: AbortSignal.timeout(OAUTH_TIMEOUT_MS),
    [oauth.allowInsecureRequests]: isLoopbackHttp(url),
    [oauth.customFetch]: (target, init) => bounded(target, init as RequestInit),
  };
}

/** The options oauthOptions makes, fitting every oauth4webapi request. */
export interface OAuthRequestOptions {
  readonly signal: AbortSignal;
  readonly [oauth.allowInsecureRequests]: boolean;
  readonly [oauth.customFetch]: <M extends string, B>(
    url: string,
    init: oauth.CustomFetchOptions<M, B>,
  ) => Promise<Response>;
}

/** Whether `url` is plain http to this machine (test and sidecar set-ups). */
export function isLoopbackHttp(url: string): boolean {
  try {
    const { protocol, hostname } = new URL(url);
    return protocol === 'http:' && (hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]');
  } catch {
    return false;
  }
}

/**
 * The authorization server's metadata at `issuer`: RFC 8414 first, then OpenID Connect discovery.
 * @throws the last discovery error.
 */
export async function discoverAuthorizationServer(
  issuer: string,
  fetcher: typeof fetch,
): Promise<oauth.AuthorizationServer> {
  const url = new URL(issuer);
  let failure: unknown;
  for (const algorithm of ['oauth2', 'oidc'] as const) {
    try {
      const response = await oauth.discoveryRequest(url, { ...oauthOptions(issuer, fetcher), algorithm });
      return await oauth.processDiscoveryResponse(url, response);
    } catch (error) {
      failure = error;
    }
  }
  throw failure;
}

/**
 * The status that answers a failed OAuth exchange: 403 when the authorization server sent the
 * browser back with an error (the user declined, or the server refused the request), 502 when
 * talking to the server failed.
 */
export function oauthFailureStatus(error: unknown): 403 | 502 {
  return error instanceof oauth.AuthorizationResponseError ? 403 : 502;
}

/** What went wrong in an OAuth exchange, for a message: never a token or a secret. */
export function describeOAuthFailure(error: unknown): string {
  if (error instanceof oauth.ResponseBodyError) {
    const description = error.error_description === undefined ? '' : ` (${clip(error.error_description)})`;
    return `it answered ${error.status} ${clip(error.error)}${description}`;
  }
  if (error instanceof oauth.AuthorizationResponseError) {
    return `the authorization was refused: ${clip(error.error)}`;
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) return `it answered ${error.status} (client refused)`;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return 'it did not answer in time';
  }
  if (error instanceof TypeError) return `it could not be reached or answered badly: ${clip(error.message)}`;
  return clip(error instanceof Error ? error.message : String(error));
}

/** Text from outside, bounded and on one line. */
export function clip(text: string): string {
  const line = text.replace(/[\r\n\t]+/g, ' ');
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/**
 * One-time state (a login's or an authorization's PKCE verifier, nonce, client) is kept in the
 * store as a grant sealed under a binding of its own kind and id, so the store never holds a
 * verifier or a client secret in clear and a grant cannot be replayed as another kind.
 */
export async function sealGrant(
  sealer: CredentialSealer,
  kind: string,
  id: string,
  value: unknown,
  ttlSeconds: number,
): Promise<string> {
  const credential: UserCredential = {
    authorization: JSON.stringify(value),
    expiresAt: Date.now() + ttlSeconds * 1000,
  };
  return sealer.seal(credential, grantBinding(kind, id));
}

/** A grant sealed by sealGrant, as an object; undefined when it does not open or is not JSON. */
export async function openGrant(
  sealer: CredentialSealer,
  kind: string,
  id: string,
  sealed: string | undefined,
): Promise<Record<string, unknown> | undefined> {
  if (sealed === undefined) return undefined;
  const opened = await sealer.open(sealed, grantBinding(kind, id));
  if (opened === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(opened.authorization);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function grantBinding(kind: string, id: string): CredentialBinding {
  return { issuer: '', subject: `grant:${kind}`, server: id };
}
