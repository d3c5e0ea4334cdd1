import type { ValidExtension } from './extension-validation.ts';

/**
 * The config's top-level `credentials` section in the file's spelling: the /tokens pages' login
 * (with its client secret's value) and how long a pasted token is kept.
 * @see docs/credentials.md
 */
export interface FileCredentials {
  readonly login?: {
    readonly issuer?: string;
    readonly clientId: string;
    readonly clientSecret?: string;
    readonly scopes?: readonly string[];
  };
  readonly pastedTokenTtlSeconds?: number;
}

/**
 * The `credentials` section of a valid extension's config, from `spec.userCredentials`: the
 * login's client secret is the value extension validation read from its Secret; empty optional
 * fields are left out, so the gateway's defaults apply (issuer: the token verification's only
 * one; scopes: openid; pastedTokenTtlSeconds: 86400). Undefined without `spec.userCredentials`.
 */
export function credentialsSection(valid: ValidExtension): FileCredentials | undefined {
  const spec = valid.extension.spec.userCredentials;
  if (spec === undefined) return undefined;
  const login = spec.login;
  return {
    ...(login !== undefined
      ? {
          login: {
            ...(login.issuer !== undefined ? { issuer: login.issuer } : {}),
            clientId: login.clientId,
            ...(valid.loginClientSecret !== undefined ? { clientSecret: valid.loginClientSecret } : {}),
            ...(login.scopes !== undefined && login.scopes.length > 0 ? { scopes: login.scopes } : {}),
          },
        }
      : {}),
    ...(spec.pastedTokenTtlSeconds !== undefined ? { pastedTokenTtlSeconds: spec.pastedTokenTtlSeconds } : {}),
  };
}
