import type { AuditConfig } from '../config/access-schema.ts';
import type { AccessVerdict } from '../decision/access-control.ts';
import type { ConfirmationOutcome } from '../decision/call-confirmation.ts';
import type { AccessSubject } from '../decision/access-rules.ts';
import type { Authentication } from '../identity/authentication.ts';
import type { Logger } from '../logger.ts';

/**
 * One audit record: a decision on a call, a get or a read, allowed or refused. Written as one
 * JSON line; never holds a token, a credential or (unless configured) an argument value.
 * @see docs/authorization.md#audit-trail
 */
export interface AuditRecord {
  /** Always `audit`: tells audit lines from log lines on a shared stream. */
  readonly event: 'audit';
  /** ISO 8601 time of the decision. */
  readonly time: string;
  /** Which host decided: `broker`, `router` or `worker`. */
  readonly host: string;
  /**
   * `limited`: allowed by the access rules, refused by a quota (`decidedBy` names which limit);
   * `unconfirmed`: allowed, but not forwarded for want of the user's confirmation (`confirmation` says why);
   * `no_credential`: allowed, but not forwarded for want of the user's own credential for the
   * upstream (`credential` says why: a URL elicitation asked for it, the exchange failed, …).
   */
  readonly outcome: 'allowed' | 'denied' | 'limited' | 'unconfirmed' | 'no_credential';
  /** The JSON-RPC method (tools/call, prompts/get, resources/read, …). */
  readonly method: string;
  readonly server: string;
  readonly kind: AccessSubject['kind'];
  /** The upstream's own name (for a resource, its URI). */
  readonly name: string;
  /** The name the client used. */
  readonly servedName: string;
  /** The verified caller; null when the gateway verified nobody. */
  readonly caller: { readonly issuer: string; readonly subject: string; readonly clientId: string } | null;
  /** The legacy session's jti; null for 2026-07-28 calls. */
  readonly session: string | null;
  /** What decided: `open` (nothing restricts), `rule`, `default`, `error` (a rule failed: fail closed), `virtual-server`, `capabilities`. */
  readonly decidedBy: string;
  /** The deciding policy rule, when a rule decided. */
  readonly rule: string | null;
  /** Milliseconds from the decision to the end of the upstream's answer (0 when refused). */
  readonly latencyMs: number;
  /** The upstream's HTTP status; null when refused or no answer came. */
  readonly upstreamStatus: number | null;
  /**
   * For a call that needed the user's confirmation: how it went (`accepted`, `declined`,
   * `cancelled`, `timeout`, `unavailable`: the client cannot elicit, `invalid`: a forged or
   * mismatched confirmation, `requested`: a 2026-07-28 client was asked and retries).
   */
  readonly confirmation?: AuditedConfirmation;
  /** Why a call went unforwarded for want of the user's own credential (outcome `no_credential`): the error code that answered it. */
  readonly credential?: string;
  /** SHA-256 (hex) of the arguments' canonical JSON, when values are not recorded. */
  readonly argumentsSha256?: string;
  /** The arguments as sent, when `audit.arguments: values`. */
  readonly arguments?: unknown;
}

/** How a confirmation went, as the record says it. */
export type AuditedConfirmation = ConfirmationOutcome | 'requested';

/** Where audit records go (a host's JSON-lines writer). */
export interface AuditSink {
  write(record: AuditRecord): void;
}

/** One decision to record, as the deciding code knows it. */
export interface AuditedDecision {
  readonly method: string;
  readonly subject: AccessSubject;
  readonly verdict: AccessVerdict;
  readonly auth: Authentication;
  readonly jti?: string | undefined;
  readonly args: Readonly<Record<string, unknown>>;
}

/** Records decisions of one config; `finish` is called once the upstream's answer ended (or at once when refused). */
export interface Auditor {
  begin(decision: AuditedDecision): AuditTrail;
}

