import { isServerRequest } from '@mcp-gateway/core';
import { setHeader, type HttpBody, type ProcessingResponse } from './ext-proc-messages.ts';
import {
  createSseBodyRewriter,
  rewriteJsonBody,
  type MessageRewrite,
  type SseBodyRewriter,
} from './rewrite-response-body.ts';
import type { UpstreamRoute } from './translate-response-headers.ts';

/** Injected effects of the response-body phase. */
export interface ResponseBodyDeps {
  /**
   * Gives a server-to-client request (elicitation/create, sampling/createMessage, roots/list,
   * ping) a gateway id remembered in the session store with the upstream's own id, and returns
   * the message as the client must see it (the broker's rememberServerRequest).
   */
  relayServerRequest(route: UpstreamRoute, message: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/** Answers the response-body messages of one routed call (after a mode override). */
export interface ResponseBodyTranslator {
  translate(body: HttpBody): Promise<ProcessingResponse>;
}

/**
 * The response-body phase of a routed call whose answer must be rewritten (see
 * translateResponseHeaders): STREAMED SSE chunk by chunk, each answered with the complete events
 * so far (server-to-client requests mapped to gateway ids, the call's result rewritten), or a
 * BUFFERED JSON answer as a whole, with its new content-length.
 * @see https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/http/ext_proc/v3/processing_mode.proto
 */
export function createResponseBodyTranslator(
  route: UpstreamRoute,
  mode: 'STREAMED' | 'BUFFERED',
  deps: ResponseBodyDeps,
): ResponseBodyTranslator {
  const rewrite = messageRewrite(route, deps);
  if (mode === 'BUFFERED') {
    return {
      async translate(body) {
        const rewritten = await rewriteJsonBody(body.body ?? new Uint8Array(), rewrite);
        if (rewritten === undefined) return { response_body: {} };
        return {
          response_body: {
            response: {
              header_mutation: { set_headers: [setHeader('content-length', String(rewritten.byteLength))] },
              body_mutation: { body: rewritten },
            },
          },
        };
      },
    };
  }
  const sse: SseBodyRewriter = createSseBodyRewriter(rewrite);
  return {
    async translate(body) {
      const out = await sse.push(body.body ?? new Uint8Array(), body.end_of_stream === true);
      return { response_body: { response: { body_mutation: { body: out } } } };
    },
  };
}

function messageRewrite(route: UpstreamRoute, deps: ResponseBodyDeps): MessageRewrite {
  return async (message) => {
    if (route.relayServerRequests === true && isServerRequest(message)) {
      return deps.relayServerRequest(route, message);
    }
    const result = message['result'];
    if (
      route.rewriteResult !== undefined &&
      message['id'] === route.requestId &&
      typeof result === 'object' &&
      result !== null
    ) {
      return { ...message, result: route.rewriteResult(result as Record<string, unknown>) };
    }
    return undefined;
  };
}
