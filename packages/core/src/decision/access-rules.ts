import type { Authentication } from '../identity/authentication.ts';
import type { Capabilities, TrustedHeader } from '../identity/trusted-header.ts';
import {
  createAuthVariables,
  UNVERIFIED_AUTH,
  type AuthVariables,
  type McpItemVariables,
} from '../policy/policy-input.ts';

/**
 * The item a request lists, calls, gets or reads: its server's config name, its kind, the
 * upstream's own name (for a resource, its URI or URI template) and the name clients see. The
 * very shape a policy rule sees as `mcp` (without arguments).
 */
export type AccessSubject = McpItemVariables;

/** The `auth` variables of each verified authentication: one object per cached token, so rules on it are evaluated once. */
const authVariables = new WeakMap<Authentication, AuthVariables>();

/** The `auth` a policy rule sees for an authentication (the same object for the same authentication). */
export function authVariablesOf(auth: Authentication): AuthVariables {
  if (auth.kind !== 'verified') return UNVERIFIED_AUTH;
  const known = authVariables.get(auth);
  if (known !== undefined) return known;
  const { identity } = auth;
  const made = createAuthVariables({
    issuer: identity.issuer,
    subject: identity.subject,
    clientId: identity.clientId,
    scopes: identity.scopes,
    claims: identity.claims,
  });
  authVariables.set(auth, made);
  return made;
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
