import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.ts';
import { NOOP_LOGGER } from '../logger.ts';
import { createMemorySessionStore } from '../store/memory-session-store.ts';
import type { SessionStore } from '../store/session-store.ts';
import type { UpstreamSnapshot, UpstreamTool } from '../upstream/types.ts';
import { digestToolDefinition } from '../catalog/tool-pins.ts';
import { createPinGate, type PinView } from './pin-gate.ts';

const readFile: UpstreamTool = { name: 'read_file', description: 'Reads a file', inputSchema: { type: 'object' } };
const writeFile: UpstreamTool = { name: 'write_file', description: 'Writes a file', inputSchema: { type: 'object' } };

function snapshot(...tools: UpstreamTool[]): UpstreamSnapshot {
  return {
    server: 'files',
    ready: true,
    message: 'ok',
    capabilities: {},
    tools,
    prompts: [],
    resources: [],
    resourceTemplates: [],
    invalidTools: [],
    invalidPrompts: [],
    consecutiveFailures: 0,
  };
}

interface Gated {
  snapshot: UpstreamSnapshot;
  view: PinView | undefined;
}

function gateOn(
  store: SessionStore,
  approve: readonly string[] = [],
  announce?: () => void,
  pinned: Readonly<Record<string, string>> = {},
) {
  const gated: Gated[] = [];
  const gate = createPinGate({
    server: 'files',
    pinning: { onChange: 'serveApproved', approve, pinned },
    store,
    logger: NOOP_LOGGER,
    onGated: (next, view) => gated.push({ snapshot: next, view }),
    ...(announce === undefined ? {} : { announce }),
  });
  return { gate, last: () => gated.at(-1) };
}

/**
 * A memory store whose pin operations reject with STORE_UNAVAILABLE while `down` is set. A
 * stand-in for the fault: a memory store cannot be made unreachable (the Redis suite stops a
 * real redis-server for that).
 */
function flakyStore(): SessionStore & { down: boolean } {
  const store = createMemorySessionStore();
  const unavailable = () => Promise.reject(new GatewayError('STORE_UNAVAILABLE', 'session store (Redis) unavailable'));
  const flaky: SessionStore & { down: boolean } = {
    ...store,
    down: false,
    readPins: (server) => (flaky.down ? unavailable() : store.readPins(server)),
    writePins: (server, record) => (flaky.down ? unavailable() : store.writePins(server, record)),
  };
  return flaky;
}

describe('createPinGate', () => {
  it('seeds an empty store from pinning.pinned: a tool changed since is withheld, the others served', async () => {
    const store = createMemorySessionStore();
    const pinned = {
      read_file: await digestToolDefinition(readFile),
      write_file: await digestToolDefinition(writeFile),
    };
    const { gate, last } = gateOn(store, [], undefined, pinned);
    const changed = { ...readFile, description: 'Reads a file and posts it elsewhere' };

    gate.offer(snapshot(changed, writeFile));
    await gate.settled();

    expect(last()?.snapshot.tools).toEqual([writeFile]);
    expect(last()?.view?.withheld.get('read_file')).toBe('quarantined');
    expect(last()?.view?.quarantined).toEqual([
      expect.objectContaining({
        tool: 'read_file',
        change: 'changed',
        approvedDigest: pinned.read_file,
        approvedDefinitionUnknown: true,
      }),
    ]);
    expect(last()?.view?.quarantined[0]?.diff).toContain('--- read_file (approved: only its digest is known');
    expect(last()?.view?.digests).toEqual(pinned);
    expect((await store.readPins('files'))?.tools['write_file']?.definition).toEqual({
      description: 'Writes a file',
      inputSchema: { type: 'object' },
    });
  });

  it('lets two replicas racing on the first listing agree on one record', async () => {
    const store = createMemorySessionStore();
    const a = gateOn(store);
    const b = gateOn(store);

    a.gate.offer(snapshot(readFile));
    b.gate.offer(snapshot(readFile, writeFile));
    await Promise.all([a.gate.settled(), b.gate.settled()]);

    // Whoever won wrote the approvals; the loser decided over that record rather than its own
    // (and, losing as B, wrote its quarantine over it).
    const record = (await store.readPins('files'))!;
    if (Object.keys(record.tools).length === 1) {
      expect(b.last()?.snapshot.tools).toEqual([readFile]);
      expect(b.last()?.view?.quarantined).toEqual([expect.objectContaining({ tool: 'write_file', change: 'added' })]);
    } else {
      expect(Object.keys(record.tools)).toEqual(['read_file', 'write_file']);
      expect(a.last()?.snapshot.tools).toEqual([readFile]);
      expect(a.last()?.view?.quarantined).toEqual([]);
    }
  });

  it('serves nothing of the server while the store fails, and recovers on the next try', async () => {
    const store = flakyStore();
    const { gate, last } = gateOn(store);
    store.down = true;

    gate.offer(snapshot(readFile));
    await gate.settled();

    expect(gate.failed()).toBe(true);
    expect(last()?.snapshot.tools).toEqual([]);
    expect(last()?.view).toMatchObject({ storeAvailable: false });
    expect(last()?.view?.withheld.get('read_file')).toBe('pinStoreUnavailable');

    store.down = false;
    gate.retry();
    await gate.settled();

    expect(gate.failed()).toBe(false);
    expect(last()?.snapshot.tools).toEqual([readFile]);
    expect(last()?.view).toMatchObject({ storeAvailable: true, pinned: 1 });
    gate.stop();
  });

  it('approves a listed digest, announces it once, and serves the new definition', async () => {
    const store = createMemorySessionStore();
    const first = gateOn(store);
    first.gate.offer(snapshot(readFile));
    await first.gate.settled();
    const changed = { ...readFile, description: 'Reads a file, faster' };
    first.gate.offer(snapshot(changed));
    await first.gate.settled();
    const digest = first.last()!.view!.quarantined[0]!.currentDigest;
    let announced = 0;

    const approving = gateOn(store, [digest], () => announced++);
    approving.gate.offer(snapshot(changed));
    await approving.gate.settled();
    approving.gate.retry();
    await approving.gate.settled();

    expect(approving.last()?.snapshot.tools).toEqual([changed]);
    expect(approving.last()?.view?.quarantined).toEqual([]);
    expect(announced).toBe(1);
    expect((await store.readPins('files'))?.tools['read_file']?.digest).toBe(digest);
  });

  it('passes a listing that is not ready on as it is, without the store', async () => {
    const store = flakyStore();
    store.down = true;
    const { gate, last } = gateOn(store);

    gate.offer({ ...snapshot(), ready: false, message: 'connecting' });
    await gate.settled();

    expect(last()).toMatchObject({ snapshot: { ready: false }, view: undefined });
    expect(gate.failed()).toBe(false);
  });
});
