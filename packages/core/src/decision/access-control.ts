import { isIssuerUrl, type OAuthConfig } from '../config/access-schema.ts';
import type { GatewayConfig, VirtualServerConfig } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { ANONYMOUS, type Authentication, type AuthOutcome, type AuthRefusal } from '../identity/authentication.ts';
import {
  audienceOf,
  bearerChallenge,
  metadataUrlOf,
  protectedResourceMetadata,
  type ProtectedResourceEnv,
  type ProtectedResourceMetadata,
} from '../identity/protected-resource.ts';
import { createTokenVerifier, type TokenVerifier } from '../identity/token-verifier.ts';
import {
  ABSENT_HEADER,
  checkTrustedHeaderKey,
  createTrustedHeaderVerifier,
  NO_TRUSTED_KEY,
  TRUSTED_HEADER,
  type TrustedHeader,
  type TrustedHeaderVerifier,
} from '../identity/trusted-header.ts';
import { compilePolicy, type CompiledPolicy, type PolicyCallerScope } from '../policy/compile-policy.ts';
import { createRequestVariables } from '../policy/policy-input.ts';
import { authVariablesOf, capabilityAllows, type AccessSubject } from './access-rules.ts';

/** The header a client (or a route in front) selects a virtual server with: the anchor's interface. */
export const VIRTUAL_SERVER_HEADER = 'x-mcp-virtualserver';

/** What the host knows beyond the config file: the anchor's environment. */
export interface AccessEnv extends ProtectedResourceEnv {
  /**
   * Trusted token issuers, comma-separated: token verification on, for a config file without
   * `auth.oauth` (which wins when present).
   */
  readonly OAUTH_ISSUERS?: string | undefined;
  /** Scopes every token must carry, comma- or space-separated (with OAUTH_ISSUERS). */
  readonly OAUTH_REQUIRED_SCOPES?: string | undefined;
  /** PEM public key of `x-mcp-authorized` (the anchor's variable); the config's `auth.trustedHeaders.publicKey` wins. */
  readonly TRUSTED_HEADER_PUBLIC_KEY?: string | undefined;
  /** `--enforce-capability-filtering`: `x-mcp-authorized` is required (or the config's flag). */
  readonly enforceCapabilityFiltering?: boolean;
}

/** Request headers: a Fetch `Headers`, or the router's map of lower-case names. */
export type HeaderReader = Headers | ReadonlyMap<string, string>;

/** Everything the access decision knows about one request, built once per request. */
export interface RequestAccess {
  readonly auth: Authentication;
  readonly trusted: TrustedHeader;
  /** The virtual server in force: the session's (chosen at initialize), else the request's. */
  readonly virtualServer: VirtualServerConfig | undefined;
  readonly method: string;
  /** The policy's decisions for this request's caller, built on first use; undefined without a policy. */
  policy(): PolicyCallerScope | undefined;
}

/** The access decision on one item. */
export type AccessVerdict =
  | { readonly allowed: true; readonly rule?: string; readonly by: 'open' | 'rule' | 'default' }
  | {
      readonly allowed: false;
      readonly because: 'virtual-server' | 'capabilities' | 'policy';
      readonly rule?: string;
      readonly by?: 'rule' | 'default' | 'error';
    };

/**
 * The access decisions of one config, made the same for the broker, the Envoy router and the
 * worker: who the caller is (token verification), what a trusted header grants, which virtual
 * server is in force, and what the policy rules say. One per applied config.
 */
export interface AccessControl {
  /** Token verification is on: a request without a valid token is refused with 401. */
  readonly verifying: boolean;
  /** Items are filtered per request (policy rules or trusted headers): lists cannot be served from the shared cache. */
  readonly filtering: boolean;
  /** Who the request comes from; a refusal when verification is on and the token does not pass. */
  authenticate(authorization: string | null | undefined): Promise<AuthOutcome>;
  /** The configured virtual server of that name. */
  virtualServer(name: string): VirtualServerConfig | undefined;
  /** The `WWW-Authenticate` header of a refusal on a request to `requestUrl`. */
  challenge(refusal: AuthRefusal, requestUrl: string): string;
  /** The protected resource metadata (RFC 9728) this config publishes. */
  metadata(): ProtectedResourceMetadata;
  /**
   * The request's access facts: its trusted header checked, its virtual server resolved (an
   * unknown virtual server is an error: fail closed, where the anchor fails open).
   */
  requestAccess(
    headers: HeaderReader,
    auth: Authentication,
    method: string,
    sessionVirtualServer?: string,
  ): Promise<RequestAccess | GatewayError>;
  /** Whether the request may call, get or read `subject` (with these arguments). */
  decide(access: RequestAccess, subject: AccessSubject, args?: Readonly<Record<string, unknown>>): AccessVerdict;
  /** Whether `subject` is listed for the request (decided without arguments). */
  visible(access: RequestAccess, subject: AccessSubject): boolean;
}

