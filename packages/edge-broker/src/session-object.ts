// Pulls the Workers types into every program that reaches this file (the test worker too);
// a .d.ts of ambient declarations cannot be imported, so a reference it is.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./cloudflare-workers.d.ts" />
import {
  admitCallTo,
  fromStoredCallQuota,
  fromStoredSelection,
  releaseCallFrom,
  type CallAdmission,
  type CallLimits,
  type PendingRequest,
  type SessionLookup,
  type StoredCallQuota,
  type StoredSelection,
} from '@mcp-gateway/core';
import { DurableObject } from 'cloudflare:workers';
import {
  liveRecord,
  newRecord,
  terminated,
  withBackend,
  type PendingRecord,
  type SessionRecord,
} from './session-record.ts';

/** A failure of `create` in the request that held the lease, as waiters receive it. */
export interface RelayedFailure {
  /** The GatewayError code, when it was one. */
  code?: string;
  message: string;
  /** Whether the message may reach the client. */
  expose: boolean;
}

/**
 * Answer of `claimBackendSession`: the stored id, a lease whose holder must create the backend
 * session and then call `storeBackendSession` or `failBackendSession`, or the failure of the
 * holder this caller waited for.
 */
export type ClaimResult = { id: string } | { lease: string } | { failed: RelayedFailure };

type Wake = { id: string } | { failed: RelayedFailure } | 'retry';

interface Lease {
  token: string;
  /** Real time (Date.now) after which another caller may take the lease over. */
  until: number;
  /** Set when the holder stored its id or failed; the waiters read it. */
  outcome?: Exclude<Wake, 'retry'>;
}

/** How often a waiting caller looks at the lease it waits for. */
const WAIT_POLL_MS = 5;

const RECORD_KEY = 'session';
const PENDING_KEY = 'pending';
const SELECTION_KEY = 'selection';
const QUOTA_KEY = 'quota';
const PINS_REVISION_KEY = 'pins:revision';
const PINS_CHUNKS_KEY = 'pins:chunks';
/** Prefix of a credential's storage key in an owner's object: `credential:<server>`. */
const CREDENTIAL_KEY_PREFIX = 'credential:';
const GRANT_KEY = 'grant';

/** A credential or a grant with its deadline (ms, caller's clock). */
interface ExpiringText {
  expiresAt: number;
  text: string;
}

/** The text if the stored entry is still live at `now`. */
function liveText(stored: ExpiringText | undefined, now: number): string | undefined {
  return stored !== undefined && stored.expiresAt > now ? stored.text : undefined;
}
/**
 * A pin record's JSON is stored in chunks of this many UTF-16 code units (at most 3 bytes each in
 * UTF-8, well under a stored value's 128 KiB), all written in one `put` of at most 128 keys.
 */
const PINS_CHUNK_LENGTH = 40_000;

/**
 * The Durable Object behind the edge SessionStore. An instance named `session:<jti>` (a gateway
 * session's) holds its termination and its backend session per upstream; an instance named
 * `pending:<gateway id>` holds one server-to-client request waiting for the client's answer; one
 * named `selection:<owner>` holds that owner's tool selection; one named `quota:<key>` counts
 * the calls admitted under that quota key (its window and its concurrency leases, one record);
 * one named `pins:<server>` holds a pinned server's pin record (no deadline: pins are durable);
 * one named `cred:<owner>` holds that owner's sealed upstream credentials, one storage key per
 * server; one named `grant:<id>` holds one one-time grant.
 * Every public method is called over RPC from `createDurableSessionStore`.
 *
 * The object is single-threaded, so creating a backend session once is a lease: the first
 * caller is told to create it, later callers wait here until the holder stores its id (they get
 * it), fails (they get the failure) or lets the lease lapse (one of them takes it over). Leases
 * live in memory only: an object is not evicted while callers wait on it, and if it were
 * evicted while a holder creates, the first id stored wins and the holder is handed that one.
 *
 * Deadlines are on the caller's clock; an alarm set the same distance ahead on the object's
 * clock deletes the storage once nothing in it can be live any more.
 */
export class GatewaySessionObject extends DurableObject {
  private readonly leases = new Map<string, Lease>();

  /** Termination and, for `server`, the backend session id held. */
  async lookup(server: string | undefined, now: number): Promise<SessionLookup> {
    const record = await this.record(now);
    if (record === undefined) return { terminated: false };
    const id = server === undefined ? undefined : record.backends[server];
    return id === undefined
      ? { terminated: record.terminated }
      : { terminated: record.terminated, backendSessionId: id };
  }

