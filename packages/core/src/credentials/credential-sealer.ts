import { fromBase64url, toBase64url } from '../session/base64url.ts';

/**
 * Sealing of users' upstream credentials at rest (AES-256-GCM, WebCrypto: Node and workerd).
 *
 * A sealed credential is `c1.<key id>.<base64url(iv ‖ ciphertext ‖ tag)>`. The plaintext is the
 * credential and its expiry; the additional authenticated data binds it to (issuer, subject,
 * server) and to its key id, so a record copied under another user's or server's key, or edited
 * in the store, does not open. Keys come from secrets the operator gives (newest first): the
 * first seals, all open, so a key is rotated by putting a new one in front and dropping the old
 * one once its credentials expired. Each secret is stretched by HKDF-SHA256 (the anchor's info
 * string), so a secret of any form of at least 32 bytes makes a full key.
 *
 * Opening never throws: a tampered, truncated or foreign record, a rotated-out key, another
 * binding or an expired credential all read as "no credential", and the user authorizes again.
 */

/** Whose credential, for which upstream: what a sealed record is bound to. */
export interface CredentialBinding {
  /** The verified token's issuer (`iss`), or '' for a caller known otherwise. */
  readonly issuer: string;
  /** The verified subject (`sub`). */
  readonly subject: string;
  /** The config name of the upstream server the credential is for. */
  readonly server: string;
}

/** A user's credential for one upstream, as stored sealed. */
export interface UserCredential {
  /** What the gateway sends as the upstream's Authorization header (e.g. `Bearer …`). */
  readonly authorization: string;
  /** When it stops being usable (ms since the epoch); the store entry expires with it. */
  readonly expiresAt: number;
  /** An OAuth refresh token, when the gateway is the upstream's OAuth client. */
  readonly refreshToken?: string;
  /** When its access token was issued (ms since the epoch): how long before its end it is refreshed. */
  readonly issuedAt?: number;
}

export interface CredentialSealer {
  seal(credential: UserCredential, binding: CredentialBinding): Promise<string>;
  /**
   * The credential, or undefined when the record does not open for `binding` or has expired (an
   * expired one that holds a refresh token is returned: the caller refreshes it).
   */
  open(sealed: string, binding: CredentialBinding, now?: number): Promise<UserCredential | undefined>;
}

/** The shortest secret a key is derived from (as for the session signing key). */
export const MIN_CREDENTIAL_SECRET_BYTES = 32;
/** The longest credential (the Authorization value or refresh token) the gateway seals: 8 KiB. */
export const MAX_CREDENTIAL_BYTES = 8 * 1024;
/** The longest sealed record the gateway tries to open (a bound on what a store can hand it). */
export const MAX_SEALED_BYTES = 24 * 1024;

const FORMAT = 'c1';
const KEY_INFO = 'mcp-gateway-user-token-encryption';
const KEY_ID_INFO = 'mcp-gateway-credential-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

interface SealingKey {
  readonly id: string;
  readonly key: CryptoKey;
}

/**
 * Makes a sealer from the operator's secrets, newest first.
 * @throws Error naming the position of a secret shorter than 32 bytes, or when there is none.
 */
export async function createCredentialSealer(secrets: readonly Uint8Array<ArrayBuffer>[]): Promise<CredentialSealer> {
  assertCredentialSecrets(secrets);
  const keys = await Promise.all(secrets.map(deriveKey));
  const byId = new Map<string, SealingKey>();
  for (const key of keys) if (!byId.has(key.id)) byId.set(key.id, key);
  const newest = keys[0] as SealingKey;

  return {
    async seal(credential, binding) {
      assertSealable(credential);
      const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
      const plaintext = encoder.encode(JSON.stringify(credential));
      const sealed = await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: additionalData(newest.id, binding) },
        newest.key,
        plaintext,
      );
      const body = new Uint8Array(IV_BYTES + sealed.byteLength);
      body.set(iv);
      body.set(new Uint8Array(sealed), IV_BYTES);
      return `${FORMAT}.${newest.id}.${toBase64url(body)}`;
    },
    async open(sealed, binding, now = Date.now()) {
      if (typeof sealed !== 'string' || sealed.length > MAX_SEALED_BYTES) return undefined;
      const [format, id, data, extra] = sealed.split('.');
      if (format !== FORMAT || id === undefined || data === undefined || extra !== undefined) return undefined;
      const key = byId.get(id);
      const decoded = fromBase64url(data);
      // A copy on an ArrayBuffer of its own, as WebCrypto's types ask.
      const body = decoded === undefined ? undefined : new Uint8Array(decoded);
      if (key === undefined || body === undefined || body.byteLength < IV_BYTES + TAG_BYTES) return undefined;
      let plaintext: ArrayBuffer;
      try {
        plaintext = await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: body.subarray(0, IV_BYTES), additionalData: additionalData(id, binding) },
          key.key,
          body.subarray(IV_BYTES),
        );
      } catch {
        return undefined;
      }
      const credential = parseCredential(plaintext);
      if (credential === undefined) return undefined;
      // An expired token that can be refreshed is still the user's (its refresh token is).
      return credential.expiresAt > now || credential.refreshToken !== undefined ? credential : undefined;
    },
  };
}

