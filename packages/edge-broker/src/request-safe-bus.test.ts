import type { BusMessage } from '@mcp-gateway/core';
import { describe, expect, it } from 'vitest';
import { createRequestSafeNotificationBus } from './request-safe-bus.ts';

const message = (n: number): BusMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { n } });

describe('createRequestSafeNotificationBus', () => {
  it('delivers on the subscriber’s own timer, never inside publish', async () => {
    const bus = createRequestSafeNotificationBus({ pollMs: 5 });
    const received: BusMessage[] = [];
    const unsubscribe = bus.subscribe('session:a', (m) => received.push(m));

    await bus.publish('session:a', message(1));
    await bus.publish('session:a', message(2));
    expect(received).toEqual([]);

    await expect.poll(() => received).toEqual([message(1), message(2)]);
    unsubscribe();
  });

  it('keeps topics apart and stops delivering after unsubscribe', async () => {
    const bus = createRequestSafeNotificationBus({ pollMs: 5 });
    const a: BusMessage[] = [];
    const b: BusMessage[] = [];
    const stopA = bus.subscribe('session:a', (m) => a.push(m));
    const stopB = bus.subscribe('session:b', (m) => b.push(m));

    await bus.publish('session:b', message(1));
    await expect.poll(() => b).toEqual([message(1)]);
    expect(a).toEqual([]);

    stopA();
    await bus.publish('session:a', message(2));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(a).toEqual([]);
    stopB();
  });
});
