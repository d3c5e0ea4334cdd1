// Bad input to the credentials path (issue 15, "How it is tested"), on broker replicas sharing a
// real redis-server: a pasted token of 1 MB (and ones too long or with a line break) is refused
// and nothing is stored; a sealed record edited by one byte in Redis reads as no credential (the
// call is elicited again, nothing crashes); a gateway restarted with a new key only elicits again,
// while one given the new key first and the old one after still opens what the old key sealed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOidcProvider, type RunningOidcProvider } from '../harness/identity.ts';
import { startRedis, startWhoamiUpstream, type RunningRedis, type WhoamiUpstream } from '../harness/index.ts';
import { callerSeen, callOnce, elicitationOf } from './credential-clients.ts';
import { newEncryptionKey, type CredentialServer } from './credential-config.ts';
import type { CredentialHost } from './credential-hosts.ts';
import { browserOf, CALLER_SCOPE, CREDENTIAL_ACCOUNTS, pasteAt, upstreamTokenOf } from './paste-flow.ts';
import {
  credentialRecords,
  overwriteRecord,
  SHARED_AUDIENCE,
  startRedisReplica,
  withOneByteEdited,
} from './redis-replicas.ts';
import { formsOf } from './token-page.ts';

const TRACKER = { name: 'tracker', prefix: 't_', tool: 't_whoami' } as const;
const SERVICE = 'Bearer tracker-service-credential';
const ONE_MIB = 1024 * 1024;