/** One recorded decision under way. */
export interface AuditTrail {
  /** The upstream's status, once its answer's headers arrive. */
  upstreamStatus(status: number): void;
  /** The call was refused by its quota (`requests` or `concurrent`). */
  limited(reason: string): void;
  /** How the user's confirmation of the call went; anything but `accepted` means it was not forwarded. */
  confirmation(outcome: AuditedConfirmation): void;
  /** The call was not forwarded for want of the user's own credential (`reason`: the error code that answered it). */
  noCredential(reason: string): void;
  /** Writes the record (once). */
  finish(): void;
}

/** A trail that records nothing. */
export const NO_TRAIL: AuditTrail = Object.freeze({
  upstreamStatus() {},
  limited() {},
  confirmation() {},
  noCredential() {},
  finish() {},
});
/** The auditor of a config without `audit`: records nothing. */
export const NO_AUDIT: Auditor = Object.freeze({ begin: () => NO_TRAIL });

/** Creates the auditor of a config's `audit` section writing to `sink`; NO_AUDIT when either is missing. */
export function createAuditor(
  config: AuditConfig | undefined,
  sink: AuditSink | undefined,
  host: string,
  logger: Logger,
): Auditor {
  if (config === undefined || sink === undefined) return NO_AUDIT;
  const values = config.arguments === 'values';
  return {
    begin(decision) {
      const started = performance.now();
      let status: number | null = null;
      let limitedBy: string | undefined;
      let confirmed: AuditedConfirmation | undefined;
      let credential: string | undefined;
      let done = false;
      const hashing = values ? undefined : sha256Hex(canonicalJson(decision.args));
      return {
        upstreamStatus(value) {
          status = value;
        },
        limited(reason) {
          limitedBy = reason;
        },
        confirmation(outcome) {
          confirmed = outcome;
        },
        noCredential(reason) {
          credential = reason;
        },
        finish() {
          if (done) return;
          done = true;
          const unconfirmed = confirmed !== undefined && confirmed !== 'accepted';
          const latencyMs =
            decision.verdict.allowed && limitedBy === undefined && !unconfirmed && credential === undefined
              ? Math.round((performance.now() - started) * 1000) / 1000
              : 0;
          const decided = recordOf(decision, host, latencyMs, status);
          let base: AuditRecord =
            limitedBy === undefined ? decided : { ...decided, outcome: 'limited', decidedBy: `quota:${limitedBy}` };
          if (confirmed !== undefined)
            base = { ...base, ...(unconfirmed && { outcome: 'unconfirmed' }), confirmation: confirmed };
          if (credential !== undefined) base = { ...base, outcome: 'no_credential', credential };
          if (values) {
            write({ ...base, arguments: decision.args });
            return;
          }
          (hashing as Promise<string>).then(
            (argumentsSha256) => write({ ...base, argumentsSha256 }),
            () => write(base),
          );
        },
      };
    },
  };

  function write(record: AuditRecord): void {
    try {
      sink?.write(record);
    } catch (error) {
      logger.error('could not write an audit record', { error: String(error) });
    }
  }
}

function recordOf(decision: AuditedDecision, host: string, latencyMs: number, status: number | null): AuditRecord {
  const { subject, verdict, auth } = decision;
  return {
    event: 'audit',
    time: new Date().toISOString(),
    host,
    outcome: verdict.allowed ? 'allowed' : 'denied',
    method: decision.method,
    server: subject.server,
    kind: subject.kind,
    name: subject.name,
    servedName: subject.servedName,
    caller:
      auth.kind === 'verified'
        ? { issuer: auth.identity.issuer, subject: auth.identity.subject, clientId: auth.identity.clientId }
        : null,
    session: decision.jti ?? null,
    decidedBy: verdict.allowed ? verdict.by : (verdict.by ?? verdict.because),
    rule: verdict.rule ?? null,
    latencyMs,
    upstreamStatus: verdict.allowed ? status : null,
  };
}

/** JSON with object keys sorted at every level, so equal arguments hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) return inner;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(inner).sort()) sorted[key] = (inner as Record<string, unknown>)[key];
    return sorted;
  });
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  let out = '';
  for (const byte of digest) out += byte.toString(16).padStart(2, '0');
  return out;
}
