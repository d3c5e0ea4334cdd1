import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../harness/index.ts';
import { onSession, openSession } from './helpers.ts';

/** Opens GET /mcp and resolves once the stream's first bytes (the opening comment) arrived. */
async function openStream(url: string, sessionId: string) {
  const response = await fetch(url, { method: 'GET', headers: onSession(sessionId, { accept: 'text/event-stream' }) });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const first = await reader.read();
  expect(first.done).toBe(false);
  return {
    /** Resolves when the gateway ends the stream; reads and drops anything before the end. */
    async ended(): Promise<true> {
      for (;;) {
        const next = await reader.read();
        if (next.done) return true;
      }
    },
    cancel: () => reader.cancel().catch(() => {}),
  };
}

describe('the notification stream (GET /mcp)', () => {
  let gateway: RunningGateway;

  beforeAll(async () => {
    gateway = await startGateway({ config: 'servers: []\n' });
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it('keeps one stream per session: a new GET replaces the old one, which the gateway ends', async () => {
    const sessionId = await openSession(gateway.url);
    const first = await openStream(gateway.url, sessionId);
    const second = await openStream(gateway.url, sessionId);
    try {
      await expect(first.ended()).resolves.toBe(true);
    } finally {
      await first.cancel();
      await second.cancel();
    }
  });

  it('ends the open stream when the session is deleted', async () => {
    const sessionId = await openSession(gateway.url);
    const stream = await openStream(gateway.url, sessionId);
    try {
      const deleted = await fetch(gateway.url, { method: 'DELETE', headers: onSession(sessionId) });
      expect(deleted.status).toBe(200);
      await expect(stream.ended()).resolves.toBe(true);
    } finally {
      await stream.cancel();
    }
  });
});
