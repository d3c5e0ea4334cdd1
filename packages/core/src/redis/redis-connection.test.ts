import { describe, expect, it } from 'vitest';
import { freePort } from '../../../../test/harness/free-port.ts';
import { startRedis } from '../../../../test/harness/redis.ts';
import { connectRedis, describeRedisEndpoint, parseRedisUrl } from './redis-connection.ts';

describe('parseRedisUrl', () => {
  it('reads host, port and database 0 by default', () => {
    expect(parseRedisUrl('redis://cache.internal')).toEqual({ host: 'cache.internal', port: 6379, db: 0 });
  });

  it('reads a user, a percent-encoded password and a database', () => {
    expect(parseRedisUrl('redis://gateway:p%40ss%2Fword@10.0.0.5:6380/3')).toEqual({
      host: '10.0.0.5',
      port: 6380,
      db: 3,
      username: 'gateway',
      password: 'p@ss/word',
    });
  });

  it('reads a password without a user', () => {
    expect(parseRedisUrl('redis://:secret@localhost/1')).toMatchObject({ password: 'secret', db: 1 });
  });

  it('turns TLS on for rediss:// and strips the brackets of an IPv6 host', () => {
    expect(parseRedisUrl('rediss://[::1]:6390')).toEqual({ host: '::1', port: 6390, db: 0, tls: {} });
  });

  it.each([
    ['not a URL', 'cache:6379 with spaces'],
    ['another scheme', 'http://user:hunter2@cache:6379'],
    ['a database that is not a number', 'redis://:hunter2@cache:6379/sessions'],
  ])('rejects %s with CONFIG_INVALID and never repeats the password', (_case, url) => {
    expect(() => parseRedisUrl(url)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    try {
      parseRedisUrl(url);
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });
});

describe('describeRedisEndpoint', () => {
  it('names scheme, host, port and database without credentials', () => {
    expect(describeRedisEndpoint(parseRedisUrl('rediss://u:hunter2@[::1]:6390/2'))).toBe('rediss://[::1]:6390/2');
  });
});

describe('connectRedis', () => {
  it('rejects with STORE_UNAVAILABLE when nothing listens', async () => {
    const port = await freePort();

    await expect(connectRedis(`redis://:hunter2@127.0.0.1:${port}`, { connectTimeoutMs: 2_000 })).rejects.toSatisfy(
      (error: { code?: string; message?: string }) =>
        error.code === 'STORE_UNAVAILABLE' &&
        error.message?.startsWith(`Redis at redis://127.0.0.1:${port}/0 unreachable`) === true &&
        !error.message.includes('hunter2'),
    );
  });

  it('with requireConnection false, resolves while Redis is down and connects once it is up', async () => {
    const server = await startRedis();
    await server.stop();
    const redis = await connectRedis(server.url, { requireConnection: false, maxReconnectDelayMs: 100 });
    try {
      expect(redis.status).not.toBe('ready');
      await expect(redis.ping()).rejects.toThrow();
      await server.restart();
      const deadline = Date.now() + 10_000;
      while (redis.status !== 'ready' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });
});
