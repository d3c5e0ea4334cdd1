import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRedis, type RunningRedis } from '../../../../test/harness/redis.ts';
import { BROADCAST_TOPIC, sessionTopic, type BusMessage } from '../store/notification-bus.ts';
import { connectRedis } from './redis-connection.ts';
import { createRedisNotificationBus, type RedisNotificationBus } from './redis-notification-bus.ts';

const listChanged: BusMessage = { jsonrpc: '2.0', method: 'notifications/tools/list_changed' };

let server: RunningRedis;
let connections: Redis[] = [];
let buses: RedisNotificationBus[] = [];

beforeAll(async () => {
  server = await startRedis();
});

afterEach(async () => {
  await Promise.all(buses.map((bus) => bus.close()));
  connections.forEach((connection) => connection.disconnect());
  buses = [];
  connections = [];
});

afterAll(async () => {
  await server?.stop();
});

/** A bus on connections of its own, as one gateway replica would have. */
async function replicaBus(): Promise<RedisNotificationBus> {
  const publisher = await connectRedis(server.url, { maxReconnectDelayMs: 200 });
  const subscriber = await connectRedis(server.url, { maxReconnectDelayMs: 200 });
  connections.push(publisher, subscriber);
  const bus = createRedisNotificationBus({ publisher, subscriber });
  buses.push(bus);
  return bus;
}

describe('createRedisNotificationBus', () => {
  it('delivers a message published on one replica to a subscriber on another', async () => {
    const [sender, receiver] = [await replicaBus(), await replicaBus()];
    const received: BusMessage[] = [];
    receiver.subscribe(sessionTopic('jti-1'), (message) => received.push(message));
    await receiver.subscribed();

    await sender.publish(sessionTopic('jti-1'), listChanged);

    await vi.waitFor(() => expect(received).toEqual([listChanged]));
  });

  it('delivers a topic only to its own listeners', async () => {
    const [sender, receiver] = [await replicaBus(), await replicaBus()];
    const one: BusMessage[] = [];
    const all: BusMessage[] = [];
    receiver.subscribe(sessionTopic('jti-1'), (message) => one.push(message));
    receiver.subscribe(BROADCAST_TOPIC, (message) => all.push(message));
    await receiver.subscribed();

    await sender.publish(sessionTopic('jti-2'), { method: 'for another session' });
    await sender.publish(BROADCAST_TOPIC, listChanged);

    // Redis delivers one subscriber's messages in publish order, so the broadcast comes last.
    await vi.waitFor(() => expect(all).toEqual([listChanged]));
    expect(one).toEqual([]);
  });

  it('stops delivering once the listener unsubscribes', async () => {
    const [sender, receiver] = [await replicaBus(), await replicaBus()];
    const received: BusMessage[] = [];
    const sentinel: BusMessage[] = [];
    const unsubscribe = receiver.subscribe(sessionTopic('jti-1'), (message) => received.push(message));
    receiver.subscribe(BROADCAST_TOPIC, (message) => sentinel.push(message));
    await receiver.subscribed();

    unsubscribe();
    await receiver.subscribed();
    await sender.publish(sessionTopic('jti-1'), listChanged);
    await sender.publish(BROADCAST_TOPIC, { method: 'sentinel' });

    await vi.waitFor(() => expect(sentinel).toHaveLength(1));
    expect(received).toEqual([]);
  });

  it('fails fast while Redis is down and subscribes every topic again when it is back', async () => {
    const [sender, receiver] = [await replicaBus(), await replicaBus()];
    const received: BusMessage[] = [];
    receiver.subscribe(BROADCAST_TOPIC, (message) => received.push(message));
    await receiver.subscribed();

    await server.stop();
    await expect(sender.publish(BROADCAST_TOPIC, listChanged)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    const late: BusMessage[] = [];
    receiver.subscribe(sessionTopic('jti-late'), (message) => late.push(message));
    await expect(receiver.subscribed()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });

    await server.restart();
    // Publish until the receiver is subscribed again (a message sent before that is lost, by design).
    await vi.waitFor(
      async () => {
        await sender.publish(BROADCAST_TOPIC, listChanged);
        await sender.publish(sessionTopic('jti-late'), listChanged);
        expect(received.length).toBeGreaterThan(0);
        expect(late.length).toBeGreaterThan(0);
      },
      { timeout: 10_000, interval: 50 },
    );
    await receiver.subscribed();
  });
});
