// Users' credentials across three broker replicas on one real redis-server (issue 15): alice's
// token, pasted at replica 1's /tokens page, is used by replicas 2 and 3; a token exchanged by one
// is not exchanged again by the others; Redis holds them sealed, never the token in clear.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOidcProvider, type RunningOidcProvider } from '../harness/identity.ts';
import { startRedis, startWhoamiUpstream, type RunningRedis, type WhoamiUpstream } from '../harness/index.ts';
import { callerSeen, callOnce, elicitationOf } from './credential-clients.ts';
import { newEncryptionKey, tokenEndpointOf } from './credential-config.ts';
import type { CredentialHost } from './credential-hosts.ts';
import { CALLER_SCOPE, CREDENTIAL_ACCOUNTS, pasteAt, upstreamTokenOf } from './paste-flow.ts';
import { credentialRecords, SHARED_AUDIENCE, startRedisReplica } from './redis-replicas.ts';

const TRACKER = { name: 'tracker', prefix: 't_', tool: 't_whoami' } as const;
const WIKI = { name: 'wiki', prefix: 'w_', tool: 'w_whoami' } as const;
const SERVICE = 'Bearer tracker-service-credential';

describe('user credentials across three replicas on Redis', () => {
  let idp: RunningOidcProvider;
  let redis: RunningRedis;
  let upstream: WhoamiUpstream;
  let wiki: WhoamiUpstream;
  const replicas: CredentialHost[] = [];

  beforeAll(async () => {
    idp = await startOidcProvider({ accounts: CREDENTIAL_ACCOUNTS });
    redis = await startRedis();
    upstream = await startWhoamiUpstream({ jwksUri: idp.jwksUri, serviceCredential: SERVICE });
    wiki = await startWhoamiUpstream({ jwksUri: idp.jwksUri, serviceCredential: SERVICE });
    const exchangeClient = idp.exchangeClient;
    const servers = [
      { name: TRACKER.name, url: upstream.url, prefix: TRACKER.prefix, credential: SERVICE, tokenURLElicitation: {} },
      {
        name: WIKI.name,
        url: wiki.url,
        prefix: WIKI.prefix,
        credential: SERVICE,
        tokenExchange: {
          tokenEndpoint: await tokenEndpointOf(idp),
          clientId: exchangeClient.clientId,
          clientSecret: exchangeClient.clientSecret,
          audience: wiki.url,
          scopes: [CALLER_SCOPE],
        },
      },
    ];
    const keys = [newEncryptionKey()];
    for (let i = 0; i < 3; i++) replicas.push(await startRedisReplica({ idp, redis, servers, keys }));
  });

  afterAll(async () => {
    await Promise.allSettled(replicas.map((replica) => replica.stop()));
    await upstream?.stop();
    await wiki?.stop();
    await redis?.stop();
    await idp?.stop();
  });

  const gatewayToken = async (account: string) =>
    (await idp.userToken({ account, resource: SHARED_AUDIENCE, scope: CALLER_SCOPE })).accessToken;

  it("uses alice's token pasted at replica 1's page on replicas 2 and 3, and keeps it sealed in Redis", async () => {
    const token = await gatewayToken('alice');
    const elicited = elicitationOf(await callOnce(replicas[0]!.url, token, TRACKER.tool));
    const link = elicited.elicitations[0]!.url;
    expect(new URL(link).host).toBe(new URL(replicas[0]!.baseUrl).host);
    const pasted = `Bearer ${await upstreamTokenOf(idp, 'alice', upstream.url)}`;
    expect((await pasteAt(replicas[0]!, 'alice', link, { authorization: pasted })).status).toBe(200);

    for (const replica of [replicas[1]!, replicas[2]!]) {
      expect(callerSeen(await callOnce(replica.url, token, TRACKER.tool))).toMatchObject({
        kind: 'jwt',
        verified: true,
        sub: 'alice',
        aud: upstream.url,
      });
    }
    expect(upstream.authorizations('tools/call').get(pasted)).toBe(2);

    const records = await credentialRecords(redis);
    expect(records.map((record) => record.server)).toEqual([TRACKER.name]);
    const secret = pasted.slice('Bearer '.length);
    expect(records[0]!.sealed).not.toContain(secret);
    expect(records[0]!.sealed).not.toContain(secret.split('.')[1]!);
    expect(records[0]!.key).not.toContain('alice');
  });

  it("keeps bob's token apart from alice's: pasted at replica 3, used on replica 1 as bob's", async () => {
    const token = await gatewayToken('bob');
    const elicited = elicitationOf(await callOnce(replicas[2]!.url, token, TRACKER.tool));
    const pasted = `Bearer ${await upstreamTokenOf(idp, 'bob', upstream.url)}`;
    expect((await pasteAt(replicas[2]!, 'bob', elicited.elicitations[0]!.url, { authorization: pasted })).status).toBe(
      200,
    );
    expect(callerSeen(await callOnce(replicas[0]!.url, token, TRACKER.tool, { era: 'modern' }))).toMatchObject({
      sub: 'bob',
      aud: upstream.url,
    });
    expect(callerSeen(await callOnce(replicas[1]!.url, await gatewayToken('alice'), TRACKER.tool))).toMatchObject({
      sub: 'alice',
      aud: upstream.url,
    });
    expect((await credentialRecords(redis)).length).toBe(2);
  });

  it("exchanges carol's token once on replica 1; replicas 2 and 3 use the exchanged token from Redis", async () => {
    const token = await gatewayToken('carol');
    const exchanges = () => idp.exchanges().filter((exchange) => exchange.subject === 'carol').length;
    expect(callerSeen(await callOnce(replicas[0]!.url, token, WIKI.tool))).toMatchObject({
      sub: 'carol',
      aud: wiki.url,
      verified: true,
    });
    expect(exchanges()).toBe(1);
    for (const replica of [replicas[1]!, replicas[2]!]) {
      expect(callerSeen(await callOnce(replica.url, token, WIKI.tool))).toMatchObject({ sub: 'carol', aud: wiki.url });
    }
    expect(exchanges()).toBe(1);
    const stored = (await credentialRecords(redis)).filter((record) => record.server === WIKI.name);
    expect(stored).toHaveLength(1);
    const exchanged = wiki.requests.findLast((request) => request.method === 'tools/call')?.authorization ?? '';
    expect(exchanged).toMatch(/^Bearer /);
    expect(stored[0]!.sealed).not.toContain(exchanged.slice('Bearer '.length).split('.')[1]!);
  });
});
