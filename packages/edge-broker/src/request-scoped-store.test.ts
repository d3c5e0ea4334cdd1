import { createMemorySessionStore, type SessionStore } from '@mcp-gateway/core';
import { describe, expect, it, vi } from 'vitest';
import { closeAfterResponse, createRequestScopedStore, createStoreScope } from './request-scoped-store.ts';

function memoryScope() {
  const store = createMemorySessionStore();
  const release = vi.fn(async (_: SessionStore) => {});
  const open = vi.fn(async () => ({ store, handle: store }));
  return { store, open, release, scope: createStoreScope(open, release) };
}

describe('createRequestScopedStore', () => {
  it('sends each call to the store of the request it runs in, even when requests interleave', async () => {
    const scoped = createRequestScopedStore();
    const first = memoryScope();
    const second = memoryScope();

    await Promise.all([
      scoped.run(first.scope, async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        await scoped.store.terminate('jti-1', 60);
      }),
      scoped.run(second.scope, () => scoped.store.ensureBackendSession('jti-1', 'weather', 60, async () => 'b1')),
    ]);

    expect(await first.store.lookup('jti-1')).toEqual({ terminated: true });
    expect(await second.store.lookup('jti-1', 'weather')).toEqual({ terminated: false, backendSessionId: 'b1' });
  });

  it('rejects with STORE_UNAVAILABLE outside of a request', async () => {
    const scoped = createRequestScopedStore();

    await expect(scoped.store.lookup('jti-1')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });
});

describe('createStoreScope', () => {
  it('opens its store once, on first use, and releases it once', async () => {
    const { open, release, scope } = memoryScope();
    expect(open).not.toHaveBeenCalled();

    await Promise.all([scope.store(), scope.store()]);
    await scope.close();
    await scope.close();

    expect(open).toHaveBeenCalledTimes(1);
    expect(release).toHaveBeenCalledTimes(1);
    await expect(scope.store()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });

  it('releases nothing when the request never used its store', async () => {
    const { open, release, scope } = memoryScope();

    await scope.close();

    expect(open).not.toHaveBeenCalled();
    expect(release).not.toHaveBeenCalled();
  });

  it('tries again after a failed open', async () => {
    const store = createMemorySessionStore();
    const open = vi
      .fn<() => Promise<{ store: SessionStore; handle: null }>>()
      .mockRejectedValueOnce(new Error('connection refused'))
      .mockResolvedValue({ store, handle: null });
    const scope = createStoreScope(open, async () => {});

    await expect(scope.store()).rejects.toThrow('connection refused');
    expect(await scope.store()).toBe(store);
  });
});

describe('closeAfterResponse', () => {
  const waitUntil = () => {
    const kept: Promise<unknown>[] = [];
    return { kept, fn: (promise: Promise<unknown>) => void kept.push(promise) };
  };

  it('closes once the body has been read to its end', async () => {
    const close = vi.fn(async () => {});
    const { kept, fn } = waitUntil();
    const response = closeAfterResponse(new Response('data: one\n\n', { status: 200 }), close, fn);

    expect(close).not.toHaveBeenCalled();
    expect(await response.text()).toBe('data: one\n\n');
    await Promise.all(kept);
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('closes when the client cancels the body', async () => {
    const close = vi.fn(async () => {});
    const { kept, fn } = waitUntil();
    const endless = new ReadableStream<Uint8Array>({ pull: (controller) => controller.enqueue(new Uint8Array(1)) });
    const response = closeAfterResponse(new Response(endless), close, fn);

    await response.body?.cancel();
    await Promise.all(kept);
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('closes at once when there is no body, keeping status and headers', async () => {
    const close = vi.fn(async () => {});
    const { kept, fn } = waitUntil();
    const response = closeAfterResponse(new Response(null, { status: 202, headers: { 'x-a': '1' } }), close, fn);

    await Promise.all(kept);
    expect(close).toHaveBeenCalledTimes(1);
    expect(response.status).toBe(202);
    expect(response.headers.get('x-a')).toBe('1');
  });
});
