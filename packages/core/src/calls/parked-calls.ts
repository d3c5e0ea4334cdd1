import type { ServerConfig } from '../config/schema.ts';
import type { JsonRpcId } from '../protocol/json-rpc.ts';
import type { MessageSource } from '../relay/upstream-messages.ts';
import type { SessionTokens } from '../session/session-token.ts';

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
  readonly upstream: MessageSource;
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

/** What a parked call's `requestState` holds, sealed: enough for any replica to answer the upstream and resume its stream. */
export interface ParkedState {
  /** The call's id in the ParkedCalls of the process that parked it. */
  readonly local: string;
  readonly server: string;
  readonly backendSessionId: string;
  /** The id the upstream's result will carry. */
  readonly upstreamCallId: JsonRpcId;
  /** The upstream's ids of the requests it waits on, by inputRequests key. */
  readonly waiting: readonly (readonly [string, JsonRpcId])[];
  readonly lastEventId?: string;
  readonly protocolVersion?: string;
  /** Who may resume it (the caller's identity); absent for anonymous callers. */
  readonly caller?: string;
}

/** Seals a parked call's state into the `requestState` the client echoes (signed, expiring with the park). */
export async function sealParkedState(tokens: Pick<SessionTokens, 'seal'>, state: ParkedState): Promise<string> {
  const sealed = await tokens.seal(
    {
      p: state.local,
      s: state.server,
      b: state.backendSessionId,
      c: state.upstreamCallId,
      w: state.waiting,
      ...(state.lastEventId === undefined ? {} : { e: state.lastEventId }),
      ...(state.protocolVersion === undefined ? {} : { v: state.protocolVersion }),
      ...(state.caller === undefined ? {} : { u: state.caller }),
    },
    Math.ceil(DEFAULT_PARK_MS / 1000),
  );
  return `${PARKED_STATE_PREFIX}${sealed}`;
}

/** Opens a `requestState` sealed by sealParkedState; undefined when forged, expired or malformed. */
export async function openParkedState(
  tokens: Pick<SessionTokens, 'open'>,
  requestState: string,
): Promise<ParkedState | undefined> {
  if (!requestState.startsWith(PARKED_STATE_PREFIX)) return undefined;
  const state = await tokens.open(requestState.slice(PARKED_STATE_PREFIX.length));
  if (state === undefined) return undefined;
  const { p, s, b, c, w, e, v, u } = state;
  if (typeof p !== 'string' || typeof s !== 'string' || typeof b !== 'string') return undefined;
  if ((typeof c !== 'string' && typeof c !== 'number') || !Array.isArray(w)) return undefined;
  const waiting = w.filter(
    (entry): entry is [string, JsonRpcId] =>
      Array.isArray(entry) &&
      typeof entry[0] === 'string' &&
      (typeof entry[1] === 'string' || typeof entry[1] === 'number'),
  );
  return {
    local: p,
    server: s,
    backendSessionId: b,
    upstreamCallId: c,
    waiting,
    ...(typeof e === 'string' ? { lastEventId: e } : {}),
    ...(typeof v === 'string' ? { protocolVersion: v } : {}),
    ...(typeof u === 'string' ? { caller: u } : {}),
  };
}
