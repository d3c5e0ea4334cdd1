// Sessions bound to the caller (brief A), as one suite run against every HTTP host: the broker
// (sessions-broker.test.ts) and the worker (sessions-worker.test.ts). The router has its own
// suite (sessions-router.test.ts): it speaks ext_proc, not HTTP.
import { randomUUID } from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startSdkUpstream, type SdkUpstream } from '../harness/index.ts';
import { responsesOf, type Answer } from './answers.ts';
import { forgedSessionIds, impostorsOf, opaqueBearer, signedBearer, type Subject } from './credentials.ts';
import { HOSTILE_TOOLS, realContent, startHostileUpstream, type HostileUpstream } from './hostile-upstream.ts';
import { openLegacySession, postLegacy, postModern, type HostServer, type HttpHost } from './http-hosts.ts';

/** The upstream's tool, prompt and resource: one target per routed method. */
export function registerTargets(server: McpServer): void {
  server.registerTool('echo', { description: 'Echoes its text', inputSchema: { text: z.string() } }, ({ text }) => ({
    content: [{ type: 'text', text: `echo: ${text}` }],
  }));
  server.registerPrompt('greet', { description: 'Greets someone', argsSchema: { who: z.string() } }, ({ who }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Hello, ${who}` } }],
  }));
  server.registerResource('doc', 'test://doc', { mimeType: 'text/plain' }, (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'the document' }],
  }));
}

/** The prefix of the SDK upstream holding the targets. */
export const TARGET_PREFIX = 't_';

/** The three routed methods, each naming the served target (brief A1: tools/call, prompts/get, resources/read). */
export const ROUTED_CALLS = [
  { method: 'tools/call', params: { name: 't_echo', arguments: { text: 'hi' } } },
  { method: 'prompts/get', params: { name: 't_greet', arguments: { who: 'you' } } },
  { method: 'resources/read', params: { uri: 'test://t_doc' } },
] as const;

/** A routed call as a JSON-RPC request with a fresh id. */
export function routedRequest(call: (typeof ROUTED_CALLS)[number]) {
  return { jsonrpc: '2.0', id: randomUUID(), method: call.method, params: call.params };
}

/** The refusal every host gives a session presented by someone else: 404, "session not found". */
export function expectSessionNotFound(answer: Answer, what: string): void {
  const error = responsesOf(answer.messages)[0]?.['error'] as { message?: unknown } | undefined;
  expect({ what, status: answer.status, message: error?.message }).toEqual({
    what,
    status: 404,
    message: expect.stringMatching(/session not found/i),
  });
}

/** The HTTP host under test, started in front of the given servers. */
export type StartHost = (servers: readonly HostServer[]) => Promise<HttpHost>;

/**
 * The suite: sessions created by one caller and presented by another (A1, A2), a 2026-07-28
 * caller kept off another caller's backend session on a legacy upstream (A3), and session ids the
 * host never issued (A4); at the end, that no presented secret reached the host's log.
 */
export function describeSessionBinding(hostName: string, start: StartHost): void {
  describe(`sessions bound to the caller, through the ${hostName}`, () => {
    let targets: SdkUpstream;
    let plain: HostileUpstream;
    let host: HttpHost;
    /** Every credential and session id presented, to look for in the log at the end. */
    const secrets: string[] = ['dXNlcjpwdw=='];

    beforeAll(async () => {
      targets = await startSdkUpstream({ name: 'targets', setup: registerTargets });
      plain = await startHostileUpstream({ name: 'plain', era: 'legacy', tools: { honest: HOSTILE_TOOLS.honest } });
      host = await start([
        { name: 'targets', url: targets.url, prefix: TARGET_PREFIX },
        { name: 'plain', url: plain.url, prefix: 'p_' },
      ]);
      await waitForTools(host, ['t_echo', 'p_honest']);
    });

    afterAll(async () => {
      await host?.stop();
      await targets?.stop();
      await plain?.stop();
    });

    /** Opens a session for `authorization` and checks that its own routed calls work. */
    const victimSession = async (authorization: string | undefined): Promise<string> => {
      const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
      const sessionId = await openLegacySession(host, headers);
      secrets.push(sessionId);
      for (const call of ROUTED_CALLS) {
        const own = await postLegacy(host, routedRequest(call), sessionId, headers);
        expect({ method: call.method, status: own.status, error: responsesOf(own.messages)[0]?.['error'] }).toEqual({
          method: call.method,
          status: 200,
          error: undefined,
        });
      }
      return sessionId;
    };

    const initializesCarrying = (authorization: string) =>
      targets.requests.filter((r) => r.method === 'initialize' && r.headers['authorization'] === authorization);

    it('refuses a session made with an opaque bearer when it comes with another bearer, none or Basic', async () => {
      const victim = opaqueBearer('VICTIM');
      const attacker = opaqueBearer('ATTACKER');
      secrets.push(victim, attacker);
      const sessionId = await victimSession(victim);
      for (const call of ROUTED_CALLS) {
        for (const [what, headers] of [
          ['another bearer', { authorization: attacker }],
          ['no Authorization', {}],
          ['Basic', { authorization: 'Basic dXNlcjpwdw==' }],
        ] as const) {
          expectSessionNotFound(
            await postLegacy(host, routedRequest(call), sessionId, headers),
            `${call.method} with ${what}`,
          );
        }
      }
      expect(initializesCarrying(attacker)).toEqual([]);
    });

    describe('a session made with a bearer JWT', () => {
      const subject: Subject = { iss: 'https://idp.example.com', sub: `victim-${randomUUID()}` };
      const idpKey = `victim-idp-key-${randomUUID()}`;

      const refusesImpostor = async (what: string, impostor: string) => {
        const victim = await signedBearer(subject, idpKey);
        secrets.push(victim, impostor);
        expect(impostor).not.toBe(victim);
        const sessionId = await victimSession(victim);
        for (const call of ROUTED_CALLS) {
          expectSessionNotFound(
            await postLegacy(host, routedRequest(call), sessionId, { authorization: impostor }),
            `${call.method} with ${what}`,
          );
        }
        expect(initializesCarrying(impostor)).toEqual([]);
      };

      it('is refused with an unsigned JWT (alg none) of the same iss and sub', async () => {
        const [unsigned] = await impostorsOf(subject);
        await refusesImpostor(unsigned!.what, unsigned!.authorization);
      });

      it('is refused with a JWT of the same iss and sub signed by another key', async () => {
        const [, resigned] = await impostorsOf(subject);
        await refusesImpostor(resigned!.what, resigned!.authorization);
      });

      it('is refused with a refreshed JWT of the same iss and sub (another token string)', async () => {
        await refusesImpostor('a refreshed JWT', await signedBearer(subject, idpKey));
      });
    });

    it('refuses a session made without Authorization when it comes with any', async () => {
      const sessionId = await victimSession(undefined);
      const bearer = opaqueBearer('ATTACKER');
      const jwt = await signedBearer({ iss: 'https://idp.example.com', sub: 'anyone' });
      secrets.push(bearer, jwt);
      for (const authorization of [bearer, jwt, 'Basic dXNlcjpwdw==']) {
        for (const call of ROUTED_CALLS) {
          expectSessionNotFound(
            await postLegacy(host, routedRequest(call), sessionId, { authorization }),
            `${call.method} with ${authorization.split(' ')[0]}`,
          );
        }
      }
    });

    it('answers 404 to session ids it never issued: forged, unsigned, truncated, garbage, expired', async () => {
      const victim = opaqueBearer('VICTIM');
      secrets.push(victim);
      const real = await victimSession(victim);
      for (const forged of await forgedSessionIds(real)) {
        secrets.push(forged.token);
        const call = await postLegacy(host, routedRequest(ROUTED_CALLS[0]), forged.token, { authorization: victim });
        expect({ what: `tools/call on ${forged.what}`, status: call.status }).toEqual({
          what: `tools/call on ${forged.what}`,
          status: 404,
        });
        const stream = await host.fetch({
          method: 'GET',
          headers: { accept: 'text/event-stream', 'mcp-session-id': forged.token, authorization: victim },
        });
        expect({ what: `GET on ${forged.what}`, status: stream.status }).toEqual({
          what: `GET on ${forged.what}`,
          status: 404,
        });
      }
    });

    it("keeps a 2026-07-28 caller off another caller's backend session on a legacy upstream when only iss and sub match", async () => {
      const subject: Subject = { iss: 'https://idp.example.com', sub: `victim-${randomUUID()}` };
      const victim = await signedBearer(subject);
      secrets.push(victim);
      const call = (id: string, authorization: string) =>
        postModern(host, { id, method: 'tools/call', params: { name: 'p_honest', arguments: {} } }, { authorization });

      const own = await call('victim-call', victim);
      expect(responsesOf(own.messages)[0]?.['result']).toMatchObject({ content: realContent('plain', 'honest') });
      const victimBackend = plain.calls.find((c) => c.id === 'victim-call')?.sessionId;
      expect(plain.sessions.find((s) => s.sessionId === victimBackend)?.authorization).toBe(victim);

      for (const impostor of await impostorsOf(subject)) {
        secrets.push(impostor.authorization);
        const id = `impostor-call-${randomUUID()}`;
        await call(id, impostor.authorization);
        const arrived = plain.calls.find((c) => c.id === id);
        expect({ what: impostor.what, arrived: arrived !== undefined }).toEqual({ what: impostor.what, arrived: true });
        expect({ what: impostor.what, onVictimsSession: arrived?.sessionId === victimBackend }).toEqual({
          what: impostor.what,
          onVictimsSession: false,
        });
        const createdFor = plain.sessions.find((s) => s.sessionId === arrived?.sessionId)?.authorization;
        expect({ what: impostor.what, createdForTheImpostor: createdFor === impostor.authorization }).toEqual({
          what: impostor.what,
          createdForTheImpostor: true,
        });
      }
    });

    it('writes none of the presented credentials or session ids to its log', async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const logs = host.logs();
      // The capture works: the host has logged something (its start at least).
      expect(logs).toMatch(/"level":"info"/);
      const leaked = secrets.filter((secret) => logs.includes(secret.replace(/^(Bearer|Basic) /, '')));
      expect(leaked).toEqual([]);
    });
  });
}

/** Polls tools/list on a fresh anonymous session until every name in `names` is listed. */
export async function waitForTools(host: HttpHost, names: readonly string[], timeoutMs = 20_000): Promise<void> {
  const sessionId = await openLegacySession(host);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await postLegacy(host, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, sessionId);
    const tools = (responsesOf(answer.messages)[0]?.['result'] as { tools?: { name: string }[] } | undefined)?.tools;
    const listed = tools?.map((tool) => tool.name) ?? [];
    if (names.every((name) => listed.includes(name))) return;
    if (Date.now() > deadline)
      throw new Error(`the ${host.kind} never listed ${names.join(', ')} (listed: ${listed.join(', ')})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
