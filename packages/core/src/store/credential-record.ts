import { GatewayError } from '../errors.ts';

/**
 * Bounds on what a store keeps of users' upstream credentials and one-time grants, checked
 * before any store is reached, the same for every implementation.
 */

/** Longest credential owner key (core's credentialOwner is 32 hex digits). */
export const MAX_CREDENTIAL_OWNER_LENGTH = 64;
/** Longest server name a credential is kept for. */
export const MAX_CREDENTIAL_SERVER_LENGTH = 256;
/** Largest sealed credential a store keeps (the sealer's MAX_SEALED_BYTES). */
export const MAX_STORED_CREDENTIAL_BYTES = 24 * 1024;
/** Longest grant id. */
export const MAX_GRANT_ID_LENGTH = 128;
/** Largest one-time grant value. */
export const MAX_GRANT_BYTES = 16 * 1024;
/** Longest a credential or a grant is kept: 31 days. */
export const MAX_CREDENTIAL_TTL_SECONDS = 31 * 24 * 3600;

function checkTtl(ttlSeconds: number): string | undefined {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_CREDENTIAL_TTL_SECONDS) {
    return `a TTL of ${ttlSeconds} s is outside 1 s to ${MAX_CREDENTIAL_TTL_SECONDS} s`;
  }
  return undefined;
}

/** Throws INVALID_PARAMS for an owner or server out of bounds. */
export function assertCredentialKey(owner: string, server: string): void {
  if (owner.length === 0 || owner.length > MAX_CREDENTIAL_OWNER_LENGTH) {
    throw new GatewayError(
      'INVALID_PARAMS',
      `a credential owner must be 1 to ${MAX_CREDENTIAL_OWNER_LENGTH} characters`,
    );
  }
  if (server.length === 0 || server.length > MAX_CREDENTIAL_SERVER_LENGTH) {
    throw new GatewayError(
      'INVALID_PARAMS',
      `a credential's server name must be 1 to ${MAX_CREDENTIAL_SERVER_LENGTH} characters`,
    );
  }
}

/** Throws INVALID_PARAMS for an owner, server, sealed text or TTL out of bounds. */
export function assertCredentialWrite(owner: string, server: string, sealed: string, ttlSeconds: number): void {
  assertCredentialKey(owner, server);
  if (sealed.length === 0 || sealed.length > MAX_STORED_CREDENTIAL_BYTES) {
    throw new GatewayError('INVALID_PARAMS', `a sealed credential must be 1 to ${MAX_STORED_CREDENTIAL_BYTES} bytes`);
  }
  const ttl = checkTtl(ttlSeconds);
  if (ttl !== undefined) throw new GatewayError('INVALID_PARAMS', ttl);
}

/** Throws INVALID_PARAMS for a grant id, value or TTL out of bounds. */
export function assertGrant(id: string, value: string, ttlSeconds: number): void {
  if (id.length === 0 || id.length > MAX_GRANT_ID_LENGTH) {
    throw new GatewayError('INVALID_PARAMS', `a grant id must be 1 to ${MAX_GRANT_ID_LENGTH} characters`);
  }
  if (value.length > MAX_GRANT_BYTES) {
    throw new GatewayError('INVALID_PARAMS', `a grant must be at most ${MAX_GRANT_BYTES} bytes`);
  }
  const ttl = checkTtl(ttlSeconds);
  if (ttl !== undefined) throw new GatewayError('INVALID_PARAMS', ttl);
}
