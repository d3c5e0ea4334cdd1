import type { Authentication } from '../identity/authentication.ts';
import type { CredentialBinding, UserCredential } from './credential-sealer.ts';
import { MAX_CREDENTIAL_TTL_SECONDS } from '../store/credential-record.ts';

/**
 * Whose upstream credentials a caller holds: a verified token's issuer and subject; with token
 * verification off, the hash of the whole credential (as sessions bind it: `callerIdentity`) under
 * the empty issuer; nobody for an anonymous caller, who cannot hold one.
 */
export interface CredentialHolder {
  readonly issuer: string;
  readonly subject: string;
  /** The store key of the holder's credentials (credentialOwner). */
  readonly owner: string;
}

/**
 * The holder of `auth`'s credentials; `identity` is the caller identity hash of an unverified
 * credential (CallerIdentities.identify). Undefined for an anonymous caller.
 */
export async function credentialHolder(
  auth: Authentication,
  identity: string | undefined,
): Promise<CredentialHolder | undefined> {
  if (auth.kind === 'verified') {
    const { issuer, subject } = auth.identity;
    return { issuer, subject, owner: await credentialOwner(issuer, subject) };
  }
  if (auth.kind === 'credential' && identity !== undefined) {
    return { issuer: '', subject: identity, owner: await credentialOwner('', identity) };
  }
  return undefined;
}

/** The store key of (issuer, subject)'s credentials: 32 hex digits of SHA-256, no identity in clear. */
export async function credentialOwner(issuer: string, subject: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`credential-owner\n${issuer}\n${subject}`)),
  );
  let out = '';
  for (let i = 0; i < 16; i++) out += (digest[i] as number).toString(16).padStart(2, '0');
  return out;
}

/** The sealer's binding of a holder's credential for `server`. */
export function bindingOf(holder: CredentialHolder, server: string): CredentialBinding {
  return { issuer: holder.issuer, subject: holder.subject, server };
}

/** A URL elicitation waiting for its user (grant `te:<id>`, two minutes: the anchor's TTL). */
export interface TokenElicitation {
  readonly issuer: string;
  readonly subject: string;
  readonly owner: string;
  readonly server: string;
  /** ms since the epoch. */
  readonly expiresAt: number;
  /** The legacy session that asked, told `notifications/elicitation/complete` once the user is done. */
  readonly jti?: string;
}

/** How long a URL elicitation waits for its user, in seconds (the anchor's 2 minutes). */
export const TOKEN_ELICITATION_TTL_SECONDS = 120;
/** The grant id prefix of a URL elicitation. */
export const TOKEN_ELICITATION_GRANT = 'te:';

/** A TokenElicitation read back from the store; undefined for anything else (a foreign or edited value). */
export function parseTokenElicitation(text: string | undefined, now = Date.now()): TokenElicitation | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { issuer, subject, owner, server, expiresAt, jti } = value as Record<string, unknown>;
  if (typeof issuer !== 'string' || typeof subject !== 'string' || typeof owner !== 'string') return undefined;
  if (typeof server !== 'string' || typeof expiresAt !== 'number' || expiresAt <= now) return undefined;
  return { issuer, subject, owner, server, expiresAt, ...(typeof jti === 'string' && { jti }) };
}

/**
 * How long the store keeps a credential: until its token expires; one that can be refreshed as
 * long as the store keeps anything (its refresh token outlives the access token), so it is still
 * there to be refreshed when its access token has expired.
 */
export function storedCredentialTtlSeconds(credential: UserCredential, now = Date.now()): number {
  if (credential.refreshToken !== undefined) return MAX_CREDENTIAL_TTL_SECONDS;
  return Math.min(MAX_CREDENTIAL_TTL_SECONDS, Math.max(1, Math.ceil((credential.expiresAt - now) / 1000)));
}
