import {
  ERROR_CODES,
  GatewayError,
  assertCallAdmission,
  assertCallRelease,
  assertCredentialKey,
  assertCredentialWrite,
  assertGrant,
  assertToolSelection,
  isGatewayError,
  parseStoredPinRecord,
  toPinRecordJson,
  type GatewayErrorCode,
  type SessionStore,
} from '@mcp-gateway/core';
import type { GatewaySessionObject, RelayedFailure } from './session-object.ts';

/** How long one request may hold the lease to create a backend session (keep above the initialize timeout). */
export const DEFAULT_DURABLE_LEASE_MS = 10_000;

/** Options of `createDurableSessionStore`. */
export interface DurableSessionStoreOptions {
  /** The `GATEWAY_SESSIONS` binding of the GatewaySessionObject class. */
  namespace: DurableObjectNamespace<GatewaySessionObject>;
  /** Clock in ms for every expiry decision (tests); default Date.now. */
  now?: () => number;
  /** Default DEFAULT_DURABLE_LEASE_MS. */
  leaseMs?: number;
  /** Prepended to every object name (tests keep their objects apart with it). Default ''. */
  namePrefix?: string;
}

/**
 * The SessionStore of the edge: every operation is an RPC to a GatewaySessionObject, the one
 * named by the gateway session's jti (`idFromName`), so every isolate serving a client sees the
 * same state. A pending server-to-client request lives in an object of its own named by its
 * gateway id, since the client's answer carries only that id. An owner's tool selection lives in
 * an object named `selection:<owner>`: owners are not sessions (an identity hash outlives and
 * spans sessions), and the name's own prefix keeps an owner that happens to equal a jti apart
 * from that session, while one namespace binding serves all of them. A quota key's calls live in
 * an object named `quota:<key>`: a key counts calls across sessions and isolates, so it needs an
 * object of its own, whose single thread makes each admission atomic (and keeps one busy key
 * from queueing behind a session's calls); `admitSessionCall` asks the session's object and the
 * key's at once. A pinned server's pin record lives in an object named
 * `pins:<server>`, shared by every isolate. A user's sealed upstream credentials live in an object
 * named `cred:<owner>` (one per owner, a storage key per server, so listing them is one call), and
 * a one-time grant in one named `grant:<id>`, whose single thread makes its take atomic.
 * `ensureBackendSession` asks the
 * object for the id or a lease; the lease holder runs `create` in this worker and stores the
 * result, while concurrent callers (in any isolate) wait inside the object for it.
 * Failures to reach the object reject with GatewayError STORE_UNAVAILABLE; errors of `create`
 * pass through, and callers that waited for a failed `create` get the same error code.
 */
