import { describe, expect, it } from 'vitest';
import type { ServerConfig } from '../config/schema.ts';
import type { UserCredentialMethod } from '../config/credentials-schema.ts';
import type { GatewayError } from '../errors.ts';
import type { Authentication } from '../identity/authentication.ts';
import { NOOP_LOGGER } from '../logger.ts';
import { createCallerIdentities } from '../session/caller-identity.ts';
import { createMemorySessionStore } from '../store/memory-session-store.ts';
import { createMemoryNotificationBus, type NotificationBus } from '../store/notification-bus.ts';
import type { SessionStore } from '../store/session-store.ts';
import { bindingOf, credentialHolder, parseTokenElicitation, storedCredentialTtlSeconds } from './credential-owner.ts';
import { createCredentialSealer, type CredentialSealer, type UserCredential } from './credential-sealer.ts';
import { createUserCredentials, type CredentialCall, type UserCredentialsOptions } from './user-credentials.ts';

const sealer: CredentialSealer = await createCredentialSealer([
  new TextEncoder().encode('a-credential-test-key-of-at-least-32-bytes'),
]);

function server(userCredential?: UserCredentialMethod): ServerConfig {
  return {
    name: 'tracker',
    url: 'http://tracker.test/mcp',
    hostname: 'tracker.test',
    prefix: '',
    enabled: true,
    userSpecificList: false,
    category: [],
    tags: [],
    ...(userCredential && { userCredential }),
  };
}

const alice: Authentication = {
  kind: 'verified',
  identity: {
    issuer: 'https://idp.test',
    subject: 'alice',
    clientId: 'c',
    scopes: [],
    claims: {},
    expiresAt: Math.floor(Date.now() / 1000) + 600,
  },
};
const ELICITING = { elicitation: {} };

/** A store that counts credential reads (the warm path must not read it). */
function counting(store: SessionStore): SessionStore & { reads: number } {
  const counted = Object.create(store) as SessionStore & { reads: number };
  counted.reads = 0;
  counted.readCredential = (owner, name) => {
    counted.reads += 1;
    return store.readCredential(owner, name);
  };
  return counted;
}

function setUp(overrides: Partial<UserCredentialsOptions> = {}, bus: NotificationBus = createMemoryNotificationBus()) {
  const store = counting(createMemorySessionStore());
  const credentials = createUserCredentials({
    store,
    sealer,
    callers: createCallerIdentities(),
    logger: NOOP_LOGGER,
    bus,
    urlElicitation: true,
    ...overrides,
  });
  return { store, credentials, bus };
}

const call = (target: ServerConfig, extra: Partial<CredentialCall> = {}): CredentialCall => ({
  server: target,
  auth: alice,
  authorization: 'Bearer alice-mcp-token',
  clientCapabilities: ELICITING,
  origin: 'https://gw.test',
  ...extra,
});

async function storeFor(store: SessionStore, target: ServerConfig, credential: UserCredential): Promise<string> {
  const holder = (await credentialHolder(alice, undefined))!;
  await store.writeCredential(
    holder.owner,
    target.name,
    await sealer.seal(credential, bindingOf(holder, target.name)),
    600,
  );
  return holder.owner;
}