export interface AccessControlOptions {
  readonly config: GatewayConfig;
  readonly env: AccessEnv;
  readonly fetch: typeof fetch;
  readonly logger: Logger;
  /** The access control of the previous config: issuer key caches carry over. */
  readonly previous?: AccessControl;
}

/** What is wrong with the access sections of `config` for this host (empty when it can be applied). */
export function accessConfigIssues(config: GatewayConfig, env: AccessEnv): string[] {
  const issues = audienceIssues(config, env);
  if (config.auth?.oauth === undefined) {
    for (const issuer of words(env.OAUTH_ISSUERS)) {
      if (!isIssuerUrl(issuer))
        issues.push(`OAUTH_ISSUERS: ${JSON.stringify(issuer)} must be an https URL (http only on a loopback host)`);
    }
  }
  const publicKey = config.auth?.trustedHeaders?.publicKey ?? nonEmpty(env.TRUSTED_HEADER_PUBLIC_KEY);
  const keyProblem = publicKey === undefined ? undefined : checkTrustedHeaderKey(publicKey);
  if (keyProblem !== undefined) {
    const where =
      config.auth?.trustedHeaders?.publicKey === undefined
        ? 'TRUSTED_HEADER_PUBLIC_KEY'
        : 'auth.trustedHeaders.publicKey';
    issues.push(`${where}: ${keyProblem}`);
  }
  if (config.policy !== undefined) {
    const compiled = compilePolicy(config.policy);
    if (!compiled.ok) issues.push(...compiled.issues);
  }
  return issues;
}

const verifiers = new WeakMap<AccessControl, TokenVerifier>();

