import type { Authentication } from '../identity/authentication.ts';
import type { Capabilities, TrustedHeader } from '../identity/trusted-header.ts';

/** The item a request lists, calls, gets or reads. */
export interface AccessSubject {
  readonly kind: 'tool' | 'prompt' | 'resource';
  /** The server's config name. */
  readonly server: string;
  /** The upstream's own name (for a resource, its URI or URI template). */
  readonly name: string;
  /** The name as clients see it (prefix included). */
  readonly servedName: string;
}

/** What a policy rule's condition sees (docs/authorization.md lists the variables). */
export interface PolicyInput {
  readonly auth: {
    readonly verified: boolean;
    readonly issuer: string;
    readonly subject: string;
    readonly clientId: string;
    readonly scopes: readonly string[];
    readonly claims: Readonly<Record<string, unknown>>;
  };
  readonly request: { readonly method: string; readonly headers: Readonly<Record<string, string>> };
  readonly mcp: {
    readonly server: string;
    readonly kind: AccessSubject['kind'];
    readonly name: string;
    readonly servedName: string;
    /** Absent when deciding what a list shows. */
    readonly arguments?: Readonly<Record<string, unknown>>;
  };
}

/** A policy rule's or the default's answer. */
export interface PolicyVerdict {
  readonly allowed: boolean;
  /** The deciding rule's name; absent when the default decided. */
  readonly rule?: string;
  readonly by: 'rule' | 'default' | 'error';
}

/** The compiled policy rules of one config (core's policy module). */
export interface PolicyDecider {
  decideCall(input: PolicyInput): PolicyVerdict;
  decideVisible(input: PolicyInput): PolicyVerdict;
}

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});

/** The `auth` part of a policy input, the same object for every item of one request. */
const authParts = new WeakMap<Authentication, PolicyInput['auth']>();

function authPart(auth: Authentication): PolicyInput['auth'] {
  const known = authParts.get(auth);
  if (known !== undefined) return known;
  const part =
    auth.kind === 'verified'
      ? {
          verified: true,
          issuer: auth.identity.issuer,
          subject: auth.identity.subject,
          clientId: auth.identity.clientId,
          scopes: auth.identity.scopes,
          claims: auth.identity.claims,
        }
      : { verified: false, issuer: '', subject: '', clientId: '', scopes: [], claims: EMPTY };
  authParts.set(auth, part);
  return part;
}

/** The policy input of one item of a request; `args` undefined for a list. */
export function policyInput(
  access: {
    readonly auth: Authentication;
    readonly method: string;
    headers(): Readonly<Record<string, string>>;
  },
  subject: AccessSubject,
  args: Readonly<Record<string, unknown>> | undefined,
): PolicyInput {
  return {
    auth: authPart(access.auth),
    request: { method: access.method, headers: access.headers() },
    mcp: {
      server: subject.server,
      kind: subject.kind,
      name: subject.name,
      servedName: subject.servedName,
      ...(args === undefined ? {} : { arguments: args }),
    },
  };
}

const KIND_KEYS = { tool: 'tools', prompt: 'prompts', resource: 'resources' } as const;

/**
 * Whether the trusted header lets the caller use `subject`, by the anchor's rules: no header
 * allows everything unless enforcement is on; a header that is not to be trusted allows nothing;
 * a verified header without the subject's kind allows that kind unless enforcement is on; else
 * only the names listed for the subject's server (a resource by its URI, or, for `ui://` URIs,
 * by their authority).
 */
export function capabilityAllows(trusted: TrustedHeader, enforce: boolean, subject: AccessSubject): boolean {
  if (trusted.kind === 'absent') return !enforce;
  if (trusted.kind === 'invalid') return false;
  const byServer: Capabilities[keyof Capabilities] = trusted.capabilities[KIND_KEYS[subject.kind]];
  if (byServer === undefined) return !enforce;
  const names = byServer.get(subject.server);
  if (names === undefined) return false;
  if (names.has(subject.name)) return true;
  return subject.kind === 'resource' && names.has(uiAuthority(subject.name) ?? '\u0000');
}

function uiAuthority(uri: string): string | undefined {
  if (!uri.startsWith('ui://')) return undefined;
  const rest = uri.slice(5);
  const end = rest.indexOf('/');
  return end === -1 ? rest : rest.slice(0, end);
}
