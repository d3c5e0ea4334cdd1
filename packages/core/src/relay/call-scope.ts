import type { JsonRpcId } from '../protocol/json-rpc.ts';
import type { RelayedMessage } from './upstream-messages.ts';

/**
 * What an upstream message on a call's stream is to that call:
 * - `answer`: the response to the request the gateway forwarded (it ends the call);
 * - `notification`: a notification that belongs to the call (possibly rewritten);
 * - `server-request`: the upstream asks the client something (it needs a gateway id);
 * - `drop`: anything else, which must not reach the client.
 */
export type CallVerdict =
  | { readonly kind: 'answer' | 'notification' | 'server-request'; readonly message: RelayedMessage }
  | { readonly kind: 'drop'; readonly reason: string };

/** Notifications an upstream may send on a call's stream whatever they carry: log messages. */
const CALL_LOG_NOTIFICATION = 'notifications/message';

/** Most server-to-client requests of one call remembered for later cancellations. */
const MAX_NOTED_REQUESTS = 1024;

/** Most dropped messages logged per call at warn; further ones are counted only. */
const MAX_LOGGED_DROPS = 10;

/**
 * The scope of one forwarded call: an upstream is trusted only to answer the request the gateway
 * sent it. On the call's stream only the response carrying the forwarded id, progress with the
 * call's own progress token, log messages, and cancellations or completions of requests the
 * upstream asked on this very stream may reach the client; requests from the upstream go on
 * with gateway ids; everything else (a response to another id, even inside a batch; progress
 * with another call's token; list changes and other notifications) is dropped. One upstream
 * cannot answer for another, or for another call of the same client.
 */
export interface CallScope {
  judge(message: RelayedMessage): CallVerdict;
  /** Notes a server-to-client request relayed on this call under `gatewayId` (later cancels refer to it). */
  noteServerRequest(message: RelayedMessage, gatewayId: string): void;
  /** Records a drop; true when it should be logged at warn (the first few per call). */
  countDrop(): boolean;
}

/** What a call scope needs to know of the forwarded request. */
export interface CallScopeOptions {
  /** The id the upstream must answer (the one sent upstream). */
  readonly requestId: JsonRpcId;
  /** The request's `params` as sent upstream: `_meta.progressToken` names the call's progress. */
  readonly params?: unknown;
  /** Told the call's answer when the upstream gives it (metrics and traces record how the call went). */
  readonly onAnswer?: ((answer: RelayedMessage) => void) | undefined;
}

/** Creates the scope of one call. */
export function createCallScope(options: CallScopeOptions): CallScope {
  const { requestId } = options;
  const progressToken = progressTokenOf(options.params);
  // Upstream ids of requests relayed on this call, by the id the client saw; and URL elicitation ids.
  const relayed = new Map<string, string>();
  const elicitations = new Set<string>();
  let drops = 0;
  return {
    judge(message) {
      const method = message['method'];
      if (typeof method !== 'string') {
        if (message['id'] === requestId && ('result' in message || 'error' in message)) {
          options.onAnswer?.(message);
          return { kind: 'answer', message };
        }
        return drop('a response to another request');
      }
      if ('id' in message && message['id'] !== null && message['id'] !== undefined) {
        return { kind: 'server-request', message };
      }
      const params = isObject(message['params']) ? message['params'] : {};
      switch (method) {
        case CALL_LOG_NOTIFICATION:
          return { kind: 'notification', message };
        case 'notifications/progress':
          return progressToken !== undefined && params['progressToken'] === progressToken
            ? { kind: 'notification', message }
            : drop("progress of another call's token");
        case 'notifications/cancelled': {
          const gatewayId = relayed.get(idKey(params['requestId']));
          if (gatewayId === undefined) return drop('a cancellation of a request not asked on this call');
          return { kind: 'notification', message: { ...message, params: { ...params, requestId: gatewayId } } };
        }
        case 'notifications/elicitation/complete':
          return typeof params['elicitationId'] === 'string' && elicitations.has(params['elicitationId'])
            ? { kind: 'notification', message }
            : drop('the completion of an elicitation not asked on this call');
        default:
          return drop(`${method} does not belong to the call`);
      }
    },
    noteServerRequest(message, gatewayId) {
      // Bounded: an upstream asking without end on one call keeps only its latest requests cancellable.
      if (relayed.size >= MAX_NOTED_REQUESTS) relayed.delete(relayed.keys().next().value as string);
      relayed.set(idKey(message['id']), gatewayId);
      const params = message['params'];
      if (isObject(params) && typeof params['elicitationId'] === 'string' && elicitations.size < MAX_NOTED_REQUESTS) {
        elicitations.add(params['elicitationId']);
      }
    },
    countDrop() {
      drops += 1;
      return drops <= MAX_LOGGED_DROPS;
    },
  };
}

/** The progress token a request's params name, when they name one. */
export function progressTokenOf(params: unknown): string | number | undefined {
  if (!isObject(params) || !isObject(params['_meta'])) return undefined;
  const token = params['_meta']['progressToken'];
  return typeof token === 'string' || typeof token === 'number' ? token : undefined;
}

function drop(reason: string): CallVerdict {
  return { kind: 'drop', reason };
}

/** A map key that keeps 1 and "1" apart (JSON-RPC ids are typed). */
function idKey(id: unknown): string {
  return typeof id === 'string' ? `s${id}` : `n${String(id)}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
