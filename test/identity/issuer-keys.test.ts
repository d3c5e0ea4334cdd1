// The issuer's keys as the gateway keeps them (issue 12, item 3): fetched once per process for
// many tokens and requests (in each host; the router and the broker behind Envoy share one
// process and one cache), fetched again when a token signed with a new key arrives after the
// provider rotated its keys, and the cached keys serving while the JWKS endpoint is down, hung
// or slow. The gateway refetches for an unknown kid at most once per 30 s (the cooldown): the
// rotation test presents the provider's new token within the cooldown (refused) and after it
// (accepted, the refusal not remembered), so this file takes about 35 s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responsesOf, type Answer } from '../attacker/answers.ts';
import { postModern } from '../attacker/http-hosts.ts';
import { createTokenForge, startOidcProvider, type RunningOidcProvider, type TokenForge } from '../harness/identity.ts';
import type { SdkUpstream } from '../harness/index.ts';
import {
  HOST_KINDS,
  startIdentityHost,
  startWeatherUpstream,
  WEATHER,
  weatherServer,
  type HostKind,
  type IdentityHost,
} from './identity-hosts.ts';

/** The gateway's least time between two key fetches caused by an unknown kid (issuer-keys.ts). */
const KID_COOLDOWN_MS = 30_000;

interface Stack {
  readonly idp: RunningOidcProvider;
  readonly upstream: SdkUpstream;
  readonly host: IdentityHost;
  readonly forge: TokenForge;
}

async function startStack(kind: HostKind): Promise<Stack> {
  const idp = await startOidcProvider();
  const upstream = await startWeatherUpstream();
  const host = await startIdentityHost(kind, { servers: [weatherServer(upstream)], oauth: { issuers: [idp.issuer] } });
  return {
    idp,
    upstream,
    host,
    forge: createTokenForge({ issuer: idp.issuer, audience: host.url, key: idp.keys.active }),
  };
}

async function stopStack(stack: Stack | undefined): Promise<void> {
  await stack?.host.stop();
  await stack?.upstream.stop();
  await stack?.idp.stop();
}

/** A 2026-07-28 call of the weather tool with `token`. */
function callWith(host: IdentityHost, token: string): Promise<Answer> {
  return postModern(
    host,
    { id: 1, method: 'tools/call', params: { name: WEATHER.tool, arguments: { city: 'Oslo' } } },
    { authorization: `Bearer ${token}` },
  );
}

/** Asserts the call was served (the upstream's answer came back). */
function expectServed(answer: Answer, what: string): void {
  expect({ what, status: answer.status, text: JSON.stringify(responsesOf(answer.messages)[0]?.['result']) }).toEqual({
    what,
    status: 200,
    text: expect.stringContaining('sunny in Oslo'),
  });
}

describe.each(HOST_KINDS)('issuer keys in the %s', (kind) => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack(kind);
  });

  afterAll(() => stopStack(stack));

  it('fetches the JWKS once for many tokens and requests', async () => {
    const { idp, host, forge } = stack;
    // One after another (concurrent first verifications would share one fetch anyway), then all at once, twice.
    for (let i = 0; i < 10; i += 1)
      expectServed(await callWith(host, await forge.valid({ sub: `user-${i}` })), `token ${i}`);
    const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => forge.valid({ sub: `other-${i}` })));
    for (let round = 0; round < 2; round += 1) {
      const answers = await Promise.all(tokens.map((token) => callWith(host, token)));
      answers.forEach((answer, i) => expectServed(answer, `round ${round}, token ${i}`));
    }
    expect(idp.jwks.fetches()).toBe(1);
  });
});

describe('issuer keys in the broker, across a key rotation and JWKS faults', () => {
  let stack: Stack;
  /** When the gateway fetched the keys first (the kid cooldown counts from there). */
  let firstFetchAt: number;

  beforeAll(async () => {
    stack = await startStack('broker');
    firstFetchAt = Date.now();
    expectServed(await callWith(stack.host, await stack.forge.valid()), 'the first token');
    expect(stack.idp.jwks.fetches()).toBe(1);
  });

  afterAll(() => stopStack(stack));

  it.each(['down', 'hang', 'slow', 'error'] as const)(
    'serves new tokens from the cached keys while the JWKS is %s, without asking it',
    async (fault) => {
      const { idp, host, forge } = stack;
      idp.jwks.fail(fault, 10_000);
      try {
        for (let i = 0; i < 3; i += 1) expectServed(await callWith(host, await forge.valid()), `token ${i}`);
      } finally {
        idp.jwks.restore();
      }
      expect(idp.jwks.fetches()).toBe(1);
    },
  );

  it(
    'refuses a token signed with a rotated key until the kid cooldown has passed, then accepts that same token and the old key',
    async () => {
      const { idp, host, forge } = stack;
      const fresh = await idp.rotateKeys();
      // The provider signs with the new key from now on: what a client gets right after the rotation.
      const issued = await idp.userToken({ account: 'alice', resource: host.url, scope: 'mcp:tools' });
      expect(issued.header.kid).toBe(fresh.kid);

      // Within 30 s of its last fetch the gateway does not fetch the keys again for an unknown kid.
      const early = await callWith(host, issued.accessToken);
      expect(early.status).toBe(401);
      expect(idp.jwks.fetches()).toBe(1);

      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, firstFetchAt + KID_COOLDOWN_MS + 500 - Date.now())),
      );
      expectServed(await callWith(host, issued.accessToken), 'the same token after the cooldown');
      expect(idp.jwks.fetches()).toBe(2);
      const rotated = createTokenForge({ issuer: idp.issuer, audience: host.url, key: fresh });
      expectServed(await callWith(host, await rotated.valid()), 'another token with the new kid');
      expectServed(await callWith(host, await forge.valid()), 'a new token with the old kid');
      expect(idp.jwks.fetches()).toBe(2);
    },
    KID_COOLDOWN_MS + 15_000,
  );
});
