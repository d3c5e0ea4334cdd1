import type { NotificationBus } from '../store/notification-bus.ts';
import type { SessionStore } from '../store/session-store.ts';
import { INPUT_REQUEST_MARKER, inputAnswerTopic, PENDING_REQUEST_TTL_SECONDS } from './server-requests.ts';

/** What asking the client needs: where the pending request is kept and where its answer arrives. */
export interface ClientInputDeps {
  readonly store: SessionStore;
  readonly bus: NotificationBus;
}

/** One request the gateway itself puts to a legacy client on a call's stream. */
export interface ClientInputRequest {
  /** The gateway session the client's answer must come on. */
  readonly jti: string;
  /** What the request stands for (an input request's key). */
  readonly key: string;
  readonly method: string;
  readonly params: unknown;
  readonly timeoutMs: number;
  /** Aborted when the call is given up (the client went away). */
  readonly signal: AbortSignal;
}

/** How asking ended: the client's answer (a result or a JSON-RPC error), no answer in time, or the call given up. */
export type ClientInputAnswer =
  | { readonly kind: 'answer'; readonly message: Readonly<Record<string, unknown>> }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'aborted' };

/**
 * Sends the client a request of the gateway's own (a fresh gateway id, remembered in the store
 * as {@link INPUT_REQUEST_MARKER}) through `emit` and waits for its answer, which may reach any
 * replica: deliverClientResponse hands it over the bus. Used for a 2026-07-28 upstream's input
 * requests and for the gateway's own confirmation of a call.
 */
export async function askClientInput(
  deps: ClientInputDeps,
  request: ClientInputRequest,
  emit: (message: Record<string, unknown>) => void,
): Promise<ClientInputAnswer> {
  const gatewayId = crypto.randomUUID();
  let settle: (answer: ClientInputAnswer) => void = () => {};
  const settled = new Promise<ClientInputAnswer>((resolve) => (settle = resolve));
  const timer = setTimeout(() => settle({ kind: 'timeout' }), request.timeoutMs);
  const onAbort = () => settle({ kind: 'aborted' });
  request.signal.addEventListener('abort', onAbort, { once: true });
  const stop = deps.bus.subscribe(inputAnswerTopic(gatewayId), (message) => settle({ kind: 'answer', message }));
  try {
    if (request.signal.aborted) return { kind: 'aborted' };
    await deps.store.putPending(
      gatewayId,
      {
        jti: request.jti,
        server: INPUT_REQUEST_MARKER,
        backendSessionId: INPUT_REQUEST_MARKER,
        upstreamId: request.key,
      },
      PENDING_REQUEST_TTL_SECONDS,
    );
    emit({ jsonrpc: '2.0', id: gatewayId, method: request.method, params: request.params ?? {} });
    return await settled;
  } finally {
    clearTimeout(timer);
    request.signal.removeEventListener('abort', onAbort);
    stop();
  }
}
