import type { CallAdmission, CallLimits } from './call-quota.ts';
import type { PinRecord } from './pin-record.ts';

/**
 * What the gateway keeps per gateway session beyond the signed token, each owner's tool
 * selection (`select_tools`), the calls counted against each quota key, and the pinned tool
 * definitions of each pinned server. Keys are the
 * session's `jti`, never the token itself. Implementations: in memory (standalone), Redis (replicas),
 * Durable Object (edge). One shared suite (`session-store.case.ts`) runs against each.
 *
 * Every method may reject with a GatewayError `STORE_UNAVAILABLE` when the backing store is
 * unreachable; callers map it to a 503 / JSON-RPC error naming the store.
 */
export interface SessionStore {
  /**
   * One read for the warm path: whether the session was terminated, and the backend session
   * id held for `server` (if `server` is given and one exists).
   */
  lookup(jti: string, server?: string): Promise<SessionLookup>;
  /**
   * Returns the backend session for (jti, server), creating it with `create` when absent.
   * Concurrent callers for the same pair (in this process or, for shared stores, anywhere)
   * run `create` exactly once; the others wait for and receive the winner's id.
   * `ttlSeconds` bounds how long the entry lives (the gateway session's remaining lifetime).
   */
  ensureBackendSession(jti: string, server: string, ttlSeconds: number, create: () => Promise<string>): Promise<string>;
  /** Drops the backend session for (jti, server) if it is still `backendSessionId`. */
  dropBackendSession(jti: string, server: string, backendSessionId: string): Promise<void>;
  /**
   * Marks the session terminated (DELETE) until `ttlSeconds` pass and returns the backend
   * sessions it held, so the caller can close them upstream.
   */
  terminate(jti: string, ttlSeconds: number): Promise<Record<string, string>>;
  /** Stores a pending server-to-client request (elicitation, sampling, roots) under the gateway's id. */
  putPending(id: string, entry: PendingRequest, ttlSeconds: number): Promise<void>;
  /** Takes (reads and deletes) a pending request; undefined when unknown or already answered. */
  takePending(id: string): Promise<PendingRequest | undefined>;
  /** The backend sessions a gateway session holds, by server (for cancellations and broadcasts). */
  backendSessions(jti: string): Promise<Record<string, string>>;
  /**
   * The tools an owner selected (`select_tools`), in the order written; undefined when none is
   * set or it expired. `owner` is a key the caller builds (an identity hash, or `jti:<jti>` for
   * an anonymous session), kept apart from session jtis. A stored value that is not a valid
   * selection reads as undefined.
   */
  readSelection(owner: string): Promise<readonly string[] | undefined>;
  /**
   * Sets the owner's selection for `ttlSeconds`, replacing any earlier one; an empty list clears
   * it. One round trip to the backing store.
   * @throws GatewayError INVALID_PARAMS for more than MAX_SELECTED_TOOLS names or a name longer
   * than MAX_SELECTED_TOOL_NAME_LENGTH (`assertToolSelection`), before the store is reached.
   */
  writeSelection(owner: string, tools: readonly string[], ttlSeconds: number): Promise<void>;
  /**
   * Admits one call under `key`'s limits or says when to retry, in one round trip; an admitted
   * call holds the concurrency slot `lease` (an id the caller makes) until releaseCall. Atomic,
   * both checks before any change: concurrency first (live leases at the limit: refused until
   * the earliest expires), then requests (the window's count at the limit: refused until it
   * ends); otherwise the call is counted and the lease taken (`admitCallTo`). A refused call
   * changes nothing. `key` is the caller's (e.g. an identity and a server), kept apart from
   * session jtis and selection owners.
   * @throws GatewayError INVALID_PARAMS for limits, a key or a lease out of bounds
   * (`assertCallAdmission`), before the store is reached.
   */
  admitCall(key: string, limits: CallLimits, lease: string): Promise<CallAdmission>;
  /**
   * `lookup(jti, server)` and `admitCall(key, limits, lease)` in one round trip to the backing
   * store, for the warm path of a call under a quota: both answers, each as its own operation
   * gives it. The two are independent: the call is admitted (counted, its slot taken) whatever
   * the session's state, so a caller that finds the session ended gives the slot back with
   * releaseCall; the window's count of that call stays used.
   * @throws GatewayError INVALID_PARAMS as admitCall does, before the store is reached.
   */
  admitSessionCall(
    jti: string,
    server: string,
    key: string,
    limits: CallLimits,
    lease: string,
  ): Promise<SessionCallAdmission>;
  /**
   * Frees the slot `lease` took (idempotent; unknown leases are ignored). One round trip.
   * @throws GatewayError INVALID_PARAMS for a key or lease out of bounds (`assertCallRelease`).
   */
  releaseCall(key: string, lease: string): Promise<void>;
  /**
   * The pin record of a server whose tool definitions are pinned; undefined when none was
   * written yet. A stored value that is not a valid record reads as undefined. Pins never expire.
   */
  readPins(server: string): Promise<PinRecord | undefined>;
  /**
   * Writes `record` if the stored one is at `record.revision - 1` (no record counts as 0), in one
   * round trip: true when written, false when another writer got there first (read it again).
   * @throws GatewayError INVALID_PARAMS for a record over MAX_PINNED_TOOLS tools or
   * MAX_PIN_RECORD_BYTES bytes (`toPinRecordJson`), before the store is reached.
   */
  writePins(server: string, record: PinRecord): Promise<boolean>;
  /**
   * A user's sealed upstream credential for `server` (core's credential sealer made it);
   * undefined when there is none or its entry expired. `owner` is core's credentialOwner (a hash
   * of the user's issuer and subject), kept apart from session jtis, selection owners and quota keys.
   */
  readCredential(owner: string, server: string): Promise<string | undefined>;
  /**
   * Stores `sealed` as `owner`'s credential for `server` for `ttlSeconds`, replacing any earlier
   * one. One round trip.
   * @throws GatewayError INVALID_PARAMS for an owner, server, sealed text or TTL out of bounds
   * (`assertCredentialWrite`), before the store is reached.
   */
  writeCredential(owner: string, server: string, sealed: string, ttlSeconds: number): Promise<void>;
  /** Deletes `owner`'s credential for `server`; true when there was one. */
  deleteCredential(owner: string, server: string): Promise<boolean>;
  /** Every credential `owner` holds, by server (sealed); expired entries may still be listed. */
  listCredentials(owner: string): Promise<Readonly<Record<string, string>>>;
  /**
   * Keeps a one-time entry (a URL elicitation, an OAuth authorization's state) for `ttlSeconds`.
   * @throws GatewayError INVALID_PARAMS for an id, value or TTL out of bounds (`assertGrant`).
   */
  putGrant(id: string, value: string, ttlSeconds: number): Promise<void>;
  /** Takes (reads and deletes, atomically: one taker wins) a one-time entry; undefined when unknown or expired. */
  takeGrant(id: string): Promise<string | undefined>;
  /** Releases connections and timers. */
  close(): Promise<void>;
}

/** Result of `SessionStore.lookup`. */
export interface SessionLookup {
  readonly terminated: boolean;
  readonly backendSessionId?: string;
}

/** Result of `SessionStore.admitSessionCall`: the session's lookup and the call's admission. */
export interface SessionCallAdmission {
  readonly session: SessionLookup;
  readonly admission: CallAdmission;
}

/** A server-to-client request waiting for the client's answer. */
export interface PendingRequest {
  /** The gateway session that received it. */
  readonly jti: string;
  /** The upstream that asked. */
  readonly server: string;
  /** The backend session the upstream expects the answer on. */
  readonly backendSessionId: string;
  /** The upstream's own JSON-RPC id, restored on the answer. */
  readonly upstreamId: string | number;
}
