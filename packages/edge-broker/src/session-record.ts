/**
 * What a gateway session's Durable Object keeps in storage, and the pure rules over it.
 * Deadlines are ms on the caller's clock (the worker's `now`), as in the Redis store: every
 * decision compares them with the `now` a call brings, so the object needs no clock of its own.
 */
export interface SessionRecord {
  /** When the record may be forgotten (ms, caller's clock). */
  expiresAt: number;
  /** Ended by DELETE: no backend session is stored any more. */
  terminated: boolean;
  /** Backend session id by upstream server name. */
  backends: Record<string, string>;
}

/** A pending server-to-client request with its deadline (ms, caller's clock). */
export interface PendingRecord<T> {
  expiresAt: number;
  entry: T;
}

/** The record if it is still live at `now`; undefined when absent or past its deadline. */
export function liveRecord(record: SessionRecord | undefined, now: number): SessionRecord | undefined {
  return record !== undefined && record.expiresAt > now ? record : undefined;
}

/** A fresh record that lives until `expiresAt`. */
export function newRecord(expiresAt: number): SessionRecord {
  return { expiresAt, terminated: false, backends: {} };
}

/**
 * The record after storing `id` for `server`, and the id callers must use: a terminated
 * session stores nothing and hands back `id`; an id already stored for the server wins.
 */
export function withBackend(
  record: SessionRecord,
  server: string,
  id: string,
  expiresAt: number,
): { record: SessionRecord; id: string; changed: boolean } {
  if (record.terminated) return { record, id, changed: false };
  const held = record.backends[server];
  if (held !== undefined) return { record, id: held, changed: false };
  return {
    record: {
      ...record,
      backends: { ...record.backends, [server]: id },
      expiresAt: Math.max(record.expiresAt, expiresAt),
    },
    id,
    changed: true,
  };
}

/** The record after a DELETE: no backends, terminated, living at least until `expiresAt`. */
export function terminated(record: SessionRecord | undefined, expiresAt: number): SessionRecord {
  return { expiresAt: Math.max(record?.expiresAt ?? 0, expiresAt), terminated: true, backends: {} };
}
