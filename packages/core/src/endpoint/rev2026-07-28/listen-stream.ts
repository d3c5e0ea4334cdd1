import { GatewayError } from '../../errors.ts';
import { toErrorResponse } from '../../protocol/error-mapping.ts';
import type { JsonRpcRequest } from '../../protocol/json-rpc.ts';
import { META } from '../../protocol/modern-request.ts';
import { SSE_HEADERS } from '../../relay/relay-engine.ts';
import { BROADCAST_TOPIC } from '../../store/notification-bus.ts';
import type { EndpointContext } from '../endpoint-context.ts';

/** The notification types a subscriptions/listen filter may ask for, by list_changed method. */
const LIST_CHANGED_FILTERS: ReadonlyMap<string, string> = new Map([
  ['notifications/tools/list_changed', 'toolsListChanged'],
  ['notifications/prompts/list_changed', 'promptsListChanged'],
  ['notifications/resources/list_changed', 'resourcesListChanged'],
]);

/**
 * subscriptions/listen: acknowledges the notification types the gateway honours (list
 * changes; per-resource subscriptions are not relayed, and the acknowledgement says so by
 * leaving them out), then streams each list_changed tagged with the subscription id until the
 * client closes the stream.
 * @see MCP 2026-07-28 basic/utilities/subscriptions (SEP-2567)
 */
export function openListenStream(ctx: EndpointContext, message: JsonRpcRequest): Response {
  const params = (message.params ?? {}) as Record<string, unknown>;
  const asked = params['notifications'];
  if (typeof asked !== 'object' || asked === null || Array.isArray(asked)) {
    const error = new GatewayError(
      'INVALID_PARAMS',
      'subscriptions/listen needs params.notifications (a filter object)',
    );
    return toErrorResponse(error, message.id, ctx.logger);
  }
  const filter = asked as Record<string, unknown>;
  const honoured: Record<string, boolean> = {};
  for (const key of LIST_CHANGED_FILTERS.values()) if (filter[key] === true) honoured[key] = true;
  const subscriptionMeta = { [META.subscriptionId]: message.id };
  const encoder = new TextEncoder();
  const frame = (payload: unknown) => encoder.encode(`event: message\ndata: ${JSON.stringify(payload)}\n\n`);
  let stop: (() => void) | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(
        frame({
          jsonrpc: '2.0',
          method: 'notifications/subscriptions/acknowledged',
          params: { notifications: honoured, _meta: subscriptionMeta },
        }),
      );
      const unsubscribe = ctx.bus.subscribe(BROADCAST_TOPIC, (busMessage) => {
        const method = busMessage['method'];
        const key = typeof method === 'string' ? LIST_CHANGED_FILTERS.get(method) : undefined;
        if (key === undefined || honoured[key] !== true) return;
        try {
          controller.enqueue(frame({ jsonrpc: '2.0', method, params: { _meta: subscriptionMeta } }));
        } catch {
          stop?.();
        }
      });
      const keepAlive = setInterval(() => {
        try {
          controller.enqueue(encoder.encode(': keep-alive\n\n'));
        } catch {
          stop?.();
        }
      }, ctx.keepAliveMs);
      stop = () => {
        unsubscribe();
        clearInterval(keepAlive);
      };
    },
    cancel() {
      stop?.();
    },
  });
  return new Response(stream, { status: 200, headers: SSE_HEADERS });
}
