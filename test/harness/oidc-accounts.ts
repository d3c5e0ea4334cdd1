/** One end-user of the test provider, and what its access tokens say about it. */
export interface OidcAccount {
  /** The `roles` claim of its access tokens (policy rules match e.g. `"admin" in auth.claims.roles`). */
  readonly roles: readonly string[];
  /** The `org` claim of its access tokens. */
  readonly org: Readonly<Record<string, unknown>>;
  /**
   * The scopes this user consents to; the others it is asked for are refused at consent, so
   * its tokens lack them (as when a user unticks a scope). Default: every scope asked for.
   */
  readonly scopes?: readonly string[];
  /** More top-level access token claims. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/**
 * The provider's users unless a test brings its own: `alice` (roles [admin], consents to every
 * scope) and `bob` (roles [reader], consents to `mcp:tools` only, so a gateway that requires
 * `mcp:admin` answers his tokens 403 `insufficient_scope`).
 */
export const DEFAULT_ACCOUNTS: Readonly<Record<string, OidcAccount>> = {
  alice: { roles: ['admin'], org: { id: 'acme', name: 'Acme Corp', team: 'platform' } },
  bob: { roles: ['reader'], org: { id: 'acme', name: 'Acme Corp', team: 'support' }, scopes: ['mcp:tools'] },
};

/** The claims an account adds to its access tokens (never `sub`, `iss`, `aud` or the like: oidc-provider keeps its own). */
export function accountTokenClaims(account: OidcAccount): Record<string, unknown> {
  return { ...account.claims, roles: [...account.roles], org: { ...account.org } };
}
