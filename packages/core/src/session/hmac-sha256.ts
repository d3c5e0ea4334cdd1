/** HMAC-SHA256 under one key, fixed when the signer was created. */
export interface HmacSha256Signer {
  /**
   * The 32-byte MAC of `data`. A host that can answer synchronously (Node's `createHmac`) returns
   * the bytes; the web-standard signer returns a promise.
   */
  sign(data: Uint8Array<ArrayBuffer>): Uint8Array | Promise<Uint8Array>;
}

/**
 * Creates the HMAC-SHA256 signer for `key`. A token service calls it once, at creation, so a
 * host prepares its key there (a CryptoKey, a Node KeyObject) rather than on every signature.
 * Hosts inject a faster one than the default where they have it (the Node gateway's is on
 * `node:crypto`).
 */
export type HmacSha256Factory = (key: Uint8Array) => HmacSha256Signer;

/**
 * The web-standard signer (workerd, and any host that injects nothing): the key is imported as a
 * non-extractable CryptoKey once, on first use, and every MAC is one `crypto.subtle.sign`.
 * @see https://www.w3.org/TR/WebCryptoAPI/#hmac
 */
export const createSubtleHmacSha256: HmacSha256Factory = (key) => {
  // A copy of its own: ArrayBuffer-backed, as importKey wants, and safe from later writes to `key`.
  const raw = new Uint8Array(key);
  let imported: Promise<CryptoKey> | undefined;
  return {
    async sign(data) {
      imported ??= crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      return new Uint8Array(await crypto.subtle.sign('HMAC', await imported, data));
    },
  };
};
