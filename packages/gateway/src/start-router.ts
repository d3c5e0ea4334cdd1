import { GatewayError, type Gateway, type HmacSha256Factory, type Logger } from '@mcp-gateway/core';
import { createProcessorDeps, startExtProcServer, type ExtProcServer } from '@mcp-gateway/node-extproc';

/** Options of {@link startRouter}. */
export interface StartRouterOptions {
  /** `HOST:PORT` of the ext_proc gRPC listener (`--mcp-router-address`). */
  readonly address: string;
  /** `:authority` of every request the router sends to the broker (`--mcp-gateway-public-host`). */
  readonly publicHost: string;
  readonly maxBodyBytes: number;
  /** The gateway's signing key: backend-init tokens of the hairpin initialize. */
  readonly signingKey: string | Uint8Array;
  /** The HMAC-SHA256 backend-init tokens are signed with (the gateway's, on node:crypto). */
  readonly hmac?: HmacSha256Factory;
  /** `--mcp-gateway-private-host`: when set, backend sessions are opened through Envoy there. */
  readonly privateHost?: string | undefined;
  /** The fetch the hairpin goes through: the gateway's TLS trust (`gatewayCACertPEM`) for an https private host. */
  readonly privateHostFetch?: typeof fetch | undefined;
  readonly logger: Logger;
}

/**
 * Starts the Envoy ext_proc router in this process, on the broker's own state: the same
 * catalog, upstream clients, session tokens and store, so sessions the broker opened route
 * through Envoy and config reloads reach both at once.
 * @throws Error naming `--mcp-router-address` when the address cannot be bound.
 * @see https://www.envoyproxy.io/docs/envoy/latest/api-v3/service/ext_proc/v3/external_processor.proto
 */
export async function startRouter(gateway: Gateway, options: StartRouterOptions): Promise<ExtProcServer> {
  const routing = gateway.routing();
  const deps = createProcessorDeps({
    publicHost: options.publicHost,
    maxBodyBytes: options.maxBodyBytes,
    gate: routing.gate,
    routeContext: routing.routeContext,
    access: routing.access,
    metrics: routing.metrics,
    tracer: routing.tracer,
    auditor: () => routing.auditor('router'),
    signingKey: options.signingKey,
    ...(options.hmac !== undefined && { hmac: options.hmac }),
    ...(options.privateHost !== undefined && { privateHost: options.privateHost }),
    ...(options.privateHostFetch !== undefined && { privateHostFetch: options.privateHostFetch }),
    store: routing.store,
    callers: routing.callers,
    credentials: routing.credentials,
    bus: routing.bus,
    upstreamClient(server) {
      const client = routing.client(server.name);
      // serverOf and client read the same pool entry, so a served server always has one.
      if (client === undefined)
        throw new GatewayError('UPSTREAM_UNAVAILABLE', `upstream ${server.name} is not configured`);
      return client;
    },
    logger: options.logger,
  });
  try {
    return await startExtProcServer({ address: options.address, deps });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`--mcp-router-address ${options.address}: cannot listen (${reason})`, { cause: error });
  }
}
