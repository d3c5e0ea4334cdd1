import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import type {
  CallAdmission,
  PendingRequest,
  PinRecord,
  SessionCallAdmission,
  SessionLookup,
  SessionStore,
} from '@mcp-gateway/core';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe } from 'vitest';
import { runSessionStoreCase } from '@mcp-gateway/core/session-store-case';
import { bundleTestWorker } from './bundle-worker.ts';
import { COMPATIBILITY_DATE } from './start-worker.ts';

/** What the store worker answers for one operation. */
type StoreAnswer =
  { ok: true; value: unknown; defined: boolean } | { ok: false; error: { message: string; code?: string } };

let mf: Miniflare;
let createServerFor: Server;
let createBase: string;
/** `create` callbacks of ensureBackendSession calls in flight, by call id. */
const creates = new Map<string, () => Promise<string>>();

beforeAll(async () => {
  // The worker runs a call's `create` by POSTing to this server, which runs the test's callback.
  createServerFor = createServer((request, response) => {
    const create = creates.get(request.url?.slice('/create/'.length) ?? '');
    if (create === undefined) {
      response.writeHead(404).end('unknown create call');
      return;
    }
    create().then(
      (id) => response.writeHead(200, { 'content-type': 'text/plain' }).end(id),
      (error: unknown) => response.writeHead(500).end(error instanceof Error ? error.message : String(error)),
    );
  });
  await new Promise<void>((resolve) => createServerFor.listen(0, '127.0.0.1', resolve));
  createBase = `http://127.0.0.1:${(createServerFor.address() as AddressInfo).port}/create/`;

  const scriptPath = await bundleTestWorker('store-worker.ts');
  mf = new Miniflare({
    modules: true,
    scriptPath,
    // Module names are paths relative to this root; the bundle lives in a temp directory.
    modulesRoot: dirname(scriptPath),
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: ['nodejs_compat'],
    durableObjects: { GATEWAY_SESSIONS: { className: 'GatewaySessionObject', useSQLite: true } },
  });
  await mf.ready;
});

afterAll(async () => {
  await mf?.dispose();
  await new Promise((resolve) => createServerFor?.close(resolve));
});

/**
 * A SessionStore in the test process whose every operation runs in workerd: the worker builds
 * the Durable Object store for the call (with this store's clock reading and object-name
 * prefix) and runs the operation against the GatewaySessionObject instances.
 */
function remoteStore(now: () => number): SessionStore {
  const prefix = `${crypto.randomUUID()}:`;
  async function call(op: string, args: unknown[], createUrl?: string): Promise<unknown> {
    const response = await mf.dispatchFetch('http://store/', {
      method: 'POST',
      body: JSON.stringify({ op, prefix, now: now(), args, createUrl }),
    });
    const answer = (await response.json()) as StoreAnswer;
    // The code travels back so that the suite can tell a refused write from an unreachable store.
    if (!answer.ok) throw Object.assign(new Error(answer.error.message), { code: answer.error.code });
    return answer.defined ? answer.value : undefined;
  }
  return {
    lookup: (jti, server) => call('lookup', [jti, server]) as Promise<SessionLookup>,
    async ensureBackendSession(jti, server, ttlSeconds, create) {
      const id = crypto.randomUUID();
      creates.set(id, create);
      try {
        return (await call('ensureBackendSession', [jti, server, ttlSeconds], createBase + id)) as string;
      } finally {
        creates.delete(id);
      }
    },
    dropBackendSession: async (jti, server, id) => void (await call('dropBackendSession', [jti, server, id])),
    terminate: (jti, ttl) => call('terminate', [jti, ttl]) as Promise<Record<string, string>>,
    putPending: async (id, entry, ttl) => void (await call('putPending', [id, entry, ttl])),
    takePending: (id) => call('takePending', [id]) as Promise<PendingRequest | undefined>,
    backendSessions: (jti) => call('backendSessions', [jti]) as Promise<Record<string, string>>,
    readSelection: (owner) => call('readSelection', [owner]) as Promise<readonly string[] | undefined>,
    writeSelection: async (owner, tools, ttl) => void (await call('writeSelection', [owner, tools, ttl])),
    admitCall: (key, limits, lease) => call('admitCall', [key, limits, lease]) as Promise<CallAdmission>,
    admitSessionCall: (jti, server, key, limits, lease) =>
      call('admitSessionCall', [jti, server, key, limits, lease]) as Promise<SessionCallAdmission>,
    releaseCall: async (key, lease) => void (await call('releaseCall', [key, lease])),
    readPins: (server) => call('readPins', [server]) as Promise<PinRecord | undefined>,
    writePins: (server, record) => call('writePins', [server, record]) as Promise<boolean>,
    readCredential: (owner, server) => call('readCredential', [owner, server]) as Promise<string | undefined>,
    writeCredential: async (owner, server, sealed, ttl) =>
      void (await call('writeCredential', [owner, server, sealed, ttl])),
    deleteCredential: (owner, server) => call('deleteCredential', [owner, server]) as Promise<boolean>,
    listCredentials: (owner) => call('listCredentials', [owner]) as Promise<Record<string, string>>,
    putGrant: async (id, value, ttl) => void (await call('putGrant', [id, value, ttl])),
    takeGrant: (id) => call('takeGrant', [id]) as Promise<string | undefined>,
    async close() {},
  };
}

describe('createDurableSessionStore in workerd', () => {
  runSessionStoreCase(({ now }) => remoteStore(now));
});