/**
 * Checks the operator's secrets as createCredentialSealer does, at once (a host checks them at
 * start, before any credential is sealed).
 * @throws Error naming the position of a secret shorter than 32 bytes, or when there is none.
 */
export function assertCredentialSecrets(secrets: readonly Uint8Array[]): void {
  if (secrets.length === 0) throw new Error('credential encryption needs at least one key');
  secrets.forEach((secret, index) => {
    if (secret.byteLength < MIN_CREDENTIAL_SECRET_BYTES) {
      throw new Error(
        `credential encryption key ${index + 1} is ${secret.byteLength} bytes; at least ${MIN_CREDENTIAL_SECRET_BYTES} are needed`,
      );
    }
  });
}

/** A sealer whose keys are still being derived: each use waits for them. */
export function deferredSealer(made: Promise<CredentialSealer>): CredentialSealer {
  return {
    seal: async (credential, binding) => (await made).seal(credential, binding),
    open: async (sealed, binding, now) => (await made).open(sealed, binding, now),
  };
}

/** Reads `CREDENTIAL_ENCRYPTION_KEYS`-style text: secrets separated by commas or whitespace, newest first. */
export function parseCredentialSecrets(text: string): Uint8Array<ArrayBuffer>[] {
  return text
    .split(/[\s,]+/)
    .filter((part) => part !== '')
    .map((part) => encoder.encode(part));
}

async function deriveKey(secret: Uint8Array<ArrayBuffer>): Promise<SealingKey> {
  const material = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveKey', 'deriveBits']);
  const hkdf = (info: string) => ({
    name: 'HKDF',
    hash: 'SHA-256',
    salt: new Uint8Array(0),
    info: encoder.encode(info),
  });
  const key = await crypto.subtle.deriveKey(hkdf(KEY_INFO), material, { name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
  ]);
  // A public name for the key (6 bytes, from its own HKDF branch): says which key sealed a record
  // without revealing anything of the key.
  const id = toBase64url(new Uint8Array(await crypto.subtle.deriveBits(hkdf(KEY_ID_INFO), material, 48)));
  return { id, key };
}

function additionalData(keyId: string, binding: CredentialBinding): Uint8Array<ArrayBuffer> {
  // JSON of an array: unambiguous whatever characters the parts hold.
  return encoder.encode(JSON.stringify([FORMAT, keyId, binding.issuer, binding.subject, binding.server]));
}

function assertSealable(credential: UserCredential): void {
  const sizes = [credential.authorization.length, credential.refreshToken?.length ?? 0];
  if (sizes.some((size) => size > MAX_CREDENTIAL_BYTES)) {
    throw new Error(`a credential longer than ${MAX_CREDENTIAL_BYTES} bytes is not stored`);
  }
  if (!Number.isFinite(credential.expiresAt)) throw new Error('a credential needs a finite expiry');
}

function parseCredential(plaintext: ArrayBuffer): UserCredential | undefined {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(plaintext));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { authorization, expiresAt, refreshToken, issuedAt } = value as Record<string, unknown>;
  if (typeof authorization !== 'string' || typeof expiresAt !== 'number') return undefined;
  if (refreshToken !== undefined && typeof refreshToken !== 'string') return undefined;
  return {
    authorization,
    expiresAt,
    ...(typeof refreshToken === 'string' && { refreshToken }),
    ...(typeof issuedAt === 'number' && { issuedAt }),
  };
}