  /**
   * The backend session for `server`, or a lease to create it. Waits while another caller holds
   * a live lease; gives up with UPSTREAM_TIMEOUT after twice `leaseMs`.
   */
  async claimBackendSession(server: string, now: number, leaseMs: number): Promise<ClaimResult> {
    const deadline = Date.now() + 2 * leaseMs;
    for (;;) {
      const record = await this.record(now);
      const held = record?.terminated === false ? record.backends[server] : undefined;
      if (held !== undefined) return { id: held };
      const lease = this.leases.get(server);
      if (lease === undefined || lease.until <= Date.now()) {
        const token = crypto.randomUUID();
        this.leases.set(server, { token, until: Date.now() + leaseMs });
        return { lease: token };
      }
      if (Date.now() >= deadline) {
        return {
          failed: {
            code: 'UPSTREAM_TIMEOUT',
            message: `gave up after ${2 * leaseMs} ms waiting for another request to create the backend session of ${server}`,
            expose: true,
          },
        };
      }
      const wake = await waitFor(lease, Math.min(lease.until, deadline));
      if (wake !== 'retry') return wake;
    }
  }

  /** Stores the lease holder's backend session and hands the id to its waiters. */
  async storeBackendSession(
    server: string,
    token: string,
    id: string,
    now: number,
    expiresAt: number,
  ): Promise<string> {
    const lease = this.release(server, token);
    const current = (await this.record(now)) ?? newRecord(expiresAt);
    const stored = withBackend(current, server, id, expiresAt);
    if (stored.changed) await this.save(stored.record, now);
    if (lease !== undefined) lease.outcome = { id: stored.id };
    return stored.id;
  }

  /** Ends the lease after `create` failed; its waiters receive the failure. */
  failBackendSession(server: string, token: string, failure: RelayedFailure): void {
    const lease = this.release(server, token);
    if (lease !== undefined) lease.outcome = { failed: failure };
  }

  /** Drops the backend session for `server` if it is still `id`. */
  async dropBackendSession(server: string, id: string, now: number): Promise<void> {
    const record = await this.record(now);
    if (record?.backends[server] !== id) return;
    const { [server]: _dropped, ...rest } = record.backends;
    await this.save({ ...record, backends: rest }, now);
  }

  /** Marks the session terminated until at least `expiresAt`; returns the backend sessions it held. */
  async terminate(now: number, expiresAt: number): Promise<Record<string, string>> {
    const record = await this.record(now);
    await this.save(terminated(record, expiresAt), now);
    return record?.backends ?? {};
  }

  /** The backend sessions held, by server. */
  async backendSessions(now: number): Promise<Record<string, string>> {
    return (await this.record(now))?.backends ?? {};
  }

  /** Keeps a pending server-to-client request (in an object named `pending:<id>`). */
  async putPending(entry: PendingRequest, now: number, expiresAt: number): Promise<void> {
    await this.ctx.storage.put<PendingRecord<PendingRequest>>(PENDING_KEY, { expiresAt, entry });
    await this.cleanUpAt(expiresAt, now);
  }

  /** Takes the pending request: it is deleted whether or not it was still live. */
  async takePending(now: number): Promise<PendingRequest | undefined> {
    const stored = await this.ctx.storage.get<PendingRecord<PendingRequest>>(PENDING_KEY);
    if (stored === undefined) return undefined;
    await this.ctx.storage.delete(PENDING_KEY);
    return stored.expiresAt > now ? stored.entry : undefined;
  }

  /** The tools of the selection (in an object named `selection:<owner>`), if live and valid. */
  async readSelection(now: number): Promise<readonly string[] | undefined> {
    return fromStoredSelection(await this.ctx.storage.get<unknown>(SELECTION_KEY), now);
  }

  /** Replaces the selection; an empty list deletes it. The store checked the bounds. */
  async writeSelection(tools: string[], now: number, expiresAt: number): Promise<void> {
    if (tools.length === 0) {
      await this.ctx.storage.delete(SELECTION_KEY);
      return;
    }
    await this.ctx.storage.put<StoredSelection>(SELECTION_KEY, { expiresAt, tools });
    await this.cleanUpAt(expiresAt, now);
  }

  /**
   * Admits one call under the limits (in an object named `quota:<key>`) by the rule of
   * `admitCallTo`: read, decide and write happen in this single-threaded object with no other
   * call in between. The store checked the bounds.
   */
  async admitCall(limits: CallLimits, lease: string, now: number): Promise<CallAdmission> {
    const stored = fromStoredCallQuota(await this.ctx.storage.get<unknown>(QUOTA_KEY), now);
    const { admission, next } = admitCallTo(stored, limits, lease, now);
    if (next !== undefined) {
      await this.ctx.storage.put<StoredCallQuota>(QUOTA_KEY, next);
      await this.cleanUpAt(next.expiresAt, now);
    }
    return admission;
  }

  /** Frees the lease's slot; an unknown lease changes nothing. */
  async releaseCall(lease: string, now: number): Promise<void> {
    const stored = fromStoredCallQuota(await this.ctx.storage.get<unknown>(QUOTA_KEY), now);
    if (stored === undefined) return;
    const next = releaseCallFrom(stored, lease, now);
    if (next === undefined) await this.ctx.storage.delete(QUOTA_KEY);
    else await this.ctx.storage.put<StoredCallQuota>(QUOTA_KEY, next);
  }

