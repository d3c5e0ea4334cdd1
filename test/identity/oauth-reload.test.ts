// Token verification and the CLI's hot-reloaded config file (issue 12, items 5 and 6): off by
// default (no `auth` section: a request without Authorization works as before); turned on by an
// edit of the running gateway's config file (the next request without a token gets 401); and a
// reload with `auth.oauth` but no audience (and no OAUTH_RESOURCE) refused, the last good config
// staying in force, whether verification was off or on before it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responsesOf, type Answer } from '../attacker/answers.ts';
import { openLegacySession, postLegacy, postModern } from '../attacker/http-hosts.ts';
import { createTokenForge, startOidcProvider, type RunningOidcProvider } from '../harness/identity.ts';
import type { RunningGateway, SdkUpstream } from '../harness/index.ts';
import {
  identityConfig,
  startBroker,
  startWeatherUpstream,
  WEATHER,
  weatherServer,
  type IdentityHost,
} from './identity-hosts.ts';

const RELOAD_DEADLINE_MS = 10_000;

describe('token verification in the hot-reloaded config of the CLI gateway', () => {
  let idp: RunningOidcProvider;
  let upstream: SdkUpstream;
  let host: IdentityHost & { gateway: RunningGateway };

  beforeAll(async () => {
    idp = await startOidcProvider();
    upstream = await startWeatherUpstream();
    host = await startBroker({ servers: [weatherServer(upstream)] });
  });

  afterAll(async () => {
    await host?.stop();
    await upstream?.stop();
    await idp?.stop();
  });

  const servers = () => [{ ...weatherServer(upstream), hostname: 'weather.mcp.local' }];
  const withAudience = () => identityConfig(servers(), { issuers: [idp.issuer], audience: host.url });
  const withoutAudience = () => identityConfig(servers(), { issuers: [idp.issuer], audience: null });

  /** A 2026-07-28 call of the weather tool, with `token` when given. */
  const call = (token?: string): Promise<Answer> =>
    postModern(
      host,
      { id: 1, method: 'tools/call', params: { name: WEATHER.tool, arguments: { city: 'Oslo' } } },
      token === undefined ? {} : { authorization: `Bearer ${token}` },
    );

  const validToken = () => createTokenForge({ issuer: idp.issuer, audience: host.url, key: idp.keys.active }).valid();

  const expectServed = (answer: Answer) => {
    expect(answer.status).toBe(200);
    expect(JSON.stringify(responsesOf(answer.messages)[0]?.['result'])).toContain('sunny in Oslo');
  };

  /** Writes `yaml` and waits until the gateway has reported it invalid. */
  const writeRefused = async (yaml: string) => {
    const marker = 'invalid config edit, keeping the last good config';
    const before = host.logs().split(marker).length;
    await host.gateway.writeConfig(yaml);
    const deadline = Date.now() + RELOAD_DEADLINE_MS;
    while (host.logs().split(marker).length === before) {
      if (Date.now() > deadline) throw new Error(`the gateway did not report the edit:\n${host.logs().slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(host.logs().split(marker).at(-1)).toContain('auth.oauth.audience: required');
  };

  it('serves requests without Authorization when the config has no auth section', async () => {
    expectServed(await call());
    const sessionId = await openLegacySession(host);
    const listed = await postLegacy(host, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, sessionId);
    expect(listed.status).toBe(200);
    expect(JSON.stringify(responsesOf(listed.messages)[0])).toContain(WEATHER.tool);
  });

  it('refuses an edit that turns verification on without an audience, and goes on serving without tokens', async () => {
    await writeRefused(withoutAudience());
    expectServed(await call());
  });

  it('verifies tokens after an edit adds auth.oauth: the next request without a token gets 401', async () => {
    const sessionBefore = await openLegacySession(host);
    await host.gateway.writeConfig(withAudience());
    const deadline = Date.now() + RELOAD_DEADLINE_MS;
    let answer = await call();
    while (answer.status !== 401 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      answer = await call();
    }
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe(
      `Bearer resource_metadata="${host.baseUrl}/.well-known/oauth-protected-resource/mcp"`,
    );
    const token = await validToken();
    expectServed(await call(token));

    // A session opened anonymously before the edit is not taken over by a verified caller.
    const onOldSession = await postLegacy(host, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, sessionBefore, {
      authorization: `Bearer ${token}`,
    });
    expect(onOldSession.status).toBe(404);
  });

  it('refuses an edit that drops the audience, and goes on verifying with the last good config', async () => {
    await writeRefused(withoutAudience());
    expect((await call()).status).toBe(401);
    expectServed(await call(await validToken()));
  });
});
