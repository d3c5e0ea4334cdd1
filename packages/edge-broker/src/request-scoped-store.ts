import { AsyncLocalStorage } from 'node:async_hooks';
import { GatewayError, type SessionStore } from '@mcp-gateway/core';

/** The store of one request: opened on first use, closed when the request's response is done. */
export interface StoreScope {
  /** The request's store, opened (connected) by the first call. */
  store(): Promise<SessionStore>;
  /** Closes what `store()` opened, if anything; safe to call more than once. */
  close(): Promise<void>;
}

/** A SessionStore that forwards every call to the store of the request it runs in. */
export interface RequestScopedStore {
  /** Give this to the gateway, which is built once per isolate. */
  readonly store: SessionStore;
  /** Runs `fn` (the request's handling) with `scope` as the store behind `store`. */
  run<T>(scope: StoreScope, fn: () => T): T;
}

/**
 * For stores whose connection must belong to one request: in workerd a socket is bound to the
 * request that opened it, so a Redis connection kept at module scope hangs in the next request.
 * The gateway keeps one SessionStore for the isolate; each call finds the current request's
 * scope through AsyncLocalStorage (node:async_hooks under nodejs_compat) and uses its store.
 * @see https://developers.cloudflare.com/workers/runtime-apis/nodejs/asynclocalstorage/
 */
export function createRequestScopedStore(): RequestScopedStore {
  const scopes = new AsyncLocalStorage<StoreScope>();

  function current(): Promise<SessionStore> {
    const scope = scopes.getStore();
    if (scope === undefined) {
      return Promise.reject(
        new GatewayError('STORE_UNAVAILABLE', 'the session store was used outside of a request', { expose: false }),
      );
    }
    return scope.store();
  }

  const store: SessionStore = {
    lookup: async (...args) => (await current()).lookup(...args),
    ensureBackendSession: async (...args) => (await current()).ensureBackendSession(...args),
    dropBackendSession: async (...args) => (await current()).dropBackendSession(...args),
    terminate: async (...args) => (await current()).terminate(...args),
    putPending: async (...args) => (await current()).putPending(...args),
    takePending: async (...args) => (await current()).takePending(...args),
    backendSessions: async (...args) => (await current()).backendSessions(...args),
    readSelection: async (...args) => (await current()).readSelection(...args),
    writeSelection: async (...args) => (await current()).writeSelection(...args),
    admitCall: async (...args) => (await current()).admitCall(...args),
    admitSessionCall: async (...args) => (await current()).admitSessionCall(...args),
    releaseCall: async (...args) => (await current()).releaseCall(...args),
    readPins: async (...args) => (await current()).readPins(...args),
    writePins: async (...args) => (await current()).writePins(...args),
    readCredential: async (...args) => (await current()).readCredential(...args),
    writeCredential: async (...args) => (await current()).writeCredential(...args),
    deleteCredential: async (...args) => (await current()).deleteCredential(...args),
    listCredentials: async (...args) => (await current()).listCredentials(...args),
    putGrant: async (...args) => (await current()).putGrant(...args),
    takeGrant: async (...args) => (await current()).takeGrant(...args),
    // Scopes close with their requests.
    async close() {},
  };
  return { store, run: (scope, fn) => scopes.run(scope, fn) };
}

/**
 * A scope that opens its store with `open` on first use and closes it with `release`.
 * A failed open is not cached: the next call tries again.
 */
export function createStoreScope<T>(
  open: () => Promise<{ store: SessionStore; handle: T }>,
  release: (handle: T) => Promise<void>,
): StoreScope {
  let opening: Promise<{ store: SessionStore; handle: T }> | undefined;
  let closed = false;
  return {
    async store() {
      if (closed) throw new GatewayError('STORE_UNAVAILABLE', 'the request is over; its store is closed');
      opening ??= open().catch((error: unknown) => {
        opening = undefined;
        throw error;
      });
      return (await opening).store;
    },
    async close() {
      if (closed) return;
      closed = true;
      const opened = await opening?.catch(() => undefined);
      if (opened !== undefined) await release(opened.handle);
    },
  };
}

/**
 * The response as the client gets it, with `close` run once its body has been sent or the
 * client went away (or at once when it has no body). The work is kept alive by `waitUntil`.
 */
export function closeAfterResponse(
  response: Response,
  close: () => Promise<void>,
  waitUntil: (promise: Promise<unknown>) => void,
): Response {
  if (response.body === null) {
    waitUntil(close());
    return response;
  }
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  waitUntil(
    response.body
      .pipeTo(writable)
      .catch(() => undefined)
      .finally(close),
  );
  return new Response(readable, response);
}
