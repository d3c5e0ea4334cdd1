import { GatewayError } from '../errors.ts';

/** Highest `limit` of either check. */
export const MAX_CALL_LIMIT = 1_000_000;
/** Longest window or lease, in seconds: a day. */
export const MAX_CALL_LIMIT_SECONDS = 86_400;
/** Longest quota key, in UTF-16 code units. */
export const MAX_QUOTA_KEY_LENGTH = 512;
/** Longest lease id, in UTF-16 code units. */
export const MAX_CALL_LEASE_LENGTH = 128;

/** The limits one call is admitted under; an absent check is skipped. */
export interface CallLimits {
  /** At most `limit` calls per fixed window of `windowSeconds` (the window starts with its first call). */
  readonly requests?: { readonly limit: number; readonly windowSeconds: number };
  /** At most `limit` calls at once; a slot not released within `leaseSeconds` is freed anyway. */
  readonly concurrent?: { readonly limit: number; readonly leaseSeconds: number };
}

/** Answer of `SessionStore.admitCall`: admitted, or which check refused and when to retry (ms, at least 1). */
export type CallAdmission =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly reason: 'requests' | 'concurrent'; readonly retryAfterMs: number };

/**
 * What the memory store and the Durable Object keep per quota key. Deadlines are ms on the
 * caller's clock, so every decision is taken against the `now` a call brings, as for sessions.
 */
export interface StoredCallQuota {
  /** The current window: calls counted in it and when it ends; absent before the first counted call. */
  readonly window?: { readonly count: number; readonly endsAt: number };
  /** The concurrency slots held: [lease, when it frees itself]. */
  readonly leases: readonly (readonly [string, number])[];
  /** When nothing in the record is live any more (the latest of the deadlines above). */
  readonly expiresAt: number;
}

/** The step `admitCallTo` takes: the answer, and the record to store when the call changed it. */
export interface CallQuotaStep {
  readonly admission: CallAdmission;
  readonly next?: StoredCallQuota;
}

const ADMITTED: CallAdmission = Object.freeze({ admitted: true });

/** Why `value` may not be `name` (a whole number from 1 to `max`), or undefined when it may. */
function boundProblem(name: string, value: unknown, max: number): string | undefined {
  if (Number.isInteger(value) && (value as number) >= 1 && (value as number) <= max) return undefined;
  return `${name} must be a whole number from 1 to ${max}, not ${String(value)}`;
}

/** Why `text` may not be a quota key or lease id, or undefined when it may. */
function textProblem(name: string, text: unknown, max: number): string | undefined {
  if (typeof text !== 'string' || text.length === 0) return `the ${name} must be a non-empty string`;
  return text.length > max ? `the ${name} is ${text.length} characters long; at most ${max} are allowed` : undefined;
}

/** Why `limits` may not be admitted under, or undefined when they may. */
function limitsProblem(limits: CallLimits): string | undefined {
  if (typeof limits !== 'object' || limits === null) return 'call limits must be an object';
  const { requests, concurrent } = limits;
  if (requests !== undefined) {
    if (typeof requests !== 'object' || requests === null) return 'requests must be an object';
    const problem =
      boundProblem('requests.limit', requests.limit, MAX_CALL_LIMIT) ??
      boundProblem('requests.windowSeconds', requests.windowSeconds, MAX_CALL_LIMIT_SECONDS);
    if (problem !== undefined) return problem;
  }
  if (concurrent !== undefined) {
    if (typeof concurrent !== 'object' || concurrent === null) return 'concurrent must be an object';
    return (
      boundProblem('concurrent.limit', concurrent.limit, MAX_CALL_LIMIT) ??
      boundProblem('concurrent.leaseSeconds', concurrent.leaseSeconds, MAX_CALL_LIMIT_SECONDS)
    );
  }
  return undefined;
}

function refuse(problem: string | undefined): void {
  if (problem !== undefined) throw new GatewayError('INVALID_PARAMS', problem);
}

/**
 * Refuses an `admitCall` no store may take: a limit or a number of seconds that is not a whole
 * number from 1 to MAX_CALL_LIMIT / MAX_CALL_LIMIT_SECONDS, an empty key or lease, or one longer
 * than MAX_QUOTA_KEY_LENGTH / MAX_CALL_LEASE_LENGTH. Every SessionStore calls it first, before
 * it reaches its backing store.
 * @throws GatewayError INVALID_PARAMS naming what is wrong.
 */
export function assertCallAdmission(key: string, limits: CallLimits, lease: string): void {
  refuse(
    textProblem('quota key', key, MAX_QUOTA_KEY_LENGTH) ??
      textProblem('lease', lease, MAX_CALL_LEASE_LENGTH) ??
      limitsProblem(limits),
  );
}