  /** The pin record's JSON text (in an object named `pins:<server>`); undefined when none was written. */
  async readPins(): Promise<string | undefined> {
    const count = await this.ctx.storage.get<number>(PINS_CHUNKS_KEY);
    if (count === undefined) return undefined;
    const keys = Array.from({ length: count }, (_, index) => `pins:${index}`);
    const chunks = await this.ctx.storage.get<string>(keys);
    return keys.map((key) => chunks.get(key) ?? '').join('');
  }

  /**
   * Writes the record's JSON text if the stored revision is `revision - 1` (none counts as 0):
   * true when written. Read, compare and write happen in this single-threaded object with no
   * other call in between. The store checked the bounds.
   */
  async writePins(revision: number, text: string): Promise<boolean> {
    const stored = (await this.ctx.storage.get<number>(PINS_REVISION_KEY)) ?? 0;
    if (stored !== revision - 1) return false;
    const entries: Record<string, unknown> = { [PINS_REVISION_KEY]: revision };
    let count = 0;
    for (let at = 0; at < text.length; at += PINS_CHUNK_LENGTH) {
      entries[`pins:${count++}`] = text.slice(at, at + PINS_CHUNK_LENGTH);
    }
    entries[PINS_CHUNKS_KEY] = count;
    await this.ctx.storage.put(entries);
    return true;
  }

  /** The owner's sealed credential for `server` (in an object named `cred:<owner>`), if live. */
  async readCredential(server: string, now: number): Promise<string | undefined> {
    return liveText(await this.ctx.storage.get<ExpiringText>(CREDENTIAL_KEY_PREFIX + server), now);
  }

  /** Stores the credential for `server` until `expiresAt`, replacing any earlier one. The store checked the bounds. */
  async writeCredential(server: string, sealed: string, now: number, expiresAt: number): Promise<void> {
    await this.ctx.storage.put<ExpiringText>(CREDENTIAL_KEY_PREFIX + server, { expiresAt, text: sealed });
    await this.cleanUpAt(expiresAt, now);
  }

  /** Deletes the credential for `server`: true when it was live. */
  async deleteCredential(server: string, now: number): Promise<boolean> {
    const key = CREDENTIAL_KEY_PREFIX + server;
    const stored = await this.ctx.storage.get<ExpiringText>(key);
    if (stored === undefined) return false;
    await this.ctx.storage.delete(key);
    return liveText(stored, now) !== undefined;
  }

  /** The owner's live credentials, by server. */
  async listCredentials(now: number): Promise<Record<string, string>> {
    const stored = await this.ctx.storage.list<ExpiringText>({ prefix: CREDENTIAL_KEY_PREFIX });
    const live: Record<string, string> = {};
    for (const [key, entry] of stored) {
      const sealed = liveText(entry, now);
      if (sealed !== undefined) live[key.slice(CREDENTIAL_KEY_PREFIX.length)] = sealed;
    }
    return live;
  }

  /** Keeps a one-time grant (in an object named `grant:<id>`) until `expiresAt`. The store checked the bounds. */
  async putGrant(value: string, now: number, expiresAt: number): Promise<void> {
    await this.ctx.storage.put<ExpiringText>(GRANT_KEY, { expiresAt, text: value });
    await this.cleanUpAt(expiresAt, now);
  }

  /**
   * Takes the grant: deleted whether or not it was still live. Read and delete happen in this
   * single-threaded object with no other call in between, so of concurrent takers one gets it.
   */
  async takeGrant(now: number): Promise<string | undefined> {
    const stored = await this.ctx.storage.get<ExpiringText>(GRANT_KEY);
    if (stored === undefined) return undefined;
    await this.ctx.storage.delete(GRANT_KEY);
    return liveText(stored, now);
  }

  /** Deletes everything once the last deadline has passed (set by `cleanUpAt`). */
  async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }

  private async record(now: number): Promise<SessionRecord | undefined> {
    return liveRecord(await this.ctx.storage.get<SessionRecord>(RECORD_KEY), now);
  }

  private async save(record: SessionRecord, now: number): Promise<void> {
    await this.ctx.storage.put(RECORD_KEY, record);
    await this.cleanUpAt(record.expiresAt, now);
  }

  /** Moves the clean-up alarm to `expiresAt` (translated to this object's clock) if that is later. */
  private async cleanUpAt(expiresAt: number, now: number): Promise<void> {
    const at = Date.now() + Math.max(0, expiresAt - now);
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current < at) await this.ctx.storage.setAlarm(at);
  }

  /** Ends the lease if `token` still holds it, and returns it for its outcome. */
  private release(server: string, token: string): Lease | undefined {
    const lease = this.leases.get(server);
    if (lease?.token !== token) return undefined;
    this.leases.delete(server);
    return lease;
  }
}

/**
 * The lease's outcome once its holder stored or failed, or 'retry' at `until` (real time).
 * Polls a timer of the waiting call's own rather than awaiting a promise the holder's call
 * resolves: workerd runs a continuation in the request context it belongs to, and a promise
 * settled from another request's context only wakes its awaiter at that context's next event.
 */
async function waitFor(lease: Lease, until: number): Promise<Wake> {
  while (lease.outcome === undefined && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
  }
  return lease.outcome ?? 'retry';
}
