import type { JsonRpcId } from '../protocol/json-rpc.ts';
import type { SessionStore } from '../store/session-store.ts';

/** How long a server-to-client request waits for the client's answer: 1 h. */
export const PENDING_REQUEST_TTL_SECONDS = 3600;

/**
 * Marks a pending request the gateway itself asked on behalf of a 2026-07-28 upstream's
 * `input_required` result: the client's answer is handed to the waiting call over the bus
 * (topic {@link inputAnswerTopic}) instead of being posted to an upstream.
 */
export const INPUT_REQUEST_MARKER = 'mcpgw:input-request';

/** The bus topic where the answer to gateway request `id` is handed to the call waiting for it. */
export function inputAnswerTopic(id: string): string {
  return `input:${id}`;
}

/** True for a JSON-RPC request (a method and an id) that an upstream sends to the client. */
export function isServerRequest(message: Record<string, unknown>): boolean {
  return typeof message['method'] === 'string' && 'id' in message && message['id'] !== null;
}

/**
 * Gives a server-to-client request (elicitation/create, sampling/createMessage, roots/list,
 * ping) a fresh gateway id and remembers the upstream's own id in the store, so the client's
 * answer, which may reach any replica, goes back to the upstream that asked. Returns the
 * message as the client must see it.
 */
export async function rememberServerRequest(
  store: SessionStore,
  jti: string,
  server: string,
  backendSessionId: string,
  message: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const gatewayId = crypto.randomUUID();
  await store.putPending(
    gatewayId,
    { jti, server, backendSessionId, upstreamId: message['id'] as JsonRpcId },
    PENDING_REQUEST_TTL_SECONDS,
  );
  return { ...message, id: gatewayId };
}