/** Creates the access control of one config. Throws a CONFIG_INVALID GatewayError when accessConfigIssues has any. */
export function createAccessControl(options: AccessControlOptions): AccessControl {
  const { config, env, logger } = options;
  const issues = audienceIssues(config, env);
  if (issues.length > 0) throw new GatewayError('CONFIG_INVALID', issues.join('; '));
  const policy: CompiledPolicy | undefined = config.policy === undefined ? undefined : policyOf(config.policy);
  const oauth = oauthOf(config, env);
  const previousVerifier = options.previous === undefined ? undefined : verifiers.get(options.previous);
  const verifier =
    oauth === undefined
      ? undefined
      : createTokenVerifier({
          oauth: { ...oauth, audience: audienceOf(env, oauth) as string },
          fetch: options.fetch,
          logger,
          ...(previousVerifier === undefined ? {} : { previous: previousVerifier }),
        });
  const resolvedOAuth = oauth === undefined ? undefined : { ...oauth, audience: audienceOf(env, oauth) as string };
  const publicKey = config.auth?.trustedHeaders?.publicKey ?? nonEmpty(env.TRUSTED_HEADER_PUBLIC_KEY);
  const trustedVerifier: TrustedHeaderVerifier =
    publicKey === undefined ? NO_TRUSTED_KEY : createTrustedHeaderVerifier({ publicKeyPem: publicKey, logger });
  const enforce =
    config.auth?.trustedHeaders?.enforceCapabilityFiltering === true || env.enforceCapabilityFiltering === true;
  const virtualServers = new Map(config.virtualServers.map((vs) => [vs.name, vs]));
  const metadata = protectedResourceMetadata(env, resolvedOAuth);

  const control: AccessControl = {
    verifying: verifier !== undefined,
    filtering: policy !== undefined || publicKey !== undefined || enforce,
    async authenticate(authorization) {
      if (verifier !== undefined) return verifier.verify(authorization);
      if (authorization === null || authorization === undefined) return { ok: true, auth: ANONYMOUS };
      return { ok: true, auth: { kind: 'credential', authorization } };
    },
    virtualServer: (name) => virtualServers.get(name),
    challenge: (refusal, requestUrl) => bearerChallenge(refusal, metadataUrlOf(metadata.resource, requestUrl)),
    metadata: () => metadata,
    async requestAccess(headers, auth, method, sessionVirtualServer) {
      const chosen = sessionVirtualServer ?? nonEmpty(headers.get(VIRTUAL_SERVER_HEADER) ?? undefined);
      const virtualServer = chosen === undefined ? undefined : virtualServers.get(chosen);
      if (chosen !== undefined && virtualServer === undefined) {
        return new GatewayError('INVALID_PARAMS', `Unknown virtual server: ${chosen}`);
      }
      const header = headers.get(TRUSTED_HEADER);
      const trusted = header === null || header === undefined ? ABSENT_HEADER : await trustedVerifier.verify(header);
      let scope: PolicyCallerScope | undefined;
      return {
        auth,
        trusted,
        virtualServer,
        method,
        policy: () =>
          policy === undefined
            ? undefined
            : (scope ??= policy.forCaller({
                auth: authVariablesOf(auth),
                request: createRequestVariables(
                  method,
                  headers as Headers | ReadonlyMap<string, string>,
                  policy.headerNames,
                ),
              })),
      };
    },
    decide(access, subject, args) {
      if (!inVirtualServer(access.virtualServer, subject)) return { allowed: false, because: 'virtual-server' };
      if (!capabilityAllows(access.trusted, enforce, subject)) return { allowed: false, because: 'capabilities' };
      const scope = access.policy();
      if (scope === undefined) return OPEN;
      const verdict = scope.decideCall({ ...subject, arguments: args ?? EMPTY_ARGUMENTS });
      return verdict.allowed
        ? { allowed: true, by: verdict.by === 'rule' ? 'rule' : 'default', ...ruleOf(verdict.rule) }
        : { allowed: false, because: 'policy', by: verdict.by, ...ruleOf(verdict.rule) };
    },
    visible(access, subject) {
      if (!inVirtualServer(access.virtualServer, subject)) return false;
      if (!capabilityAllows(access.trusted, enforce, subject)) return false;
      const scope = access.policy();
      return scope === undefined || scope.decideVisible(subject).allowed;
    },
  };
  if (verifier !== undefined) verifiers.set(control, verifier);
  return control;
}

/** The token verification in force: the config's `auth.oauth`, else the environment's OAUTH_ISSUERS. */
export function oauthOf(config: GatewayConfig, env: AccessEnv): OAuthConfig | undefined {
  if (config.auth?.oauth !== undefined) return config.auth.oauth;
  const issuers = words(env.OAUTH_ISSUERS);
  if (issuers.length === 0) return undefined;
  return { issuers: issuers.map((issuer) => ({ issuer })), requiredScopes: words(env.OAUTH_REQUIRED_SCOPES) };
}

function words(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter((word) => word !== '');
}

function audienceIssues(config: GatewayConfig, env: AccessEnv): string[] {
  const oauth = oauthOf(config, env);
  if (oauth === undefined || audienceOf(env, oauth) !== undefined) return [];
  return [
    'auth.oauth.audience: required: the URL clients reach this gateway at (the RFC 8707 resource, e.g. https://mcp.example.com/mcp), or set OAUTH_RESOURCE to it',
  ];
}

function policyOf(config: NonNullable<GatewayConfig['policy']>): CompiledPolicy {
  const compiled = compilePolicy(config);
  if (!compiled.ok) throw new GatewayError('CONFIG_INVALID', compiled.issues.join('; '));
  return compiled.policy;
}

const OPEN: AccessVerdict = Object.freeze({ allowed: true, by: 'open' });
const EMPTY_ARGUMENTS: Readonly<Record<string, unknown>> = Object.freeze({});

function ruleOf(rule: string | undefined): { rule?: string } {
  return rule === undefined ? {} : { rule };
}

/** A virtual server lists served tool names, and optionally prompt names; resources are not limited by it. */
function inVirtualServer(vs: VirtualServerConfig | undefined, subject: AccessSubject): boolean {
  if (vs === undefined) return true;
  if (subject.kind === 'tool') return vs.tools.includes(subject.servedName);
  if (subject.kind === 'prompt')
    return vs.prompts === undefined || vs.prompts.length === 0 || vs.prompts.includes(subject.servedName);
  return true;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}
