/** A caller whose bearer token the gateway verified against a trusted issuer's keys. */
export interface VerifiedIdentity {
  readonly issuer: string;
  readonly subject: string;
  /** `client_id` (RFC 9068), else `azp`; "" when the token names none. */
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** Every claim of the token (policy rules read them). */
  readonly claims: Readonly<Record<string, unknown>>;
  /** `exp`, in seconds since the epoch. */
  readonly expiresAt: number;
}

/**
 * Who a request comes from, as far as the gateway knows: nobody it can name (no credential), a
 * credential it did not verify (verification off: bound by its hash, trusted for nothing else),
 * or a verified identity.
 */
export type Authentication =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'credential'; readonly authorization: string }
  | { readonly kind: 'verified'; readonly identity: VerifiedIdentity };

/** Why a request's credential was refused, as the resource server answers it (RFC 6750 §3). */
export interface AuthRefusal {
  /** 401: no or a bad token; 403: a good token without the required scopes; 503: the issuer's keys are unavailable. */
  readonly status: 401 | 403 | 503;
  /** The `error` of the Bearer challenge; absent when the request carried no token (RFC 6750 §3.1). */
  readonly error?: 'invalid_token' | 'insufficient_scope';
  /** What is wrong, for the client and the log; never the token. */
  readonly description: string;
  /** The scopes a 403 needs, for the challenge's `scope`. */
  readonly scope?: string;
}

export type AuthOutcome =
  { readonly ok: true; readonly auth: Authentication } | { readonly ok: false; readonly refusal: AuthRefusal };

export const ANONYMOUS: Authentication = Object.freeze({ kind: 'anonymous' });

/** The unverified authentication of an Authorization header (token verification off). */
export function unverified(authorization: string | null | undefined): Authentication {
  return authorization === null || authorization === undefined ? ANONYMOUS : { kind: 'credential', authorization };
}
