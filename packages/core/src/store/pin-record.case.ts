import { beforeEach, expect, it } from 'vitest';
import { MAX_PINNED_TOOLS, MAX_PIN_RECORD_BYTES, type PinRecord } from './pin-record.ts';
import type { SessionStore } from './session-store.ts';

/** What `runSessionStoreCase` gives the pin cases: its store and its clock. */
export interface PinRecordCaseContext {
  /** The store of the current test. */
  store(): SessionStore;
  /** Moves the store's clock forward by `ms`. */
  advance(ms: number): void;
}

const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;

function record(revision: number, description: string): PinRecord {
  return {
    revision,
    tools: { read_file: { digest: DIGEST_A, definition: { description, inputSchema: { type: 'object' } } } },
    quarantined:
      revision === 1
        ? {}
        : {
            write_file: {
              change: 'added',
              currentDigest: DIGEST_B,
              definition: { description: 'Writes a file', inputSchema: { type: 'object' } },
            },
          },
  };
}

/**
 * The behaviour of `readPins` and `writePins` every SessionStore must show; registered by
 * `runSessionStoreCase` inside its own describe, so that each implementation runs it.
 */
export function runPinRecordCase({ store, advance }: PinRecordCaseContext): void {
  // Fresh per test, so that shared backends (Redis) never see another test's records.
  let server: string;
  beforeEach(() => {
    server = `files-${crypto.randomUUID()}`;
  });

  it('reads no record for a server whose pins were never written', async () => {
    expect(await store().readPins(server)).toBeUndefined();
  });

  it('writes the first record and reads it back as written, for as long as it is kept', async () => {
    expect(await store().writePins(server, record(1, 'Reads a file'))).toBe(true);
    advance(400 * 86_400_000);

    expect(await store().readPins(server)).toEqual(record(1, 'Reads a file'));
  });

  it('refuses a first record when another writer wrote one first, and keeps the winner', async () => {
    expect(await store().writePins(server, record(1, 'winner'))).toBe(true);

    expect(await store().writePins(server, record(1, 'loser'))).toBe(false);
    expect(await store().readPins(server)).toEqual(record(1, 'winner'));
  });

  it('writes a record only over the revision before it', async () => {
    await store().writePins(server, record(1, 'one'));

    expect(await store().writePins(server, record(3, 'three'))).toBe(false);
    expect(await store().writePins(server, record(2, 'two'))).toBe(true);
    expect(await store().writePins(server, record(2, 'two again'))).toBe(false);
    expect(await store().readPins(server)).toEqual(record(2, 'two'));
  });

  it('keeps a pin known only by its digest (seeded from pinning.pinned) as written', async () => {
    const seeded: PinRecord = {
      revision: 1,
      tools: { read_file: { digest: DIGEST_A } },
      quarantined: {
        read_file: { change: 'changed', approvedDigest: DIGEST_A, currentDigest: DIGEST_B, definition: {} },
      },
    };
    expect(await store().writePins(server, seeded)).toBe(true);

    expect(await store().readPins(server)).toEqual(seeded);
  });

  it('keeps the records of two servers apart', async () => {
    await store().writePins(server, record(1, 'first server'));
    await store().writePins(`${server}-other`, record(1, 'second server'));

    expect((await store().readPins(server))?.tools['read_file']?.definition?.['description']).toBe('first server');
  });

  it(`refuses a record of more than ${MAX_PINNED_TOOLS} tools with INVALID_PARAMS`, async () => {
    const tools = Object.fromEntries(
      Array.from({ length: MAX_PINNED_TOOLS + 1 }, (_, i) => [`t${i}`, { digest: DIGEST_A, definition: {} }]),
    );

    await expect(store().writePins(server, { revision: 1, tools, quarantined: {} })).rejects.toMatchObject({
      code: 'INVALID_PARAMS',
      message: expect.stringContaining(`at most ${MAX_PINNED_TOOLS} tools`),
    });
    expect(await store().readPins(server)).toBeUndefined();
  });

  it('refuses a record over 4 MiB with INVALID_PARAMS', async () => {
    const description = 'x'.repeat(MAX_PIN_RECORD_BYTES);

    await expect(store().writePins(server, record(1, description))).rejects.toMatchObject({
      code: 'INVALID_PARAMS',
      message: expect.stringContaining(`at most ${MAX_PIN_RECORD_BYTES} bytes`),
    });
  });

  it('stores a record of over a megabyte whole', async () => {
    const description = 'é'.repeat(700_000);
    await store().writePins(server, record(1, description));

    expect((await store().readPins(server))?.tools['read_file']?.definition?.['description']).toBe(description);
  });
}
