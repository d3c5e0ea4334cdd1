import * as oauth from 'oauth4webapi';
import type { TokenExchangeConfig } from '../config/credentials-schema.ts';
import { GatewayError } from '../errors.ts';

/** Token endpoints found in issuers' metadata, by issuer (they do not change while the process runs). */
const discovered = new Map<string, Promise<string>>();

/**
 * The token endpoint of a token exchange: the configured one, else the one `issuer`'s metadata
 * names (RFC 8414, then OpenID Connect discovery), looked up once per issuer and process; a
 * failed lookup is tried again on the next call.
 * @throws GatewayError TOKEN_EXCHANGE_FAILED naming the issuer when its metadata cannot be had.
 */
export async function tokenEndpointOf(method: TokenExchangeConfig, fetchImpl?: typeof fetch): Promise<string> {
  if (method.tokenEndpoint !== undefined) return method.tokenEndpoint;
  const issuer = method.issuer as string;
  let found = discovered.get(issuer);
  if (found === undefined) {
    found = discover(issuer, fetchImpl);
    discovered.set(issuer, found);
    found.catch(() => discovered.delete(issuer));
  }
  return found;
}

async function discover(issuer: string, fetchImpl?: typeof fetch): Promise<string> {
  const url = new URL(issuer);
  const options = {
    signal: AbortSignal.timeout(5_000),
    [oauth.allowInsecureRequests]: url.protocol === 'http:',
    ...(fetchImpl === undefined
      ? {}
      : {
          [oauth.customFetch]: fetchImpl as unknown as NonNullable<
            oauth.DiscoveryRequestOptions[typeof oauth.customFetch]
          >,
        }),
  };
  try {
    let response = await oauth.discoveryRequest(url, { ...options, algorithm: 'oauth2' });
    if (response.status === 404) response = await oauth.discoveryRequest(url, { ...options, algorithm: 'oidc' });
    const metadata = await oauth.processDiscoveryResponse(url, response);
    if (metadata.token_endpoint === undefined) throw new Error('its metadata names no token_endpoint');
    return metadata.token_endpoint;
  } catch (error) {
    throw new GatewayError(
      'TOKEN_EXCHANGE_FAILED',
      `token exchange failed: the metadata of ${issuer} could not be read (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
}
