// The shape of the access table (access.case.ts): groups of cases sharing one config, each case a
// caller, the headers it sends, and what it must see and may call.
import type { AllowedCapabilities } from '../harness/identity.ts';
import type { AccessSections } from './access-hosts.ts';
import type { AccessServer } from './access-upstreams.ts';

export type Era = 'legacy' | 'modern';
export const ERAS: readonly Era[] = ['legacy', 'modern'];

/** Who calls: a user of the test provider with a real token, or nobody (no Authorization at all). */
export type Caller = 'alice' | 'bob' | 'anonymous';

/** What the file's hosts need to build configs and requests. */
export interface TableContext {
  /** The provider's issuer URL. */
  readonly issuer: string;
  /** The audience (RFC 8707 resource) every host accepts, and tokens are issued for. */
  readonly audience: string;
  /** The P-256 public key `x-mcp-authorized` values are signed with. */
  readonly publicKeyPem: string;
}

/** One `x-mcp-authorized` value: signed as the policy layer does, or one of the values a gateway must not trust. */
export interface TrustedValue {
  readonly kind: 'signed' | 'expired' | 'foreignKey' | 'wrongCurve' | 'unsigned' | 'claimNotAString';
  readonly capabilities: AllowedCapabilities;
}

/** The headers a case sends besides Authorization. */
export interface CaseHeaders {
  /** `x-team`, read by a policy rule. */
  readonly team?: string;
  /** `x-mcp-virtualserver`. */
  readonly virtualServer?: string;
  /** `x-mcp-authorized`: one value, or several header lines. */
  readonly trusted?: TrustedValue | readonly TrustedValue[];
}

/** How a call must be decided: the audit record's `decidedBy`, with the rule after a colon (`rule:no-delete`). */
export type DecidedBy =
  'open' | 'default' | 'capabilities' | 'virtual-server' | `rule:${string}` | `error:${string}` | `default:${string}`;

/** One call of a case. */
export interface CallCase {
  /** resources/subscribe only in legacy-only cases (2026-07-28 has no such method). */
  readonly method: 'tools/call' | 'prompts/get' | 'resources/read' | 'resources/subscribe' | 'completion/complete';
  readonly server: AccessServer;
  /** The upstream's own name (a tool or prompt, or for completion the prompt it refers to), or a resource URI. */
  readonly name: string;
  /** Tool or prompt arguments; for completion/complete, the argument being completed. */
  readonly args?: Readonly<Record<string, string>>;
  /** `allowed`: the upstream got it, prefix removed; `refused`: -32003 and the upstream got nothing; else the JSON-RPC error expected. */
  readonly expect: 'allowed' | 'refused' | { readonly error: string };
  /** What the audit record says decided; default the group's. */
  readonly by?: DecidedBy;
}

/** What a list shows: the served names, or the JSON-RPC error (`error <code> <message>`). */
export type ListExpectation = readonly string[] | string;

/** One row of the table. */
export interface AccessCase {
  /** A plain present-tense sentence. */
  readonly name: string;
  readonly caller: Caller;
  /** The eras it runs in. Default both. */
  readonly eras?: readonly Era[];
  readonly headers?: CaseHeaders;
  /** Legacy only: the headers of the requests after initialize (the session's virtual server stays the one chosen there). */
  readonly laterHeaders?: CaseHeaders;
  readonly expect: {
    /** Legacy only: the initialize error, when the session is refused. */
    readonly initialize?: string;
    readonly tools?: ListExpectation;
    readonly prompts?: ListExpectation;
    readonly resources?: ListExpectation;
  };
  readonly calls: readonly CallCase[];
}

/** Cases sharing one config. */
export interface AccessGroup {
  readonly name: string;
  /** The access sections (auth, policy, virtualServers, audit). */
  config(ctx: TableContext): AccessSections;
  /** What decides an allowed call unless a call says otherwise. */
  readonly allowedBy: DecidedBy;
  /** What decides a refused call unless a call says otherwise. */
  readonly refusedBy?: DecidedBy;
  readonly cases: readonly AccessCase[];
}
