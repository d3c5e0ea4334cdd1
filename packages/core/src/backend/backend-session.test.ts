import { afterEach, describe, expect, it } from 'vitest';
import { startSdkUpstream, type SdkUpstream } from '../../../../test/harness/sdk-upstream.ts';
import type { ServerConfig } from '../config/schema.ts';
import { NOOP_LOGGER } from '../logger.ts';
import type { SessionClaims } from '../session/session-token.ts';
import { createMemorySessionStore } from '../store/memory-session-store.ts';
import { createMemoryNotificationBus, type BusMessage } from '../store/notification-bus.ts';
import { createUpstreamClient } from '../upstream/upstream-client.ts';
import { backendSessionTopic, ensureBackendSession } from './backend-session.ts';

const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
});

async function setup() {
  const upstream: SdkUpstream = await startSdkUpstream({ setup: () => {} });
  stops.push(() => upstream.stop());
  const server: ServerConfig = {
    name: 'weather',
    url: upstream.url,
    hostname: '127.0.0.1',
    prefix: 'w_',
    enabled: true,
    userSpecificList: false,
    category: [],
    tags: [],
  };
  const store = createMemorySessionStore();
  const bus = createMemoryNotificationBus();
  stops.push(
    () => store.close(),
    () => bus.close(),
  );
  const client = createUpstreamClient({ server, logger: NOOP_LOGGER });
  const open = (claims: SessionClaims) =>
    ensureBackendSession({ store, bus, logger: NOOP_LOGGER }, claims, new Headers(), server, client);
  return { bus, open };
}

const claims = (extra: Partial<SessionClaims> = {}): SessionClaims => ({
  jti: `jti-${crypto.randomUUID()}`,
  exp: Math.floor(Date.now() / 1000) + 600,
  protocolVersion: '2025-11-25',
  clientCapabilities: {},
  ...extra,
});

describe('ensureBackendSession', () => {
  it('announces a new backend session and hands it out once the listener says its stream is open', async () => {
    const { bus, open } = await setup();
    const session = claims();
    const heard: BusMessage[] = [];
    let answered = 0;
    bus.subscribe(backendSessionTopic(session.jti), (message) => {
      heard.push(message);
      // The listener opens the upstream's stream, then answers (here: 100 ms later).
      setTimeout(() => {
        answered += 1;
        void bus.publish(message['ready'] as string, { open: true });
      }, 100);
    });

    const id = await open(session);

    expect(heard[0]).toMatchObject({ server: 'weather', backendSessionId: id, ready: expect.any(String) });
    expect(answered).toBeGreaterThanOrEqual(1);
  });

  it('announces once and waits for nobody when no notification stream listens and none is expected', async () => {
    const { bus, open } = await setup();
    const session = claims({ iat: Math.floor(Date.now() / 1000), clientCapabilities: {} });
    const publish = bus.publish.bind(bus);
    const announced: string[] = [];
    bus.publish = (topic, message) => {
      announced.push(topic);
      return publish(topic, message);
    };

    await open(session);

    expect(announced).toEqual([backendSessionTopic(session.jti)]);
  });

  it('gives a young session whose client can be asked things a moment for its stream to appear', async () => {
    const { bus, open } = await setup();
    const session = claims({ iat: Math.floor(Date.now() / 1000), clientCapabilities: { sampling: {} } });
    let answered = false;
    // The client's stream opens 150 ms after the first call began.
    setTimeout(() => {
      bus.subscribe(backendSessionTopic(session.jti), (message) => {
        answered = true;
        void bus.publish(message['ready'] as string, { open: true });
      });
    }, 150);

    await open(session);

    expect(answered).toBe(true);
  });
});
