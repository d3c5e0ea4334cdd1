import type { TokenExchangeConfig } from '../config/credentials-schema.ts';
import { GatewayError } from '../errors.ts';
import { describeOAuthFailure, discoverAuthorizationServer } from './oauth-fetch.ts';

/** Token endpoints found in issuers' metadata, by issuer (they do not change while the process runs). */
const discovered = new Map<string, Promise<string>>();

/**
 * The token endpoint of a token exchange: the configured one, else the one `issuer`'s metadata
 * names (RFC 8414, then OpenID Connect discovery, with the OAuth requests' limits), looked up
 * once per issuer and process; a failed lookup is tried again on the next call.
 * @throws GatewayError TOKEN_EXCHANGE_FAILED naming the issuer when its metadata cannot be had.
 */
export async function tokenEndpointOf(method: TokenExchangeConfig, fetcher: typeof fetch = fetch): Promise<string> {
  if (method.tokenEndpoint !== undefined) return method.tokenEndpoint;
  const issuer = method.issuer as string;
  let found = discovered.get(issuer);
  if (found === undefined) {
    found = discover(issuer, fetcher);
    discovered.set(issuer, found);
    found.catch(() => discovered.delete(issuer));
  }
  return found;
}

async function discover(issuer: string, fetcher: typeof fetch): Promise<string> {
  let endpoint: string | undefined;
  try {
    endpoint = (await discoverAuthorizationServer(issuer, fetcher)).token_endpoint;
  } catch (error) {
    throw new GatewayError(
      'TOKEN_EXCHANGE_FAILED',
      `token exchange failed: the metadata of ${issuer} could not be read (${describeOAuthFailure(error)})`,
      { cause: error },
    );
  }
  if (endpoint === undefined) {
    throw new GatewayError(
      'TOKEN_EXCHANGE_FAILED',
      `token exchange failed: the metadata of ${issuer} names no token_endpoint`,
    );
  }
  return endpoint;
}
