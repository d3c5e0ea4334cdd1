import { randomBytes } from 'node:crypto';
import { SignJWT, type CryptoKey, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { createSigningKey, type SigningKey } from './signing-keys.ts';

export interface TokenForgeOptions {
  /** The trusted issuer the gateway is configured with (the harness provider's `issuer`). */
  issuer: string;
  /** The audience the gateway accepts (its resource indicator). */
  audience: string;
  /** The provider's signing key (`keys.active`): real signatures use it, forged ones borrow its kid. */
  key: SigningKey;
  /** Claims of every token over the defaults (alice, `mcp:tools mcp:admin`, roles [admin]). */
  claims?: JWTPayload;
}

/**
 * Access tokens the provider would never issue, each wrong in exactly one way, built with jose.
 * Every one is an RFC 9068 token (`typ: at+jwt`) with the provider's claims shape; `valid()` is
 * the control, a token the gateway must accept.
 */
export interface TokenForge {
  /** A token as the provider issues it, signed with its key; `claims` override the defaults. */
  valid(claims?: JWTPayload): Promise<string>;
  /** Expired an hour ago. */
  expired(): Promise<string>;
  /** For another resource. Default audience `http://127.0.0.1:1/not-this-gateway`. */
  wrongAudience(audience?: string): Promise<string>;
  /** Names an issuer the gateway does not trust, signed with the trusted issuer's key. */
  wrongIssuer(issuer?: string): Promise<string>;
  /** `alg: none` with an empty signature and the provider's kid. */
  algNone(): string;
  /** Signed by a key of the same algorithm that is not the provider's, under the provider's kid. */
  foreignKey(): Promise<string>;
  /** HS256 with the provider's public key (its PEM text) as the HMAC secret: algorithm confusion. */
  hmacWithPublicKey(): Promise<string>;
  /** Correctly signed but at least `bytes` long (default 1 MiB) through a padding claim. */
  oversized(bytes?: number): Promise<string>;
  /** Correctly signed, without `sub`. */
  missingSub(): Promise<string>;
  /** Correctly signed, with `nbf` an hour from now. */
  notYetValid(): Promise<string>;
  /** Any claims and header (over the defaults), signed with `key` (default the provider's). */
  sign(claims: JWTPayload, header?: Partial<JWTHeaderParameters>, key?: CryptoKey | Uint8Array): Promise<string>;
}

export const ONE_MIB = 1024 * 1024;
const HOUR = 3_600;

/** A forge for tokens aimed at a gateway that trusts `options.issuer` for `options.audience`. */
export function createTokenForge(options: TokenForgeOptions): TokenForge {
  const now = () => Math.floor(Date.now() / 1000);
  const base = (): JWTPayload => ({
    iss: options.issuer,
    aud: options.audience,
    sub: 'alice',
    client_id: 'harness-forge',
    scope: 'mcp:tools mcp:admin',
    roles: ['admin'],
    org: { id: 'acme', name: 'Acme Corp', team: 'platform' },
    jti: randomBytes(16).toString('base64url'),
    iat: now(),
    exp: now() + 300,
    ...options.claims,
  });
  const header = (): JWTHeaderParameters => ({ alg: options.key.alg, typ: 'at+jwt', kid: options.key.kid });

  const sign: TokenForge['sign'] = (claims, extra = {}, key = options.key.privateKey) =>
    new SignJWT({ ...base(), ...claims }).setProtectedHeader({ ...header(), ...extra }).sign(key);

  return {
    valid: (claims = {}) => sign(claims),
    expired: () => sign({ iat: now() - 2 * HOUR, exp: now() - HOUR }),
    wrongAudience: (audience = 'http://127.0.0.1:1/not-this-gateway') => sign({ aud: audience }),
    wrongIssuer: (issuer = 'http://127.0.0.1:1/not-the-issuer') => sign({ iss: issuer }),
    algNone: () => unsigned({ ...header(), alg: 'none' }, base()),
    async foreignKey() {
      const stranger = await createSigningKey(options.key.alg);
      return sign({}, {}, stranger.privateKey);
    },
    hmacWithPublicKey: () => sign({}, { alg: 'HS256' }, new TextEncoder().encode(options.key.publicPem)),
    oversized: (bytes = ONE_MIB) => sign({ pad: 'A'.repeat(Math.ceil((bytes * 3) / 4)) }),
    async missingSub() {
      const claims = base();
      delete claims.sub;
      return new SignJWT(claims).setProtectedHeader(header()).sign(options.key.privateKey);
    },
    notYetValid: () => sign({ nbf: now() + HOUR }),
    sign,
  };
}

/** A compact JWS with the given header and an empty signature (RFC 7519 §6, unsecured JWT). */
export function unsigned(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const encode = (part: Record<string, unknown>) => Buffer.from(JSON.stringify(part)).toString('base64url');
  return `${encode(header)}.${encode(payload)}.`;
}