describe('the user credential decision', () => {
  it("keeps the client's own Authorization for a server without a method, and for URL elicitation without the flag", async () => {
    const { credentials } = setUp({ urlElicitation: false });
    expect(await credentials.forCall(call(server()))).toEqual({ kind: 'client' });
    expect(credentials.applies(server({ kind: 'paste' }))).toBe(false);
    expect(await credentials.forCall(call(server({ kind: 'paste' })))).toEqual({ kind: 'client' });
  });

  it('refuses an anonymous caller, who has no identity to keep a credential for', async () => {
    const { credentials } = setUp();
    const decided = await credentials.forCall(call(server({ kind: 'paste' }), { auth: { kind: 'anonymous' } }));
    expect(decided).toMatchObject({ kind: 'refuse', error: { code: 'USER_CREDENTIAL_UNAVAILABLE' } });
  });

  it("answers a user without a credential -32042 with the page's link, and keeps the elicitation for two minutes", async () => {
    const { credentials, store } = setUp();
    const decided = await credentials.forCall(call(server({ kind: 'paste' })));
    expect(decided.kind).toBe('refuse');
    const error = (decided as { error: GatewayError }).error;
    expect(error.rpcCode).toBe(-32042);
    expect(error.status).toBe(200);
    const [elicitation] = (error.data as { elicitations: { elicitationId: string; url: string; mode: string }[] })
      .elicitations;
    expect(elicitation).toMatchObject({ mode: 'url', message: 'Authorization is required to access this service.' });
    expect(elicitation!.url).toBe(`https://gw.test/tokens?elicitation_id=${elicitation!.elicitationId}`);
    const entry = parseTokenElicitation(await store.takeGrant(`te:${elicitation!.elicitationId}`));
    expect(entry).toMatchObject({ issuer: 'https://idp.test', subject: 'alice', server: 'tracker' });
    expect(entry!.expiresAt - Date.now()).toBeGreaterThan(110_000);
  });

  it("links an external page with the elicitation's id added to its query", async () => {
    const { credentials } = setUp();
    const decided = await credentials.forCall(call(server({ kind: 'paste', url: 'https://vault.test/ui?x=1' })));
    const error = (decided as { error: GatewayError }).error;
    expect((error.data as { elicitations: { url: string }[] }).elicitations[0]!.url).toMatch(
      /^https:\/\/vault\.test\/ui\?x=1&elicitation_id=[0-9a-f-]{36}$/,
    );
  });

  it('answers a client that cannot elicit with a tool error, and starts no elicitation when told not to ask', async () => {
    const { credentials, store } = setUp();
    const target = server({ kind: 'paste' });
    const noElicitation = await credentials.forCall(call(target, { clientCapabilities: {} }));
    expect(noElicitation).toMatchObject({ kind: 'refuse', asToolError: true });
    expect((noElicitation as { error: GatewayError }).error.message).toBe(
      'upstream server requires a per-user token but client does not support elicitation',
    );
    const quiet = await credentials.forCall(call(target, { ask: false }));
    expect(quiet.kind).toBe('refuse');
    expect((quiet as { error: GatewayError }).error.rpcCode).not.toBe(-32042);
    expect(store.reads).toBe(2);
  });

  it('sends a stored credential, and the next calls read it from memory, not the store', async () => {
    const { credentials, store } = setUp();
    const target = server({ kind: 'paste' });
    await storeFor(store, target, { authorization: 'Bearer upstream-alice', expiresAt: Date.now() + 600_000 });
    expect(await credentials.forCall(call(target))).toEqual({ kind: 'user', authorization: 'Bearer upstream-alice' });
    expect(await credentials.forCall(call(target))).toEqual({ kind: 'user', authorization: 'Bearer upstream-alice' });
    expect(store.reads).toBe(1);
  });

  it("drops a credential the upstream refused, and another replica's cache with it", async () => {
    const bus = createMemoryNotificationBus();
    const shared = createMemorySessionStore();
    const one = setUp({ store: shared }, bus);
    const two = setUp({ store: shared }, bus);
    const target = server({ kind: 'paste' });
    await storeFor(shared, target, { authorization: 'Bearer upstream-alice', expiresAt: Date.now() + 600_000 });
    expect((await two.credentials.forCall(call(target))).kind).toBe('user');
    await one.credentials.rejected(target, alice);
    expect((await two.credentials.forCall(call(target))).kind).toBe('refuse');
  });

  it('refreshes an expired credential that has a refresh token, and keeps the new one', async () => {
    const refreshed: UserCredential = {
      authorization: 'Bearer fresh',
      expiresAt: Date.now() + 600_000,
      refreshToken: 'r2',
    };
    const seen: string[] = [];
    const { credentials, store } = setUp({
      refresh: async (_server, credential) => {
        seen.push(credential.refreshToken ?? '');
        return refreshed;
      },
    });
    const target = server({ kind: 'oauth' });
    const owner = await storeFor(store, target, {
      authorization: 'Bearer stale',
      expiresAt: Date.now() - 1000,
      refreshToken: 'r1',
    });
    expect(await credentials.forCall(call(target))).toEqual({ kind: 'user', authorization: 'Bearer fresh' });
    expect(seen).toEqual(['r1']);
    const kept = await sealer.open(
      (await store.readCredential(owner, target.name))!,
      bindingOf((await credentialHolder(alice, undefined))!, target.name),
    );
    expect(kept).toEqual(refreshed);
  });

  it('asks the user again when the refresh fails, and forgets the stale credential', async () => {
    const { credentials, store } = setUp({ refresh: async () => undefined });
    const target = server({ kind: 'oauth' });
    const owner = await storeFor(store, target, {
      authorization: 'Bearer stale',
      expiresAt: Date.now() - 1000,
      refreshToken: 'r1',
    });
    const decided = await credentials.forCall(call(target));
    expect((decided as { error: GatewayError }).error.rpcCode).toBe(-32042);
    expect(await store.readCredential(owner, target.name)).toBeUndefined();
  });

  it('reads a record tampered with in the store as none: the user is asked again', async () => {
    const { credentials, store } = setUp();
    const target = server({ kind: 'paste' });
    const holder = (await credentialHolder(alice, undefined))!;
    const sealed = await sealer.seal(
      { authorization: 'Bearer upstream-alice', expiresAt: Date.now() + 600_000 },
      bindingOf(holder, target.name),
    );
    const flipped = sealed.slice(0, -2) + (sealed.at(-2) === 'A' ? 'B' : 'A') + sealed.at(-1);
    await store.writeCredential(holder.owner, target.name, flipped, 600);
    expect((await credentials.forCall(call(target))).kind).toBe('refuse');
  });

  it('refuses a token exchange for a caller whose own token is not a verified bearer, naming the server', async () => {
    const { credentials } = setUp();
    const target = server({
      kind: 'exchange',
      tokenEndpoint: 'http://127.0.0.1:9/token',
      clientId: 'c',
      clientSecret: 's',
    });
    const decided = await credentials.forCall(
      call(target, { auth: { kind: 'credential', authorization: 'Basic x' }, authorization: 'Basic x' }),
    );
    expect(decided).toMatchObject({ kind: 'refuse', error: { code: 'USER_CREDENTIAL_UNAVAILABLE' } });
    expect((decided as { error: GatewayError }).error.message).toContain('tracker');
  });

  it('keeps a refreshable credential in the store past its access token, so it is there to be refreshed', () => {
    const now = Date.now();
    expect(storedCredentialTtlSeconds({ authorization: 'Bearer a', expiresAt: now + 60_000 }, now)).toBe(60);
    expect(
      storedCredentialTtlSeconds({ authorization: 'Bearer a', expiresAt: now + 60_000, refreshToken: 'r' }, now),
    ).toBe(31 * 24 * 3600);
  });
});
