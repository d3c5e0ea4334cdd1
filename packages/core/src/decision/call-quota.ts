import type { QuotaConfig, ServerConfig } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { ForwardPlan } from './route.ts';
import type { CallAdmission, CallLimits } from '../store/call-quota.ts';
import type { SessionStore } from '../store/session-store.ts';

/** How long a concurrency slot is held at most beyond the call's own timeout (a stream's answer may trail). */
const LEASE_SLACK_SECONDS = 30;

/** The quota one call counts against: its bucket's key in the store and its limits. */
export interface QuotaCheck {
  readonly key: string;
  readonly limits: CallLimits;
  readonly quota: QuotaConfig;
  /** The server's name and what the bucket covers, for the refusal's message. */
  readonly server: string;
  readonly bucket: string;
}

/**
 * Whom a quota counts: the caller's verified identity (every session and replica of it alike, a
 * re-initialize included), else one bucket for all anonymous callers.
 */
export function quotaOwner(caller: string | undefined): string {
  return caller === undefined ? 'anonymous' : `caller:${caller}`;
}

/**
 * The quota a tools/call of the upstream's `tool` on `server` counts against, for `owner`: the
 * quota naming the tool (a bucket per tool), else the server's quota without `tools` (one
 * bucket for the rest); undefined when neither exists.
 */
export function quotaCheckFor(
  server: ServerConfig,
  tool: string,
  owner: string,
  callTimeoutMs: number,
): QuotaCheck | undefined {
  const quotas = server.quotas;
  if (quotas === undefined) return undefined;
  let quota = quotas.find((entry) => entry.tools?.includes(tool));
  const bucket = quota === undefined ? '*' : tool;
  quota ??= quotas.find((entry) => entry.tools === undefined);
  if (quota === undefined) return undefined;
  const limits: CallLimits = {
    ...(quota.requests !== undefined && { requests: { limit: quota.requests, windowSeconds: quota.windowSeconds } }),
    ...(quota.concurrentCalls !== undefined && {
      concurrent: {
        limit: quota.concurrentCalls,
        leaseSeconds: Math.min(86_400, Math.ceil(callTimeoutMs / 1000) + LEASE_SLACK_SECONDS),
      },
    }),
  };
  return { key: `${server.name}|${bucket}|${owner}`, limits, quota, server: server.name, bucket };
}

/**
 * The refusal of a call over its quota: a JSON-RPC error (-32029) saying which limit and when to
 * retry, with the same in `data` (`retryAfterMs`, `reason`, `limit`, `windowSeconds`).
 */
export function quotaRefusal(check: QuotaCheck, admission: Extract<CallAdmission, { admitted: false }>): GatewayError {
  const what = check.bucket === '*' ? `the tools of ${check.server}` : `${check.bucket} on ${check.server}`;
  const retry = Math.max(1, Math.ceil(admission.retryAfterMs / 1000));
  const limit =
    admission.reason === 'requests'
      ? `at most ${check.quota.requests} calls per ${check.quota.windowSeconds} s`
      : `at most ${check.quota.concurrentCalls} calls at once`;
  return new GatewayError('RATE_LIMITED', `quota exceeded for ${what}: ${limit}; retry in ${retry} s`, {
    data: {
      reason: admission.reason,
      retryAfterMs: admission.retryAfterMs,
      limit: admission.reason === 'requests' ? check.quota.requests : check.quota.concurrentCalls,
      ...(admission.reason === 'requests' && { windowSeconds: check.quota.windowSeconds }),
    },
  });
}

/** A call counted against its quota: the slot to give back when it is over. */
export interface AdmittedCall {
  /** Gives back the concurrency slot (once, in the background); a no-op without one. */
  release(): void;
}

const NOTHING_HELD: AdmittedCall = Object.freeze({ release() {} });

/**
 * The quota a forwarded call counts against, for `caller` (see quotaCheckFor): only a
 * tools/call, on a server with quotas; undefined otherwise.
 */
export function quotaCheckOf(
  plan: ForwardPlan,
  caller: string | undefined,
  callTimeoutMs: number,
): QuotaCheck | undefined {
  if (plan.server.quotas === undefined || plan.method !== 'tools/call' || plan.target === undefined) return undefined;
  return quotaCheckFor(plan.server, plan.target.name, quotaOwner(caller), callTimeoutMs);
}

/**
 * What the store's answer to a call's admission under `check` (taken with `lease`) means: the
 * refusal when over the quota, else the slot to give back when the call is over (a no-op without
 * a concurrency limit).
 */
export function toAdmittedCall(
  store: Pick<SessionStore, 'releaseCall'>,
  check: QuotaCheck,
  lease: string,
  admission: CallAdmission,
  logger: Logger,
): AdmittedCall | GatewayError {
  if (!admission.admitted) return quotaRefusal(check, admission);
  if (check.limits.concurrent === undefined) return NOTHING_HELD;
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      store.releaseCall(check.key, lease).catch((error: unknown) => {
        logger.warn('could not free a quota slot; it frees itself when its lease ends', {
          server: check.server,
          error: String(error),
        });
      });
    },
  };
}

/**
 * Counts a tools/call of the upstream's `tool` on `server` against the caller's quota, if it has
 * one, in one store round trip: undefined without a quota, the refusal when over it, else the
 * slot to give back when the call is over. A store that cannot count refuses the call
 * (STORE_UNAVAILABLE): a quota that cannot be kept is not skipped. The broker, the worker and
 * the Envoy router all decide through here, or through SessionGate.admitCall for a legacy call
 * whose session is read with its admission.
 */
export async function admitCallQuota(
  store: Pick<SessionStore, 'admitCall' | 'releaseCall'>,
  server: ServerConfig,
  tool: string,
  caller: string | undefined,
  callTimeoutMs: number,
  logger: Logger,
): Promise<AdmittedCall | GatewayError | undefined> {
  const check = quotaCheckFor(server, tool, quotaOwner(caller), callTimeoutMs);
  if (check === undefined) return undefined;
  const lease = crypto.randomUUID();
  let admission: CallAdmission;
  try {
    admission = await store.admitCall(check.key, check.limits, lease);
  } catch (error) {
    return error instanceof GatewayError
      ? error
      : new GatewayError('STORE_UNAVAILABLE', `the quota of ${server.name} could not be counted`, { cause: error });
  }
  return toAdmittedCall(store, check, lease, admission, logger);
}
