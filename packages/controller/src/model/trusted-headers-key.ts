import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Secret } from './api-types.ts';
import type { ApplyObject } from './gateway-resources.ts';
import { ownerReference } from './gateway-resources.ts';
import type { ValidExtension } from './extension-validation.ts';
import { MANAGED_LABELS, SECRET_LABEL, TRUSTED_KEY_SECRET_KEY } from '../names.ts';

/**
 * The key pair behind the anchor's `x-mcp-authorized` header: an ECDSA P-256 pair whose public
 * half the gateway reads from TRUSTED_HEADER_PUBLIC_KEY. The PEM forms are the anchor's: the
 * public key as PKIX (`PUBLIC KEY`), the private key as SEC 1 (`EC PRIVATE KEY`).
 * @see https://www.rfc-editor.org/rfc/rfc5480 (PKIX EC public keys)
 * @see https://www.rfc-editor.org/rfc/rfc5915 (SEC 1 EC private keys)
 */

/** The PEM pair the controller generates, and the public key's fingerprint. */
export interface TrustedKeyPair {
  readonly publicPem: string;
  readonly privatePem: string;
  readonly fingerprint: string;
}

/** What a key check found: the public key's fingerprint, or a problem to report (never key material). */
export type KeyCheck =
  { readonly ok: true; readonly fingerprint: string } | { readonly ok: false; readonly problem: string };

const PUBLIC_BLOCK = '-----BEGIN PUBLIC KEY-----';
const PRIVATE_BLOCK = '-----BEGIN EC PRIVATE KEY-----';
/** Node's (OpenSSL's) name of P-256. */
const P256 = 'prime256v1';

/** A fresh P-256 pair, PEM encoded as the anchor writes it. */
export function generateTrustedKeyPair(): TrustedKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: P256 });
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
    fingerprint: fingerprintOf(publicKey),
  };
}

/** SHA-256 of the key's DER encoding, the first 16 hex digits (changes whenever the key does). */
function fingerprintOf(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** Why a parsed key is not a P-256 key, or undefined when it is. */
function curveProblem(key: KeyObject): string | undefined {
  if (key.asymmetricKeyType !== 'ec') return `is an ${key.asymmetricKeyType ?? 'unknown'} key, not ECDSA P-256`;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve === P256 ? undefined : `is an EC key on curve ${curve ?? 'unknown'}, not P-256`;
}

/**
 * Checks that `pem` is one PEM public key (PKIX, `-----BEGIN PUBLIC KEY-----`) on P-256, as the
 * gateway needs. A private key is refused (it must never sit where the public key is read).
 */
export function checkPublicKeyPem(pem: string): KeyCheck {
  if (pem.includes('PRIVATE KEY'))
    return { ok: false, problem: 'holds a private key; it must hold only the public key' };
  if (!pem.includes(PUBLIC_BLOCK)) return { ok: false, problem: `is not a PEM public key (${PUBLIC_BLOCK})` };
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    return { ok: false, problem: 'is not a readable PEM public key' };
  }
  const problem = curveProblem(key);
  return problem === undefined ? { ok: true, fingerprint: fingerprintOf(key) } : { ok: false, problem };
}

/** Checks that the two PEMs are a P-256 pair: the private key (`EC PRIVATE KEY`) belongs to the public one. */
export function checkKeyPair(publicPem: string, privatePem: string): KeyCheck {
  const publicCheck = checkPublicKeyPem(publicPem);
  if (!publicCheck.ok) return publicCheck;
  if (!privatePem.includes(PRIVATE_BLOCK)) return { ok: false, problem: `the private key is not ${PRIVATE_BLOCK} PEM` };
  let derived: KeyObject;
  try {
    derived = createPublicKey(createPrivateKey(privatePem));
  } catch {
    return { ok: false, problem: 'the private key is not readable' };
  }
  const problem = curveProblem(derived);
  if (problem !== undefined) return { ok: false, problem: `the private key ${problem}` };
  return fingerprintOf(derived) === publicCheck.fingerprint
    ? publicCheck
    : { ok: false, problem: 'the private key does not belong to the public key' };
}

/** The text of a Secret's `key`, or undefined when the Secret or the key is missing. */
export function keyText(secret: Secret | undefined): string | undefined {
  const encoded = secret?.data?.[TRUSTED_KEY_SECRET_KEY];
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
}

/** Name of the Secret holding the private half of a generated pair. */
export function privateKeySecretName(secretName: string): string {
  return `${secretName}-private`;
}

/**
 * The two Secrets of a generated pair (key `key` in each), owned by the extension so they go
 * with it, and labelled so that the controller's Secret watch sees a change to either.
 */
export function trustedKeySecrets(valid: ValidExtension, pair: TrustedKeyPair): [ApplyObject, ApplyObject] {
  const secretName = valid.extension.spec.trustedHeadersKey?.secretName ?? '';
  const build = (name: string, pem: string): ApplyObject => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace: valid.extension.metadata.namespace ?? '',
      labels: { ...MANAGED_LABELS, [SECRET_LABEL]: 'true' },
      ownerReferences: [ownerReference(valid)],
    },
    type: 'Opaque',
    data: { [TRUSTED_KEY_SECRET_KEY]: Buffer.from(pem).toString('base64') },
  });
  return [build(secretName, pair.publicPem), build(privateKeySecretName(secretName), pair.privatePem)];
}
