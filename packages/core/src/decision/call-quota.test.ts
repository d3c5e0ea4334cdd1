import { describe, expect, it } from 'vitest';
import { fakeServer } from '../catalog/catalog.fixtures.ts';
import { NOOP_LOGGER } from '../logger.ts';
import { createMemorySessionStore } from '../store/memory-session-store.ts';
import { admitCallQuota, quotaCheckFor, quotaOwner } from './call-quota.ts';
import { GatewayError } from '../errors.ts';

const SERVER = fakeServer('github', 'gh_', {
  quotas: [
    { tools: ['create_issue'], requests: 2, windowSeconds: 60 },
    { windowSeconds: 60, concurrentCalls: 1 },
  ],
});

describe('call quotas', () => {
  it('picks the quota naming the tool, else the one without tools, bucketed per caller', () => {
    const named = quotaCheckFor(SERVER, 'create_issue', quotaOwner('abc'), 10_000);
    expect(named).toMatchObject({
      key: 'github|create_issue|caller:abc',
      limits: { requests: { limit: 2, windowSeconds: 60 } },
    });
    expect(quotaCheckFor(SERVER, 'list_repos', quotaOwner(undefined), 10_000)).toMatchObject({
      key: 'github|*|anonymous',
      limits: { concurrent: { limit: 1, leaseSeconds: 40 } },
    });
    expect(quotaCheckFor(fakeServer('plain', ''), 'x', 'anonymous', 10_000)).toBeUndefined();
  });

  it('refuses past the limit with when to retry, and frees a concurrency slot on release', async () => {
    const store = createMemorySessionStore();
    try {
      const admit = () => admitCallQuota(store, SERVER, 'create_issue', 'abc', 10_000, NOOP_LOGGER);
      expect(await admit()).not.toBeInstanceOf(GatewayError);
      expect(await admit()).not.toBeInstanceOf(GatewayError);
      const refused = await admit();
      expect(refused).toBeInstanceOf(GatewayError);
      expect((refused as GatewayError).code).toBe('RATE_LIMITED');
      expect((refused as GatewayError).message).toMatch(
        /^quota exceeded for create_issue on github: at most 2 calls per 60 s; retry in \d+ s$/,
      );
      // Another caller has its own bucket.
      expect(await admitCallQuota(store, SERVER, 'create_issue', 'xyz', 10_000, NOOP_LOGGER)).not.toBeInstanceOf(
        GatewayError,
      );
      const slow = () => admitCallQuota(store, SERVER, 'export', undefined, 10_000, NOOP_LOGGER);
      const held = await slow();
      expect(((await slow()) as GatewayError).data).toMatchObject({ reason: 'concurrent', limit: 1 });
      (held as { release(): void }).release();
      await new Promise((resolve) => setImmediate(resolve));
      expect(await slow()).not.toBeInstanceOf(GatewayError);
    } finally {
      await store.close();
    }
  });
});
