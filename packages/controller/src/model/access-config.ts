import type { McpGatewayExtensionSpec, PolicySpec } from './api-types.ts';
import { EXTENSION_REASONS, type ValidExtension } from './extension-validation.ts';

/**
 * The config sections that say who the caller is and what it may do (`auth`, `policy`,
 * `audit`, `confirmation`), built from an extension's spec in the config file's spelling.
 * @see packages/core/src/config/access-schema.ts (the schema the gateway reads)
 */
export interface AccessSections {
  readonly auth?: {
    readonly oauth?: {
      readonly issuers: readonly string[];
      readonly audience: string;
      readonly requiredScopes?: readonly string[];
    };
    readonly trustedHeaders?: { readonly enforceCapabilityFiltering: boolean };
  };
  readonly policy?: PolicySpec;
  readonly audit?: { readonly arguments?: 'hash' | 'values' };
  readonly confirmation?: { readonly timeoutSeconds?: number };
}

/** The OAuth resource the gateway serves when `oauthProtectedResource.resource` is not set (the anchor's default). */
export function defaultResource(publicHost: string): string {
  return `https://${publicHost}/mcp`;
}

/**
 * The access sections of a valid extension's config:
 * - `auth.oauth` from `spec.tokenVerification`: issuers default to
 *   `oauthProtectedResource.authorizationServers`, the audience to `oauthProtectedResource.resource`
 *   or `https://<publicHost>/mcp` (written out, so the config says what is checked);
 * - `auth.trustedHeaders` when `spec.trustedHeadersKey` or `spec.enforceCapabilityFiltering` is
 *   set (the key itself comes from TRUSTED_HEADER_PUBLIC_KEY, not from the config);
 * - `policy`, `audit` and `confirmation` as written (the audit's destination stays the gateway's: stdout).
 */
export function accessSections(valid: ValidExtension): AccessSections {
  const spec = valid.extension.spec;
  const oauth = oauthSection(spec, valid.publicHost);
  const trusted =
    spec.trustedHeadersKey !== undefined || spec.enforceCapabilityFiltering !== undefined
      ? { enforceCapabilityFiltering: spec.enforceCapabilityFiltering ?? false }
      : undefined;
  const auth =
    oauth === undefined && trusted === undefined
      ? undefined
      : { ...(oauth !== undefined ? { oauth } : {}), ...(trusted !== undefined ? { trustedHeaders: trusted } : {}) };
  return {
    ...(auth !== undefined ? { auth } : {}),
    ...(spec.policy !== undefined ? { policy: spec.policy } : {}),
    ...(spec.audit !== undefined ? { audit: spec.audit } : {}),
    ...(spec.confirmation !== undefined ? { confirmation: spec.confirmation } : {}),
  };
}

function oauthSection(spec: McpGatewayExtensionSpec, publicHost: string) {
  const verification = spec.tokenVerification;
  if (verification === undefined) return undefined;
  const resource = spec.oauthProtectedResource;
  return {
    issuers: verification.issuers ?? resource?.authorizationServers ?? [],
    audience: verification.audience ?? resource?.resource ?? defaultResource(publicHost),
    ...(verification.requiredScopes !== undefined ? { requiredScopes: verification.requiredScopes } : {}),
  };
}

/** A config the controller will not write: the Ready reason and the issues, in the extension's terms. */
export interface ConfigProblem {
  readonly reason: typeof EXTENSION_REASONS.invalidPolicy | typeof EXTENSION_REASONS.invalidConfig;
  readonly message: string;
}

/** At most this many issues are quoted in a condition message, each cut at MAX_ISSUE_CHARS. */
const MAX_ISSUES = 8;
const MAX_ISSUE_CHARS = 300;

/**
 * Turns the gateway's config issues (`config.yaml: policy.rules[1].effect: …`) into a condition
 * about the extension: each config path is named by the spec field it came from
 * (`spec.policy.rules[1].effect`, `spec.tokenVerification.issuers[0]`, or
 * `spec.oauthProtectedResource.authorizationServers[0]` when the issuers were defaulted from
 * there, `spec.userCredentials.login.issuer` for `credentials.login.issuer`). Issues about the policy make the reason `InvalidPolicy`; any other, `InvalidConfig`.
 * The message is bounded (MAX_ISSUES issues of MAX_ISSUE_CHARS characters at most).
 */
export function toConfigProblem(spec: McpGatewayExtensionSpec, errorMessage: string, source: string): ConfigProblem {
  const issues = errorMessage
    .split('\n')
    .map((line) => (line.startsWith(`${source}: `) ? line.slice(source.length + 2) : line))
    .filter((line) => line !== '');
  const reason = issues.some((issue) => issue.startsWith('policy'))
    ? EXTENSION_REASONS.invalidPolicy
    : EXTENSION_REASONS.invalidConfig;
  const shown = issues.slice(0, MAX_ISSUES).map((issue) => {
    const named = toSpecPaths(spec, issue);
    return named.length > MAX_ISSUE_CHARS ? `${named.slice(0, MAX_ISSUE_CHARS)}…` : named;
  });
  const more = issues.length > MAX_ISSUES ? `; and ${issues.length - MAX_ISSUES} more` : '';
  const what = reason === EXTENSION_REASONS.invalidPolicy ? 'the policy' : 'the config';
  return {
    reason,
    message: `${what} was not written (the gateway keeps its last good config): ${shown.join('; ')}${more}`,
  };
}

/** Renames the config paths in one issue to the spec fields they came from. */
function toSpecPaths(spec: McpGatewayExtensionSpec, issue: string): string {
  const verification = spec.tokenVerification;
  const issuers =
    verification?.issuers !== undefined
      ? 'spec.tokenVerification.issuers'
      : 'spec.oauthProtectedResource.authorizationServers';
  const audience =
    verification?.audience !== undefined
      ? 'spec.tokenVerification.audience'
      : spec.oauthProtectedResource?.resource !== undefined
        ? 'spec.oauthProtectedResource.resource'
        : 'spec.publicHost';
  return issue
    .replace(/(?<![\w.])policy(?=[.[:])/g, 'spec.policy')
    .replace(/(?<![\w.])audit(?=[.[:])/g, 'spec.audit')
    .replace(/(?<![\w.])auth\.oauth\.issuers/g, issuers)
    .replace(/(?<![\w.])auth\.oauth\.audience/g, audience)
    .replace(/(?<![\w.])auth\.oauth(?=[.[:])/g, 'spec.tokenVerification')
    .replace(/(?<![\w.])auth\.trustedHeaders\.enforceCapabilityFiltering/g, 'spec.enforceCapabilityFiltering')
    .replace(/(?<![\w.])credentials\.login\.clientSecret(?![\w])/g, 'spec.userCredentials.login.clientSecretRef')
    .replace(/(?<![\w.])credentials(?=[.[:])/g, 'spec.userCredentials');
}
