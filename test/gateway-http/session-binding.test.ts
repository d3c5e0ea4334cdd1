import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, startSdkUpstream, type RunningGateway, type SdkUpstream } from '../harness/index.ts';
import {
  bearerJwt,
  configYaml,
  echoAndGreet,
  onSession,
  openSession,
  post,
  request,
  toReply,
  waitForHealthy,
  type Reply,
} from './helpers.ts';

describe('sessions bound to the caller', () => {
  let upstream: SdkUpstream;
  let gateway: RunningGateway;
  let alice: string;
  let aliceRefreshed: string;
  let bob: string;

  beforeAll(async () => {
    upstream = await startSdkUpstream({ setup: echoAndGreet });
    gateway = await startGateway({ config: configYaml([{ name: 'echo', url: upstream.url, prefix: 'e_' }]) });
    await waitForHealthy(gateway, 1);
    alice = await bearerJwt({ sub: 'alice' });
    aliceRefreshed = await bearerJwt({ sub: 'alice' });
    bob = await bearerJwt({ sub: 'bob' });
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  const listTools = (sessionId: string, authorization?: string) =>
    post(
      gateway.url,
      request('tools/list'),
      onSession(sessionId, authorization === undefined ? {} : { authorization }),
    );

  const expectSessionNotFound = (reply: Reply) => {
    expect(reply.status).toBe(404);
    expect(reply.json?.error?.message).toMatch(/session not found/i);
  };

  it('serves a session to the caller whose bearer token created it', async () => {
    const sessionId = await openSession(gateway.url, { authorization: alice });
    const reply = await listTools(sessionId, alice);
    expect(reply.status).toBe(200);
    expect(reply.json?.result).toMatchObject({ tools: [{ name: 'e_echo' }] });

    const call = await post(
      gateway.url,
      request('tools/call', { name: 'e_echo', arguments: { text: 'alice' } }),
      onSession(sessionId, { authorization: alice }),
    );
    expect(call.json?.result).toMatchObject({ content: [{ type: 'text', text: 'echo: alice' }] });
  });

  it('refuses a refreshed token of the same subject, whose claims the gateway has not verified', async () => {
    expect(aliceRefreshed).not.toBe(alice);
    const sessionId = await openSession(gateway.url, { authorization: alice });
    expectSessionNotFound(await listTools(sessionId, aliceRefreshed));
    expect((await listTools(sessionId, alice)).status).toBe(200);
  });

  it("rejects a session presented with another caller's token or with none", async () => {
    const sessionId = await openSession(gateway.url, { authorization: alice });
    expectSessionNotFound(await listTools(sessionId, bob));
    expectSessionNotFound(await listTools(sessionId));
    // The same subject from another issuer is another caller.
    expectSessionNotFound(await listTools(sessionId, await bearerJwt({ sub: 'alice', iss: 'https://other.example' })));
    // The refusals do not end the session for its owner.
    expect((await listTools(sessionId, alice)).status).toBe(200);
  });

  it('binds a session created with an opaque token to exactly that token', async () => {
    const sessionId = await openSession(gateway.url, { authorization: 'Bearer opaque-token-1234' });
    expect((await listTools(sessionId, 'Bearer opaque-token-1234')).status).toBe(200);
    expectSessionNotFound(await listTools(sessionId, 'Bearer opaque-token-5678'));
    expectSessionNotFound(await listTools(sessionId));
  });

  it('rejects an anonymous session presented with a token', async () => {
    const sessionId = await openSession(gateway.url);
    expect((await listTools(sessionId)).status).toBe(200);
    expectSessionNotFound(await listTools(sessionId, alice));
    expectSessionNotFound(await listTools(sessionId, 'Bearer opaque-token-1234'));
  });

  it('does not mention the presented token in its refusal', async () => {
    const sessionId = await openSession(gateway.url, { authorization: alice });
    const reply = await listTools(sessionId, 'Bearer secret-token-of-mallory');
    expect(reply.status).toBe(404);
    expect(reply.text).not.toContain('secret-token-of-mallory');
    expect(gateway.logs()).not.toContain('secret-token-of-mallory');
  });
});

describe('ending a session with DELETE', () => {
  let upstream: SdkUpstream;
  let gateway: RunningGateway;

  beforeAll(async () => {
    upstream = await startSdkUpstream({ setup: echoAndGreet });
    gateway = await startGateway({ config: configYaml([{ name: 'echo', url: upstream.url, prefix: 'e_' }]) });
    await waitForHealthy(gateway, 1);
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  const send = async (method: 'GET' | 'DELETE', headers: Record<string, string>) => {
    const response = await fetch(gateway.url, { method, headers: { accept: 'text/event-stream', ...headers } });
    return toReply(response);
  };

  it('answers 404 to every later request on the ended session', async () => {
    const sessionId = await openSession(gateway.url);
    expect((await post(gateway.url, request('ping'), onSession(sessionId))).status).toBe(200);

    const ended = await send('DELETE', onSession(sessionId));
    expect(ended.status).toBe(200);

    for (const reply of [
      await post(gateway.url, request('tools/list'), onSession(sessionId)),
      await post(gateway.url, request('ping'), onSession(sessionId)),
      await post(
        gateway.url,
        request('tools/call', { name: 'e_echo', arguments: { text: 'late' } }),
        onSession(sessionId),
      ),
      await post(gateway.url, { jsonrpc: '2.0', method: 'notifications/initialized' }, onSession(sessionId)),
      await post(
        gateway.url,
        { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'r-1' } },
        onSession(sessionId),
      ),
      await post(gateway.url, { jsonrpc: '2.0', id: 'elicit-1', result: {} }, onSession(sessionId)),
      await send('GET', onSession(sessionId)),
      await send('DELETE', onSession(sessionId)),
    ]) {
      expect(reply.status).toBe(404);
      expect(reply.json?.error?.message).toMatch(/session not found/i);
    }
  });

  it('opens a notification stream on a live session and refuses it once the session ended', async () => {
    const sessionId = await openSession(gateway.url);
    const controller = new AbortController();
    const stream = await fetch(gateway.url, {
      headers: { accept: 'text/event-stream', ...onSession(sessionId) },
      signal: controller.signal,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    controller.abort();
    await stream.body?.cancel().catch(() => undefined);

    expect((await send('DELETE', onSession(sessionId))).status).toBe(200);
    const refused = await send('GET', onSession(sessionId));
    expect(refused.status).toBe(404);
  });

  it('closes the backend session the ended session held on the upstream', async () => {
    const sessionId = await openSession(gateway.url);
    const call = await post(
      gateway.url,
      request('tools/call', { name: 'e_echo', arguments: { text: 'before delete' } }),
      onSession(sessionId),
    );
    expect(call.json?.result).toMatchObject({ content: [{ text: 'echo: before delete' }] });
    const backendSession = upstream.requests.findLast((r) => r.method === 'tools/call')?.sessionId;
    expect(backendSession).toBeDefined();
    expect(upstream.sessions()).toContain(backendSession);

    expect((await send('DELETE', onSession(sessionId))).status).toBe(200);
    expect(upstream.sessions()).not.toContain(backendSession);
  });

  it("does not let another caller end someone else's session", async () => {
    const alice = await bearerJwt({ sub: 'alice' });
    const sessionId = await openSession(gateway.url, { authorization: alice });
    const refused = await send('DELETE', onSession(sessionId, { authorization: await bearerJwt({ sub: 'bob' }) }));
    expect(refused.status).toBe(404);
    expect((await post(gateway.url, request('ping'), onSession(sessionId, { authorization: alice }))).status).toBe(200);
  });
});
