import { SignJWT, type JWTPayload } from 'jose';
import { createSigningKey, type SigningKey } from './signing-keys.ts';
import { unsigned } from './token-forge.ts';

/** The header a policy layer in front of the gateway sets (Kuadrant's wristband). */
export const TRUSTED_HEADER = 'x-mcp-authorized';

/**
 * What the caller may use, per config server name, by unprefixed name (tools, prompts) or
 * resource URI; `"prompts": {}` allows no prompt at all.
 * @see https://github.com/Kuadrant/mcp-gateway (the broker's x-mcp-authorized filter)
 */
export interface AllowedCapabilities {
  tools?: Record<string, readonly string[]>;
  prompts?: Record<string, readonly string[]>;
  resources?: Record<string, readonly string[]>;
}

export interface TrustedHeaderOptions {
  /** Lifetime in seconds. Default 300 (the wristband's tokenDuration). */
  expiresIn?: number;
  /** More claims, e.g. `sub`. */
  claims?: JWTPayload;
}

/**
 * Signs `x-mcp-authorized` values as the anchor's policy layer does: ES256 JWTs with a P-256 key
 * whose `allowed-capabilities` claim is a JSON string. Also the values a gateway must ignore.
 */
export interface TrustedHeaderSigner {
  /** The P-256 public key as PEM (SPKI): TRUSTED_HEADER_PUBLIC_KEY or `auth.trustedHeaders.publicKey`. */
  readonly publicKeyPem: string;
  readonly key: SigningKey;
  /** A header value the gateway must trust. */
  sign(capabilities: AllowedCapabilities, options?: TrustedHeaderOptions): Promise<string>;
  /** Expired a minute ago. */
  expired(capabilities: AllowedCapabilities): Promise<string>;
  /** ES256, signed by another P-256 key under this key's kid. */
  foreignKey(capabilities: AllowedCapabilities): Promise<string>;
  /** Signed with a P-384 key (ES384): the wrong curve for a P-256 public key. */
  wrongCurve(capabilities: AllowedCapabilities): Promise<string>;
  /** `alg: none`, empty signature. */
  unsigned(capabilities: AllowedCapabilities): string;
  /** Correctly signed, but the claim is a JSON object instead of a string (the anchor refuses it). */
  claimNotAString(capabilities: AllowedCapabilities): Promise<string>;
}

const DEFAULT_EXPIRES_IN = 300;

/** A fresh P-256 key pair and the header values made with it (and without it). */
export async function createTrustedHeaderSigner(): Promise<TrustedHeaderSigner> {
  const key = await createSigningKey('ES256');
  const now = () => Math.floor(Date.now() / 1000);
  const claimsFor = (capabilities: AllowedCapabilities, options: TrustedHeaderOptions = {}): JWTPayload => ({
    iat: now(),
    exp: now() + (options.expiresIn ?? DEFAULT_EXPIRES_IN),
    ...options.claims,
    'allowed-capabilities': JSON.stringify(capabilities),
  });
  const signWith = (signer: SigningKey, payload: JWTPayload) =>
    new SignJWT(payload).setProtectedHeader({ alg: signer.alg, typ: 'JWT', kid: key.kid }).sign(signer.privateKey);

  return {
    publicKeyPem: key.publicPem,
    key,
    sign: (capabilities, options) => signWith(key, claimsFor(capabilities, options)),
    expired: (capabilities) => signWith(key, { ...claimsFor(capabilities), iat: now() - 360, exp: now() - 60 }),
    foreignKey: async (capabilities) => signWith(await createSigningKey('ES256'), claimsFor(capabilities)),
    wrongCurve: async (capabilities) => signWith(await createSigningKey('ES384'), claimsFor(capabilities)),
    unsigned: (capabilities) => unsigned({ alg: 'none', typ: 'JWT', kid: key.kid }, claimsFor(capabilities)),
    claimNotAString: (capabilities) =>
      signWith(key, { ...claimsFor(capabilities), 'allowed-capabilities': { ...capabilities } }),
  };
}
