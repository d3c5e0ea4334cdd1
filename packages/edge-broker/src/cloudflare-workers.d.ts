// The few Workers runtime types the edge broker uses, declared here rather than pulling in
// @cloudflare/workers-types, whose globals clash with the DOM and Node typings the rest of the
// package is checked against. Shapes follow https://developers.cloudflare.com/durable-objects/api/.

/** A Durable Object's storage (SQLite-backed class; the key-value methods). */
interface DurableObjectStorage {
  get<T>(key: string): Promise<T | undefined>;
  /** Several keys at once (at most 128); absent keys are absent from the map. */
  get<T>(keys: string[]): Promise<Map<string, T>>;
  put<T>(key: string, value: T): Promise<void>;
  /** Several entries at once (at most 128), atomically. */
  put<T>(entries: Record<string, T>): Promise<void>;
  delete(key: string): Promise<boolean>;
  deleteAll(): Promise<void>;
  /** The entries whose keys start with `prefix`, in key order. */
  list<T>(options: { prefix: string }): Promise<Map<string, T>>;
  getAlarm(): Promise<number | null>;
  setAlarm(scheduledTime: number | Date): Promise<void>;
  deleteAlarm(): Promise<void>;
}

/** What the runtime hands a Durable Object instance. */
interface DurableObjectState {
  readonly storage: DurableObjectStorage;
}

/** The id of one Durable Object instance. */
interface DurableObjectId {
  toString(): string;
}

/** A stub's view of an RPC method: every call is asynchronous. */
type DurableObjectRpc<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/** A Durable Object binding (`[[durable_objects.bindings]]`). */
interface DurableObjectNamespace<T = unknown> {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): DurableObjectRpc<T>;
}

declare module 'cloudflare:workers' {
  /** Base class of Durable Objects whose public methods are callable over RPC from a stub. */
  export abstract class DurableObject<Env = unknown> {
    protected readonly ctx: DurableObjectState;
    protected readonly env: Env;
    constructor(ctx: DurableObjectState, env: Env);
  }
}
