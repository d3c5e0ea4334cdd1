import { calculateJwkThumbprint, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from 'jose';

/** The asymmetric JWS algorithms the harness makes keys for. */
export type SigningAlg = 'RS256' | 'ES256' | 'ES384';

/** A key pair with everything a signer or a verifier in the tests needs, under one `kid`. */
export interface SigningKey {
  /** The RFC 7638 thumbprint of the public key, so that two keys never share a kid by accident. */
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** The public JWK with `kid`, `alg` and `use: 'sig'`, as a JWKS publishes it. */
  readonly publicJwk: JWK;
  /** The private JWK with the same members (what oidc-provider's `jwks` option takes). */
  readonly privateJwk: JWK;
  /** The public key as PEM (SPKI), e.g. for TRUSTED_HEADER_PUBLIC_KEY. */
  readonly publicPem: string;
}

/**
 * A fresh extractable key pair for `alg` (RSA 2048, P-256 or P-384).
 * @see https://www.rfc-editor.org/rfc/rfc7638 (JWK thumbprint, used as kid)
 */
export async function createSigningKey(alg: SigningAlg = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const bare = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(bare);
  const members = { kid, alg, use: 'sig' };
  return {
    kid,
    alg,
    privateKey,
    publicKey,
    publicJwk: { ...bare, ...members },
    privateJwk: { ...(await exportJWK(privateKey)), ...members },
    publicPem: await exportSPKI(publicKey),
  };
}