/**
 * Refuses a `releaseCall` whose key or lease no `admitCall` could have taken (see
 * assertCallAdmission).
 * @throws GatewayError INVALID_PARAMS naming what is wrong.
 */
export function assertCallRelease(key: string, lease: string): void {
  refuse(textProblem('quota key', key, MAX_QUOTA_KEY_LENGTH) ?? textProblem('lease', lease, MAX_CALL_LEASE_LENGTH));
}

/**
 * The rule of `SessionStore.admitCall` over a stored record (undefined: nothing stored), which
 * the Redis script follows too. Concurrency first: with as many live leases as its limit, the
 * call is refused until the earliest expires. Then requests: with the window's count at its
 * limit, refused until the window ends. Otherwise the call is counted (starting a window if none
 * is live) and `lease` is added (replacing its earlier expiry, if it held one). A refused call,
 * or one under no limits, changes nothing (`next` is absent).
 */
export function admitCallTo(
  stored: StoredCallQuota | undefined,
  limits: CallLimits,
  lease: string,
  now: number,
): CallQuotaStep {
  const { requests, concurrent } = limits;
  const leases = (stored?.leases ?? []).filter(([, expiresAt]) => expiresAt > now);
  const window = stored?.window !== undefined && stored.window.endsAt > now ? stored.window : undefined;
  if (concurrent !== undefined && leases.length >= concurrent.limit) {
    const earliest = leases.reduce((soonest, [, expiresAt]) => Math.min(soonest, expiresAt), Infinity);
    return { admission: refusal('concurrent', earliest - now) };
  }
  if (requests !== undefined && window !== undefined && window.count >= requests.limit) {
    return { admission: refusal('requests', window.endsAt - now) };
  }
  if (requests === undefined && concurrent === undefined) return { admission: ADMITTED };
  const nextWindow =
    requests === undefined
      ? window
      : { count: (window?.count ?? 0) + 1, endsAt: window?.endsAt ?? now + requests.windowSeconds * 1000 };
  const nextLeases =
    concurrent === undefined
      ? leases
      : [...leases.filter(([held]) => held !== lease), [lease, now + concurrent.leaseSeconds * 1000] as const];
  return { admission: ADMITTED, next: toRecord(nextWindow, nextLeases) };
}

/**
 * The record after `releaseCall(lease)`: without that lease and without what expired by `now`;
 * undefined when nothing live is left (the record can go).
 */
export function releaseCallFrom(
  stored: StoredCallQuota | undefined,
  lease: string,
  now: number,
): StoredCallQuota | undefined {
  if (stored === undefined) return undefined;
  const leases = stored.leases.filter(([held, expiresAt]) => held !== lease && expiresAt > now);
  const window = stored.window !== undefined && stored.window.endsAt > now ? stored.window : undefined;
  return window === undefined && leases.length === 0 ? undefined : toRecord(window, leases);
}

/**
 * A stored record that is still live at `now`; undefined when it expired or is not a
 * StoredCallQuota (a corrupted or foreign value, taken as no calls made).
 */
export function fromStoredCallQuota(value: unknown, now: number): StoredCallQuota | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { window, leases, expiresAt } = value as Partial<Record<keyof StoredCallQuota, unknown>>;
  if (typeof expiresAt !== 'number' || !(expiresAt > now) || !Array.isArray(leases)) return undefined;
  if (!leases.every((entry) => isLeaseEntry(entry))) return undefined;
  if (window !== undefined && !isWindow(window)) return undefined;
  return value as StoredCallQuota;
}

function isLeaseEntry(entry: unknown): boolean {
  return Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'string' && Number.isFinite(entry[1]);
}

function isWindow(window: unknown): boolean {
  if (typeof window !== 'object' || window === null) return false;
  const { count, endsAt } = window as Record<string, unknown>;
  return Number.isInteger(count) && (count as number) >= 1 && Number.isFinite(endsAt);
}

function toRecord(window: StoredCallQuota['window'], leases: readonly (readonly [string, number])[]): StoredCallQuota {
  const expiresAt = leases.reduce((latest, [, leaseEnds]) => Math.max(latest, leaseEnds), window?.endsAt ?? 0);
  return window === undefined ? { leases, expiresAt } : { window, leases, expiresAt };
}

function refusal(reason: 'requests' | 'concurrent', retryAfterMs: number): CallAdmission {
  return { admitted: false, reason, retryAfterMs: Math.max(1, Math.ceil(retryAfterMs)) };
}
