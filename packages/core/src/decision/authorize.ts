import { prefixName, prefixUri } from '../catalog/tool-prefix.ts';
import { GatewayError } from '../errors.ts';
import type { AuthRefusal } from '../identity/authentication.ts';
import type { AccessControl, AccessVerdict, RequestAccess } from './access-control.ts';
import type { AccessSubject } from './access-rules.ts';
import type { ForwardPlan } from './route.ts';

/** The access decision on a forwarded call: allowed, or the error the client gets. */
export interface Authorization {
  readonly verdict: AccessVerdict;
  /** The item decided on; undefined for a method that names none. */
  readonly subject?: AccessSubject;
  /** Set when refused: the JSON-RPC error to answer (names no rule, no internals). */
  readonly error?: GatewayError;
}

const NOTHING_TO_DECIDE: Authorization = Object.freeze({ verdict: Object.freeze({ allowed: true, by: 'open' }) });

/**
 * Decides whether a forwarded call may go: the item it names (the tool called, the prompt got,
 * the resource read or subscribed to, the prompt or resource a completion refers to) checked
 * against the request's virtual server, trusted header and the policy, with the call's
 * arguments. The broker, the Envoy router and the worker all call this after routing.
 */
export function authorizeForward(control: AccessControl, access: RequestAccess, plan: ForwardPlan): Authorization {
  const subject = accessSubjectOf(plan);
  if (subject === undefined) return NOTHING_TO_DECIDE;
  const verdict = control.decide(access, subject, argumentsOf(plan));
  return verdict.allowed ? { verdict, subject } : { verdict, subject, error: deniedError(subject) };
}

/** The item a forwarded call concerns, with its served name. */
export function accessSubjectOf(plan: ForwardPlan): AccessSubject | undefined {
  const { server, params } = plan;
  let kind: AccessSubject['kind'];
  let name: string;
  if (plan.target !== undefined) {
    ({ kind, name } = plan.target);
  } else {
    const ref = params['ref'];
    if (typeof ref !== 'object' || ref === null) return undefined;
    const { type, name: refName, uri } = ref as Record<string, unknown>;
    if (type === 'ref/prompt' && typeof refName === 'string') [kind, name] = ['prompt', refName];
    else if (type === 'ref/resource' && typeof uri === 'string') [kind, name] = ['resource', uri];
    else return undefined;
  }
  const servedName = kind === 'resource' ? prefixUri(server.prefix, name) : prefixName(server.prefix, name);
  return { kind, server: server.name, name, servedName };
}

const NO_ARGUMENTS: Readonly<Record<string, unknown>> = Object.freeze({});

/** The arguments of a tools/call or prompts/get (an empty map for anything else). */
export function argumentsOf(plan: ForwardPlan): Readonly<Record<string, unknown>> {
  if (plan.method !== 'tools/call' && plan.method !== 'prompts/get') return NO_ARGUMENTS;
  const args = plan.params['arguments'];
  return typeof args === 'object' && args !== null && !Array.isArray(args)
    ? (args as Record<string, unknown>)
    : NO_ARGUMENTS;
}

const KIND_WORDS = { tool: 'tool', prompt: 'prompt', resource: 'resource' } as const;

/** The error of a refused call: which item, in the client's own terms, and nothing of why. */
export function deniedError(subject: AccessSubject): GatewayError {
  return new GatewayError(
    'ACCESS_DENIED',
    `Access denied: the ${KIND_WORDS[subject.kind]} ${JSON.stringify(subject.servedName)} is not available to this caller`,
  );
}

/** The GatewayError of a refused credential (its WWW-Authenticate challenge is the host's to add). */
export function refusalError(refusal: AuthRefusal): GatewayError {
  const code =
    refusal.status === 403 ? 'INSUFFICIENT_SCOPE' : refusal.status === 503 ? 'AUTH_UNAVAILABLE' : 'UNAUTHORIZED';
  const prefix = refusal.status === 403 ? 'Forbidden' : refusal.status === 503 ? 'Unavailable' : 'Unauthorized';
  return new GatewayError(code, `${prefix}: ${refusal.description}`);
}
