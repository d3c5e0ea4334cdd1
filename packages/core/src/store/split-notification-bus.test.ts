import { describe, expect, it } from 'vitest';
import { BROADCAST_TOPIC, createMemoryNotificationBus, sessionTopic, type BusMessage } from './notification-bus.ts';
import { createSplitNotificationBus } from './split-notification-bus.ts';

function setup() {
  const local = createMemoryNotificationBus();
  const shared = createMemoryNotificationBus();
  const bus = createSplitNotificationBus({ local, shared, isShared: (topic) => topic !== BROADCAST_TOPIC });
  return { local, shared, bus };
}

describe('createSplitNotificationBus', () => {
  it('publishes shared topics on the shared bus only', async () => {
    const { local, shared, bus } = setup();
    const onShared: BusMessage[] = [];
    const onLocal: BusMessage[] = [];
    shared.subscribe(sessionTopic('j1'), (m) => onShared.push(m));
    local.subscribe(sessionTopic('j1'), (m) => onLocal.push(m));
    await bus.publish(sessionTopic('j1'), { method: 'x' });
    expect(onShared).toEqual([{ method: 'x' }]);
    expect(onLocal).toEqual([]);
  });

  it('keeps other topics on the local bus', async () => {
    const { local, shared, bus } = setup();
    const onShared: BusMessage[] = [];
    const onLocal: BusMessage[] = [];
    shared.subscribe(BROADCAST_TOPIC, (m) => onShared.push(m));
    local.subscribe(BROADCAST_TOPIC, (m) => onLocal.push(m));
    await bus.publish(BROADCAST_TOPIC, { method: 'y' });
    expect(onLocal).toEqual([{ method: 'y' }]);
    expect(onShared).toEqual([]);
  });

  it('subscribes each topic on the bus that carries it, and unsubscribes there', async () => {
    const { local, shared, bus } = setup();
    const received: BusMessage[] = [];
    const offSession = bus.subscribe(sessionTopic('j2'), (m) => received.push(m));
    const offBroadcast = bus.subscribe(BROADCAST_TOPIC, (m) => received.push(m));
    await shared.publish(sessionTopic('j2'), { n: 1 });
    await local.publish(BROADCAST_TOPIC, { n: 2 });
    await local.publish(sessionTopic('j2'), { n: 3 });
    await shared.publish(BROADCAST_TOPIC, { n: 4 });
    offSession();
    offBroadcast();
    await shared.publish(sessionTopic('j2'), { n: 5 });
    await local.publish(BROADCAST_TOPIC, { n: 6 });
    expect(received).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('closes both buses', async () => {
    const closed: string[] = [];
    const fake = (name: string) => ({ ...createMemoryNotificationBus(), close: async () => void closed.push(name) });
    const bus = createSplitNotificationBus({ local: fake('local'), shared: fake('shared'), isShared: () => true });
    await bus.close();
    expect(closed.sort()).toEqual(['local', 'shared']);
  });
});
