import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type Provider from 'oidc-provider';
import type { SigningKey } from './signing-keys.ts';

/** RFC 8693's grant type and the one token type the test provider exchanges. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** What the grant reads of the provider, per request (keys rotate, lifetimes change). */
export interface TokenExchangeInput {
  readonly issuer: string;
  keys(): readonly SigningKey[];
  ttl(): number;
  readonly scopes: readonly string[];
  readonly acceptResource: (resource: string) => boolean;
  /** Every exchange the provider answered, for tests to count. */
  readonly log: Array<{ readonly clientId: string; readonly subject: string; readonly audience: string }>;
}

/**
 * Token exchange (RFC 8693) on the test OpenID provider, as a grant registered on oidc-provider
 * (which has none built in; its client authentication and error answers are its own). The
 * subject token must be an access token this provider issued (an RFC 9068 JWT, verified with
 * its own keys, unexpired); the answer is a new JWT access token of the same user for the asked
 * `audience` (or `resource`), with `act.sub` naming the exchanging client (RFC 8693 §4.1) and the
 * scopes asked for among those the subject token had.
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-2
 */
export function registerTokenExchange(provider: Provider, input: TokenExchangeInput): void {
  const handler = async (ctx: KoaContextWithOIDC) => {
    const params = ctx.oidc.params as Record<string, string | undefined>;
    const client = ctx.oidc.client;
    if (client === undefined) throw new errors.InvalidClient('client authentication failed');
    if (params['subject_token_type'] !== ACCESS_TOKEN_TYPE) {
      throw new errors.InvalidRequest('subject_token_type must be an access token');
    }
    const target = params['resource'] ?? params['audience'];
    if (target === undefined || !input.acceptResource(target)) throw new errors.InvalidTarget();
    const jwks = createLocalJWKSet({ keys: input.keys().map((key) => key.publicJwk) });
    let subject: Record<string, unknown>;
    try {
      ({ payload: subject } = await jwtVerify(params['subject_token'] ?? '', jwks, {
        issuer: input.issuer,
        typ: 'at+jwt',
      }));
    } catch {
      throw new errors.InvalidGrant('subject_token is not a valid access token of this provider');
    }
    const had = new Set(String(subject['scope'] ?? '').split(' '));
    const asked = params['scope']?.split(' ').filter((scope) => scope !== '') ?? [...had];
    const granted = asked.filter((scope) => had.has(scope) && input.scopes.includes(scope));
    const missing = asked.filter((scope) => !granted.includes(scope));
    if (missing.length > 0)
      throw new errors.InvalidScope('the subject token does not hold the scope', missing.join(' '));
    const key = input.keys()[0] as SigningKey;
    const ttl = input.ttl();
    const {
      iss: _iss,
      aud: _aud,
      exp: _exp,
      iat: _iat,
      jti: _jti,
      client_id: _client,
      scope: _scope,
      ...rest
    } = subject;
    const token = await new SignJWT({
      ...rest,
      client_id: client.clientId,
      act: { sub: client.clientId },
      ...(granted.length > 0 ? { scope: granted.join(' ') } : {}),
    })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
      .setIssuer(input.issuer)
      .setAudience(target)
      .setIssuedAt()
      .setExpirationTime(`${ttl}s`)
      .setJti(randomUUID())
      .sign(key.privateKey);
    input.log.push({ clientId: client.clientId, subject: String(subject['sub']), audience: target });
    ctx.body = {
      access_token: token,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: ttl,
      ...(granted.length > 0 ? { scope: granted.join(' ') } : {}),
    };
  };
  provider.registerGrantType(TOKEN_EXCHANGE_GRANT, handler, [
    'subject_token',
    'subject_token_type',
    'requested_token_type',
    'audience',
    'resource',
    'scope',
  ]);
}
