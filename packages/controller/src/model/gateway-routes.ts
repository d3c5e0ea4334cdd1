import type { ApplyObject } from './gateway-resources.ts';
import { meta } from './gateway-resources.ts';
import type { ValidExtension } from './extension-validation.ts';
import { BROKER_PORT, GATEWAY_API_GROUP, GATEWAY_NAME, GATEWAY_ROUTE_NAME, TOKENS_ROUTE_NAME } from '../names.ts';

/** A rule sending a path prefix to the gateway Service. */
function rule(name: string, path: string) {
  return {
    name,
    matches: [{ path: { type: 'PathPrefix', value: path } }],
    backendRefs: [{ name: GATEWAY_NAME, port: BROKER_PORT }],
  };
}

/** An HTTPRoute on the extension's listener and public host. */
function route(valid: ValidExtension, name: string, rules: readonly Record<string, unknown>[]): ApplyObject {
  return {
    apiVersion: `${GATEWAY_API_GROUP}/v1`,
    kind: 'HTTPRoute',
    metadata: meta(valid, name),
    spec: {
      parentRefs: [
        {
          group: GATEWAY_API_GROUP,
          kind: 'Gateway',
          name: valid.gateway.metadata.name,
          namespace: valid.gateway.metadata.namespace,
          sectionName: valid.listener.name,
        },
      ],
      hostnames: [valid.publicHost],
      rules,
    },
  };
}

/** HTTPRoute `mcp-gateway-route`: the public host's /mcp, OAuth metadata and /status to the gateway. */
export function gatewayRoute(valid: ValidExtension): ApplyObject {
  return route(valid, GATEWAY_ROUTE_NAME, [
    {
      ...rule('mcp', '/mcp'),
      filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { remove: ['mcp-init-host', 'router-key'] } }],
    },
    rule('well-known', '/.well-known/oauth-protected-resource'),
    rule('status', '/status'),
  ]);
}

/**
 * HTTPRoute `mcp-gateway-tokens-route` (the anchor's): the public host's `/tokens` pages, where
 * users give the gateway their upstream credentials, to the gateway. Only while the extension's
 * `urlElicitation` is Enabled; a separate route so that it can be deleted on its own.
 */
export function tokensRoute(valid: ValidExtension): ApplyObject {
  return route(valid, TOKENS_ROUTE_NAME, [rule('tokens', '/tokens')]);
}