export function createDurableSessionStore(options: DurableSessionStoreOptions): SessionStore {
  const { namespace } = options;
  const now = options.now ?? Date.now;
  const leaseMs = options.leaseMs ?? DEFAULT_DURABLE_LEASE_MS;
  const prefix = options.namePrefix ?? '';
  // A stub belongs to the request that made it (workerd binds I/O objects to their request).
  const session = (jti: string) => namespace.get(namespace.idFromName(`${prefix}session:${jti}`));
  const pending = (id: string) => namespace.get(namespace.idFromName(`${prefix}pending:${id}`));
  const selection = (owner: string) => namespace.get(namespace.idFromName(`${prefix}selection:${owner}`));
  const quota = (key: string) => namespace.get(namespace.idFromName(`${prefix}quota:${key}`));
  const pins = (server: string) => namespace.get(namespace.idFromName(`${prefix}pins:${server}`));
  const credentials = (owner: string) => namespace.get(namespace.idFromName(`${prefix}cred:${owner}`));
  const grant = (id: string) => namespace.get(namespace.idFromName(`${prefix}grant:${id}`));
  const expiryAfter = (ttlSeconds: number) => now() + ttlSeconds * 1000;

  async function createAndStore(
    jti: string,
    server: string,
    token: string,
    ttlSeconds: number,
    create: () => Promise<string>,
  ): Promise<string> {
    let id: string;
    try {
      id = await create();
    } catch (error) {
      // Waiters get the failure now rather than when the lease lapses; if the object is
      // unreachable the lease lapses anyway.
      await session(jti)
        .failBackendSession(server, token, toRelayedFailure(error))
        .catch(() => undefined);
      throw error;
    }
    return reach(session(jti).storeBackendSession(server, token, id, now(), expiryAfter(ttlSeconds)));
  }

  return {
    lookup: (jti, server) => reach(session(jti).lookup(server, now())),
    async ensureBackendSession(jti, server, ttlSeconds, create) {
      const claimed = await reach(session(jti).claimBackendSession(server, now(), leaseMs));
      if ('id' in claimed) return claimed.id;
      if ('failed' in claimed) throw fromRelayedFailure(claimed.failed);
      return createAndStore(jti, server, claimed.lease, ttlSeconds, create);
    },
    dropBackendSession: (jti, server, backendSessionId) =>
      reach(session(jti).dropBackendSession(server, backendSessionId, now())),
    terminate: (jti, ttlSeconds) => reach(session(jti).terminate(now(), expiryAfter(ttlSeconds))),
    putPending: (id, entry, ttlSeconds) => reach(pending(id).putPending(entry, now(), expiryAfter(ttlSeconds))),
    takePending: (id) => reach(pending(id).takePending(now())),
    backendSessions: (jti) => reach(session(jti).backendSessions(now())),
    readSelection: (owner) => reach(selection(owner).readSelection(now())),
    async writeSelection(owner, tools, ttlSeconds) {
      // Refused here, before the RPC, so the caller gets INVALID_PARAMS rather than STORE_UNAVAILABLE.
      assertToolSelection(tools);
      await reach(selection(owner).writeSelection([...tools], now(), expiryAfter(ttlSeconds)));
    },
    async admitCall(key, limits, lease) {
      // As for selections: refused before the RPC, so the caller gets INVALID_PARAMS.
      assertCallAdmission(key, limits, lease);
      return reach(quota(key).admitCall(limits, lease, now()));
    },
    async admitSessionCall(jti, server, key, limits, lease) {
      assertCallAdmission(key, limits, lease);
      // Two objects (the session's and the quota key's): both asked at once, so one round trip's time.
      const [lookup, admission] = await Promise.all([
        reach(session(jti).lookup(server, now())),
        reach(quota(key).admitCall(limits, lease, now())),
      ]);
      return { session: lookup, admission };
    },
    async releaseCall(key, lease) {
      assertCallRelease(key, lease);
      await reach(quota(key).releaseCall(lease, now()));
    },
    async readPins(server) {
      const text = await reach(pins(server).readPins());
      return text === undefined ? undefined : parseStoredPinRecord(text);
    },
    async writePins(server, record) {
      // As for selections: refused before the RPC, so the caller gets INVALID_PARAMS.
      const text = toPinRecordJson(record);
      return reach(pins(server).writePins(record.revision, text));
    },
    // Bounds are checked here, before the RPC, so the caller gets INVALID_PARAMS rather than STORE_UNAVAILABLE.
    async readCredential(owner, server) {
      assertCredentialKey(owner, server);
      return reach(credentials(owner).readCredential(server, now()));
    },
    async writeCredential(owner, server, sealed, ttlSeconds) {
      assertCredentialWrite(owner, server, sealed, ttlSeconds);
      await reach(credentials(owner).writeCredential(server, sealed, now(), expiryAfter(ttlSeconds)));
    },
    async deleteCredential(owner, server) {
      assertCredentialKey(owner, server);
      return reach(credentials(owner).deleteCredential(server, now()));
    },
    listCredentials: (owner) => reach(credentials(owner).listCredentials(now())),
    async putGrant(id, value, ttlSeconds) {
      assertGrant(id, value, ttlSeconds);
      await reach(grant(id).putGrant(value, now(), expiryAfter(ttlSeconds)));
    },
    takeGrant: (id) => reach(grant(id).takeGrant(now())),
    // Nothing to release: stubs are made per call.
    async close() {},
  };
}

/** Awaits an RPC to a session object, rejecting with STORE_UNAVAILABLE when it cannot be reached. */
async function reach<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new GatewayError('STORE_UNAVAILABLE', `session store (Durable Object) unavailable: ${reason}`, {
      cause: error,
    });
  }
}

function toRelayedFailure(error: unknown): RelayedFailure {
  if (isGatewayError(error)) return { code: error.code, message: error.message, expose: error.expose };
  return { message: error instanceof Error ? error.message : String(error), expose: false };
}

/**
 * The error a caller that waited for a failed `create` rejects with: the holder's code, message
 * and exposure; anything that was not a GatewayError stays unexposed (INTERNAL).
 */
function fromRelayedFailure(failure: RelayedFailure): GatewayError {
  const code: GatewayErrorCode =
    failure.code !== undefined && Object.hasOwn(ERROR_CODES, failure.code)
      ? (failure.code as GatewayErrorCode)
      : 'INTERNAL';
  return new GatewayError(code, failure.message, { expose: failure.expose && code !== 'INTERNAL' });
}
