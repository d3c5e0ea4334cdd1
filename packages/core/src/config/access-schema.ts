import * as v from 'valibot';

/**
 * The access sections of the config file: `auth` (who the caller is), `policy` (what the caller
 * may see and call) and `audit` (the record of each decision). Each is optional; without them
 * the gateway behaves as before (no verification, everything allowed, no audit records).
 * @see docs/authorization.md
 */

const text = () => v.string('must be a string');
const nonEmpty = () => v.pipe(text(), v.trim(), v.minLength(1, 'must not be empty'));
const stringList = () => v.array(v.string('must be a list of strings'), 'must be a list of strings');

/** True for an absolute `https:` URL, or `http:` on a loopback host (tests, local IdPs). */
export function isIssuerUrl(input: string): boolean {
  try {
    const url = new URL(input);
    if (url.search !== '' || url.hash !== '') return false;
    if (url.protocol === 'https:') return url.hostname !== '';
    return url.protocol === 'http:' && isLoopback(url.hostname);
  } catch {
    return false;
  }
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

const ISSUER_MESSAGE = 'must be an https URL without query or fragment (http only on a loopback host)';

/** One trusted token issuer (an OAuth authorization server / OpenID provider). */
export const RawIssuerSchema = v.looseObject(
  {
    issuer: v.pipe(nonEmpty(), v.check(isIssuerUrl, ISSUER_MESSAGE)),
    /** Where its keys are; by default the `jwks_uri` of its metadata (RFC 8414 / OpenID discovery). */
    jwksUri: v.nullish(v.pipe(nonEmpty(), v.check(isIssuerUrl, ISSUER_MESSAGE))),
  },
  'must be a mapping',
);

/** `auth.oauth`: the gateway as an OAuth 2.1 resource server. */
export const RawOAuthSchema = v.looseObject(
  {
    issuers: v.pipe(
      v.array(
        v.union(
          [v.pipe(nonEmpty(), v.check(isIssuerUrl, ISSUER_MESSAGE)), RawIssuerSchema],
          'must be an issuer URL (https, or http on a loopback host) or a mapping with issuer',
        ),
        'must be a list',
      ),
      v.minLength(1, 'must name at least one issuer'),
    ),
    /** The resource indicator (RFC 8707) tokens must name in `aud`; default OAUTH_RESOURCE. */
    audience: v.nullish(nonEmpty()),
    requiredScopes: v.nullish(stringList()),
  },
  'must be a mapping',
);

/** `auth.trustedHeaders`: the anchor's `x-mcp-authorized` header. */
export const RawTrustedHeadersSchema = v.looseObject(
  {
    /** PEM public key (P-256, SPKI); default the TRUSTED_HEADER_PUBLIC_KEY environment variable. */
    publicKey: v.nullish(v.pipe(text(), v.includes('-----BEGIN PUBLIC KEY-----', 'must be a PEM public key'))),
    enforceCapabilityFiltering: v.nullish(v.boolean('must be true or false')),
  },
  'must be a mapping',
);

export const RawAuthSchema = v.looseObject(
  {
    oauth: v.nullish(RawOAuthSchema),
    trustedHeaders: v.nullish(RawTrustedHeadersSchema),
  },
  'must be a mapping',
);

/**
 * One `policy.rules[]` entry: an allow or deny, for the items its selectors match, when its CEL
 * condition holds; or a confirm: such a call (once allowed) waits for the user's confirmation.
 */
export const RawPolicyRuleSchema = v.looseObject(
  {
    name: nonEmpty(),
    effect: v.picklist(['allow', 'deny', 'confirm'], 'must be allow, deny or confirm'),
    servers: v.nullish(stringList()),
    tools: v.nullish(stringList()),
    prompts: v.nullish(stringList()),
    resources: v.nullish(stringList()),
    when: v.nullish(nonEmpty()),
  },
  'must be a mapping',
);

export const RawPolicySchema = v.looseObject(
  {
    default: v.nullish(v.picklist(['allow', 'deny'], 'must be allow or deny')),
    rules: v.nullish(v.array(RawPolicyRuleSchema, 'must be a list')),
  },
  'must be a mapping',
);

export const RawAuditSchema = v.looseObject(
  {
    /** `stdout`, `stderr` or a file path (Node); the worker always writes to its console. */
    destination: v.nullish(nonEmpty()),
    /** `hash` (default): arguments are recorded by their SHA-256; `values`: as they were sent. */
    arguments: v.nullish(v.picklist(['hash', 'values'], 'must be hash or values')),
  },
  'must be a mapping',
);

/** A trusted issuer, resolved. */
export interface IssuerConfig {
  readonly issuer: string;
  readonly jwksUri?: string;
}

/** Token verification: on when this is present. */
export interface OAuthConfig {
  readonly issuers: readonly IssuerConfig[];
  /** The audience tokens must carry; undefined: the host's OAUTH_RESOURCE, which it fills in. */
  readonly audience?: string;
  readonly requiredScopes: readonly string[];
}

export interface TrustedHeadersConfig {
  readonly publicKey?: string;
  readonly enforceCapabilityFiltering: boolean;
}

export interface AuthConfig {
  readonly oauth?: OAuthConfig;
  readonly trustedHeaders?: TrustedHeadersConfig;
}

/** One policy rule as written; `when` is a CEL expression, compiled by core's policy module. */
export interface PolicyRuleConfig {
  readonly name: string;
  /** `confirm`: an allowed call the rule holds for waits for the user's confirmation (it never allows nor hides). */
  readonly effect: 'allow' | 'deny' | 'confirm';
  readonly servers?: readonly string[];
  readonly tools?: readonly string[];
  readonly prompts?: readonly string[];
  readonly resources?: readonly string[];
  readonly when?: string;
}

export interface PolicyConfig {
  /** What happens when no rule matches; `allow` unless written. */
  readonly default: 'allow' | 'deny';
  readonly rules: readonly PolicyRuleConfig[];
}

export interface AuditConfig {
  readonly destination?: string;
  readonly arguments: 'hash' | 'values';
}

type RawAuth = v.InferOutput<typeof RawAuthSchema>;
type RawPolicy = v.InferOutput<typeof RawPolicySchema>;
type RawAudit = v.InferOutput<typeof RawAuditSchema>;

/** The `auth` section, resolved; issues (duplicate issuers) are appended to `issues`. */
export function resolveAuth(raw: RawAuth, issues: string[]): AuthConfig {
  const oauth = raw.oauth ?? undefined;
  const trusted = raw.trustedHeaders ?? undefined;
  let resolvedOAuth: OAuthConfig | undefined;
  if (oauth !== undefined) {
    const issuers = oauth.issuers.map((entry): IssuerConfig => {
      if (typeof entry === 'string') return { issuer: entry };
      return { issuer: entry.issuer, ...(entry.jwksUri ? { jwksUri: entry.jwksUri } : {}) };
    });
    const seen = new Set<string>();
    issuers.forEach((entry, index) => {
      if (seen.has(entry.issuer)) {
        issues.push(`auth.oauth.issuers[${index}]: ${JSON.stringify(entry.issuer)} is listed twice`);
      }
      seen.add(entry.issuer);
    });
    resolvedOAuth = {
      issuers,
      ...(oauth.audience ? { audience: oauth.audience } : {}),
      requiredScopes: oauth.requiredScopes ?? [],
    };
  }
  return {
    ...(resolvedOAuth === undefined ? {} : { oauth: resolvedOAuth }),
    ...(trusted === undefined
      ? {}
      : {
          trustedHeaders: {
            ...(trusted.publicKey ? { publicKey: trusted.publicKey } : {}),
            enforceCapabilityFiltering: trusted.enforceCapabilityFiltering ?? false,
          },
        }),
  };
}

/** The `policy` section, resolved (rule names must be unique); its conditions are compiled later. */
export function resolvePolicy(raw: RawPolicy, issues: string[]): PolicyConfig {
  const rules = (raw.rules ?? []).map((rule): PolicyRuleConfig => {
    const out: { -readonly [K in keyof PolicyRuleConfig]: PolicyRuleConfig[K] } = {
      name: rule.name,
      effect: rule.effect,
    };
    if (rule.servers) out.servers = rule.servers;
    if (rule.tools) out.tools = rule.tools;
    if (rule.prompts) out.prompts = rule.prompts;
    if (rule.resources) out.resources = rule.resources;
    if (rule.when) out.when = rule.when;
    return out;
  });
  const seen = new Map<string, number>();
  rules.forEach((rule, index) => {
    const first = seen.get(rule.name);
    if (first !== undefined) {
      issues.push(
        `policy.rules[${index}].name: ${JSON.stringify(rule.name)} is already used by policy.rules[${first}]`,
      );
    } else seen.set(rule.name, index);
  });
  return { default: raw.default ?? 'allow', rules };
}

export function resolveAudit(raw: RawAudit): AuditConfig {
  return { ...(raw.destination ? { destination: raw.destination } : {}), arguments: raw.arguments ?? 'hash' };
}
