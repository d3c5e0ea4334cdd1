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
  createTrustedHeaderVerifier,
  NO_TRUSTED_KEY,
  TRUSTED_HEADER,
  type TrustedHeader,
  type TrustedHeaderVerifier,
} from '../identity/trusted-header.ts';
import { capabilityAllows, policyInput, type AccessSubject, type PolicyDecider } from './access-rules.ts';

/** The header a client (or a route in front) selects a virtual server with: the anchor's interface. */
export const VIRTUAL_SERVER_HEADER = 'x-mcp-virtualserver';

/** What the host knows beyond the config file: the anchor's environment. */
export interface AccessEnv extends ProtectedResourceEnv {
  /** PEM public key of `x-mcp-authorized` (the anchor's variable); the config's `auth.trustedHeaders.publicKey` wins. */
  readonly TRUSTED_HEADER_PUBLIC_KEY?: string | undefined;
  /** `--enforce-capability-filtering`: `x-mcp-authorized` is required (or the config's flag). */
  readonly enforceCapabilityFiltering?: boolean;
}

/** Reads request headers (a Fetch `Headers`, or the router's map). */
export interface HeaderReader {
  get(name: string): string | null | undefined;
}

/** Everything the access decision knows about one request, built once per request. */
export interface RequestAccess {
  readonly auth: Authentication;
  readonly trusted: TrustedHeader;
  /** The virtual server in force: the session's (chosen at initialize), else the request's. */
  readonly virtualServer: VirtualServerConfig | undefined;
  readonly method: string;
  /** Lower-case header names to values, without credentials (policy rules read them); built on first use. */
  headers(): Readonly<Record<string, string>>;
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
  /** The policy compiled from `config.policy`; undefined: everything allowed. */
  readonly policy?: PolicyDecider;
  /** The access control of the previous config: issuer key caches carry over. */
  readonly previous?: AccessControl;
}

/** What is wrong with the access sections of `config` for this host (empty when it can be applied). */
export function accessConfigIssues(config: GatewayConfig, env: AccessEnv): string[] {
  const oauth = config.auth?.oauth;
  if (oauth !== undefined && audienceOf(env, oauth) === undefined) {
    return [
      'auth.oauth.audience: required: the URL clients reach this gateway at (the RFC 8707 resource, e.g. https://mcp.example.com/mcp), or set OAUTH_RESOURCE to it',
    ];
  }
  return [];
}

const verifiers = new WeakMap<AccessControl, TokenVerifier>();

/** Creates the access control of one config. Throws a CONFIG_INVALID GatewayError when accessConfigIssues has any. */
export function createAccessControl(options: AccessControlOptions): AccessControl {
  const { config, env, logger, policy } = options;
  const issues = accessConfigIssues(config, env);
  if (issues.length > 0) throw new GatewayError('CONFIG_INVALID', issues.join('; '));
  const oauth = config.auth?.oauth;
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
      let flat: Record<string, string> | undefined;
      return {
        auth,
        trusted,
        virtualServer,
        method,
        headers: () => (flat ??= policyHeaders(headers)),
      };
    },
    decide(access, subject, args) {
      if (!inVirtualServer(access.virtualServer, subject)) return { allowed: false, because: 'virtual-server' };
      if (!capabilityAllows(access.trusted, enforce, subject)) return { allowed: false, because: 'capabilities' };
      if (policy === undefined) return OPEN;
      const verdict = policy.decideCall(policyInput(access, subject, args ?? {}));
      return verdict.allowed
        ? { allowed: true, by: verdict.by === 'rule' ? 'rule' : 'default', ...ruleOf(verdict.rule) }
        : { allowed: false, because: 'policy', by: verdict.by, ...ruleOf(verdict.rule) };
    },
    visible(access, subject) {
      if (!inVirtualServer(access.virtualServer, subject)) return false;
      if (!capabilityAllows(access.trusted, enforce, subject)) return false;
      return policy === undefined || policy.decideVisible(policyInput(access, subject, undefined)).allowed;
    },
  };
  if (verifier !== undefined) verifiers.set(control, verifier);
  return control;
}

const OPEN: AccessVerdict = Object.freeze({ allowed: true, by: 'open' });

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

/** Headers a rule may read: every header but the credentials, lower-case names. */
const HIDDEN_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization', TRUSTED_HEADER]);

function policyHeaders(headers: HeaderReader): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  const entries = (headers as { entries?: () => IterableIterator<[string, string]> }).entries;
  if (typeof entries === 'function') {
    for (const [name, value] of entries.call(headers)) {
      const key = name.toLowerCase();
      if (!HIDDEN_HEADERS.has(key) && !key.startsWith(':')) out[key] = value;
    }
  }
  return out;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}