describe('bad input to the credentials path', () => {
  let idp: RunningOidcProvider;
  let redis: RunningRedis;
  let upstream: WhoamiUpstream;
  let servers: CredentialServer[];
  const oldKey = newEncryptionKey();
  const newKey = newEncryptionKey();
  /** The replica every test pastes at (sealing with the old key). */
  let first: CredentialHost;
  const started: CredentialHost[] = [];

  const replica = async (keys: readonly string[]) => {
    const host = await startRedisReplica({ idp, redis, servers, keys });
    started.push(host);
    return host;
  };

  beforeAll(async () => {
    idp = await startOidcProvider({ accounts: CREDENTIAL_ACCOUNTS });
    redis = await startRedis();
    upstream = await startWhoamiUpstream({ jwksUri: idp.jwksUri, serviceCredential: SERVICE });
    servers = [
      { name: TRACKER.name, url: upstream.url, prefix: TRACKER.prefix, credential: SERVICE, tokenURLElicitation: {} },
    ];
    first = await replica([oldKey]);
  });

  afterAll(async () => {
    await Promise.allSettled(started.map((host) => host.stop()));
    await upstream?.stop();
    await redis?.stop();
    await idp?.stop();
  });

  const gatewayToken = async (account: string) =>
    (await idp.userToken({ account, resource: SHARED_AUDIENCE, scope: CALLER_SCOPE })).accessToken;

  /** `account` pastes their upstream token at `host` (the page signed in with their bearer); the Authorization pasted. */
  const store = async (host: CredentialHost, account: string) => {
    const bearer = await gatewayToken(account);
    const elicited = elicitationOf(await callOnce(host.url, bearer, TRACKER.tool));
    const pasted = `Bearer ${await upstreamTokenOf(idp, account, upstream.url)}`;
    const page = await pasteAt(host, account, elicited.elicitations[0]!.url, {
      authorization: pasted,
      identity: { via: 'bearer', accessToken: bearer },
    });
    expect(page.status).toBe(200);
    expect(callerSeen(await callOnce(host.url, bearer, TRACKER.tool))).toMatchObject({
      sub: account,
      aud: upstream.url,
    });
    return pasted;
  };

  const healthy = async (host: CredentialHost) => (await fetch(`${host.baseUrl}/healthz`)).status;

  it('refuses a 1 MB pasted token 413, a 2 049-character one and one with a line break 400, and stores none', async () => {
    const bearer = await gatewayToken('alice');
    const elicited = elicitationOf(await callOnce(first.url, bearer, TRACKER.tool));
    const browser = browserOf(first, 'alice', { via: 'bearer', accessToken: bearer });
    const form = formsOf(await browser.open(elicited.elicitations[0]!.url)).find((candidate) =>
      candidate.fields.has('elicitation_id'),
    )!;
    expect(form).toBeDefined();

    const huge = await browser.submit(form, { token: `Bearer ${'a'.repeat(ONE_MIB)}` });
    expect({ status: huge.status, json: huge.json }).toEqual({ status: 413, json: { error: expect.any(String) } });
    const long = await browser.submit(form, { token: `Bearer ${'a'.repeat(2049 - 'Bearer '.length)}` });
    expect({ status: long.status, json: long.json }).toEqual({ status: 400, json: { error: expect.any(String) } });
    const broken = await browser.submit(form, { token: 'Bearer abc\r\nX-Injected: 1' });
    expect({ status: broken.status, json: broken.json }).toEqual({ status: 400, json: { error: expect.any(String) } });

    expect(await credentialRecords(redis)).toEqual([]);
    elicitationOf(await callOnce(first.url, bearer, TRACKER.tool));
    expect(await healthy(first)).toBe(200);
    expect(first.logs()).not.toContain('a'.repeat(4096));
  });

  it("reads bob's record edited by one byte in Redis as none: the call is elicited again and nothing crashes", async () => {
    const others = new Set((await credentialRecords(redis)).map((entry) => entry.key));
    const pasted = await store(first, 'bob');
    const [record] = (await credentialRecords(redis)).filter((entry) => !others.has(entry.key));
    expect(record?.server).toBe(TRACKER.name);
    await overwriteRecord(redis, record!.key, record!.server, withOneByteEdited(record!.sealed));

    // A replica that has not read bob's record yet (the first one may hold it in memory).
    const fresh = await replica([oldKey]);
    const bearer = await gatewayToken('bob');
    const before = upstream.authorizations('tools/call').get(pasted) ?? 0;
    const outcome = await callOnce(fresh.url, bearer, TRACKER.tool);
    expect(outcome.kind).toBe('elicitation');
    expect(upstream.authorizations('tools/call').get(pasted) ?? 0).toBe(before);
    expect(await healthy(fresh)).toBe(200);
    expect(fresh.logs()).not.toContain(pasted.slice('Bearer '.length));

    // Bob pastes again at the fresh replica and is served.
    const again = `Bearer ${await upstreamTokenOf(idp, 'bob', upstream.url)}`;
    const elicited = elicitationOf(outcome);
    await pasteAt(fresh, 'bob', elicited.elicitations[0]!.url, {
      authorization: again,
      identity: { via: 'bearer', accessToken: bearer },
    });
    expect(callerSeen(await callOnce(fresh.url, bearer, TRACKER.tool))).toMatchObject({
      sub: 'bob',
      aud: upstream.url,
    });
  });

  it("opens carol's record sealed with the old key on a gateway given the new key first, and elicits again on one with the new key only", async () => {
    const pasted = await store(first, 'carol');
    const bearer = await gatewayToken('carol');

    const rotating = await replica([newKey, oldKey]);
    expect(callerSeen(await callOnce(rotating.url, bearer, TRACKER.tool))).toMatchObject({
      sub: 'carol',
      aud: upstream.url,
    });
    await rotating.stop();

    const rotatedOut = await replica([newKey]);
    const before = upstream.authorizations('tools/call').get(pasted) ?? 0;
    const outcome = await callOnce(rotatedOut.url, bearer, TRACKER.tool);
    expect(outcome.kind).toBe('elicitation');
    expect(upstream.authorizations('tools/call').get(pasted) ?? 0).toBe(before);
    expect(await healthy(rotatedOut)).toBe(200);
  });
});
