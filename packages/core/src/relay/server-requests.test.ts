import { afterEach, describe, expect, it } from 'vitest';
import { createSessionTokens } from '../session/session-token.ts';
import { createMemorySessionStore } from '../store/memory-session-store.ts';
import type { SessionStore } from '../store/session-store.ts';
import { isServerRequest, PENDING_REQUEST_TTL_SECONDS, rememberServerRequest } from './server-requests.ts';

const KEY = 'gateway-signing-key-for-tests-0001';

const stores: SessionStore[] = [];

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

/** The jti of a fresh gateway session. */
async function sessionJti(): Promise<string> {
  const tokens = createSessionTokens({ key: KEY });
  const { claims } = await tokens.issue({ protocolVersion: '2025-06-18', clientCapabilities: {} });
  return claims.jti;
}

function store(now?: () => number): SessionStore {
  const created = createMemorySessionStore(now === undefined ? {} : { now });
  stores.push(created);
  return created;
}

const ELICITATION = {
  jsonrpc: '2.0',
  id: 4,
  method: 'elicitation/create',
  params: { message: 'Which city?', requestedSchema: { type: 'object', properties: {} } },
};

describe('isServerRequest', () => {
  it.each([
    ['a request with a numeric id', { jsonrpc: '2.0', id: 1, method: 'sampling/createMessage' }],
    ['a request with id 0', { jsonrpc: '2.0', id: 0, method: 'roots/list' }],
    ['a request with a string id', { jsonrpc: '2.0', id: 'a', method: 'ping' }],
  ])('accepts %s', (_, message) => {
    expect(isServerRequest(message)).toBe(true);
  });

  it.each([
    ['a notification', { jsonrpc: '2.0', method: 'notifications/progress', params: {} }],
    ['a request with a null id', { jsonrpc: '2.0', id: null, method: 'ping' }],
    ['a response', { jsonrpc: '2.0', id: 1, result: {} }],
    ['an error response', { jsonrpc: '2.0', id: 1, error: { code: -32601, message: 'no' } }],
    ['a message whose method is not a string', { jsonrpc: '2.0', id: 1, method: 5 }],
  ])('rejects %s', (_, message) => {
    expect(isServerRequest(message)).toBe(false);
  });
});

describe('rememberServerRequest', () => {
  it('returns the request under a fresh gateway id with every other field unchanged', async () => {
    const mapped = await rememberServerRequest(store(), await sessionJti(), 'weather', 'backend-1', ELICITATION);

    expect(mapped).toEqual({ ...ELICITATION, id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(ELICITATION.id).toBe(4);
  });

  it('stores the upstream that asked, its backend session and its own id under the gateway id', async () => {
    const pending = store();
    const jti = await sessionJti();

    const mapped = await rememberServerRequest(pending, jti, 'weather', 'backend-1', ELICITATION);

    expect(await pending.takePending(mapped['id'] as string)).toEqual({
      jti,
      server: 'weather',
      backendSessionId: 'backend-1',
      upstreamId: 4,
    });
  });

  it('gives the same upstream id a different gateway id each time', async () => {
    const pending = store();
    const jti = await sessionJti();

    const first = await rememberServerRequest(pending, jti, 'weather', 'backend-1', ELICITATION);
    const second = await rememberServerRequest(pending, jti, 'weather', 'backend-2', ELICITATION);

    expect(first['id']).not.toBe(second['id']);
    expect((await pending.takePending(first['id'] as string))?.backendSessionId).toBe('backend-1');
    expect((await pending.takePending(second['id'] as string))?.backendSessionId).toBe('backend-2');
  });

  it('keeps a string upstream id as a string', async () => {
    const pending = store();

    const mapped = await rememberServerRequest(pending, await sessionJti(), 'weather', 'backend-1', {
      ...ELICITATION,
      id: 'upstream-7',
    });

    expect((await pending.takePending(mapped['id'] as string))?.upstreamId).toBe('upstream-7');
  });

  it(`keeps the pending request for ${PENDING_REQUEST_TTL_SECONDS} seconds`, async () => {
    let time = Date.UTC(2026, 0, 1);
    const pending = store(() => time);
    const jti = await sessionJti();
    const kept = await rememberServerRequest(pending, jti, 'weather', 'backend-1', ELICITATION);
    const dropped = await rememberServerRequest(pending, jti, 'weather', 'backend-1', ELICITATION);

    time += PENDING_REQUEST_TTL_SECONDS * 1000 - 1;
    expect(await pending.takePending(kept['id'] as string)).toBeDefined();
    time += 1;
    expect(await pending.takePending(dropped['id'] as string)).toBeUndefined();
  });
});
