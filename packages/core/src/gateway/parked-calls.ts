import type { ServerConfig } from '../config/schema.ts';
import type { JsonRpcId } from '../protocol/json-rpc.ts';
import type { UpstreamMessages } from './message-relay.ts';

/** Prefix of the requestState the gateway mints for a parked legacy call (then a sealed token; never an upstream's own). */
export const PARKED_STATE_PREFIX = 'mcpgw-parked:';

/** How long a parked call waits for the client's retry. */
export const DEFAULT_PARK_MS = 5 * 60_000;

/**
 * A legacy upstream's call waiting for a modern client's input: the upstream asked (elicitation,
 * sampling, roots) on the call's stream, the client got an InputRequiredResult, and the
 * upstream's stream stays open here until the client retries with `inputResponses`.
 */
export interface ParkedCall {
  readonly server: ServerConfig;
  readonly backendSessionId: string;
  /** Headers the backend session was made with (the caller's identity). */
  readonly identityHeaders: Record<string, string>;
  /** The negotiated version of the backend session. */
  readonly protocolVersion?: string;
  /** Who may resume it: the caller's identity hash; undefined for anonymous callers. */
  readonly caller: string | undefined;
  /** The id the upstream's result will carry (the original call's). */
  readonly upstreamCallId: JsonRpcId;
  /** The upstream's own id of the request it is waiting on, keyed by the inputRequests key. */
  readonly waiting: ReadonlyMap<string, JsonRpcId>;
  readonly upstream: UpstreamMessages;
  /** Ends the backend session when it was made for this call only (anonymous callers). */
  readonly release: () => void;
}

/** Parked calls of this process, bounded in number and time. */
export interface ParkedCalls {
  /** Parks a call and returns its local id (sealed into the requestState the client echoes). */
  park(call: ParkedCall): string;
  /** Takes the call of that id, if it is parked in this process and not expired. */
  take(id: string): ParkedCall | undefined;
  /** Cancels every parked call. */
  clear(): void;
}

/** Creates the registry; the oldest parked call is cancelled when `limit` is reached. */
export function createParkedCalls(options: { parkMs?: number; limit?: number } = {}): ParkedCalls {
  const parkMs = options.parkMs ?? DEFAULT_PARK_MS;
  const limit = options.limit ?? 1024;
  const calls = new Map<string, { call: ParkedCall; timer: ReturnType<typeof setTimeout> }>();
  const drop = (state: string) => {
    const entry = calls.get(state);
    if (entry === undefined) return;
    calls.delete(state);
    clearTimeout(entry.timer);
    entry.call.upstream.cancel();
    entry.call.release();
  };
  return {
    park(call) {
      if (calls.size >= limit) drop(calls.keys().next().value as string);
      const state = crypto.randomUUID();
      const timer = setTimeout(() => drop(state), parkMs);
      (timer as { unref?: () => void }).unref?.();
      calls.set(state, { call, timer });
      return state;
    },
    take(state) {
      const entry = calls.get(state);
      if (entry === undefined) return undefined;
      calls.delete(state);
      clearTimeout(entry.timer);
      return entry.call;
    },
    clear() {
      for (const state of [...calls.keys()]) drop(state);
    },
  };
}
