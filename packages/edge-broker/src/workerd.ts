// `@mcp-gateway/edge-broker/workerd`: the parts that exist only in workerd (they import
// `cloudflare:workers`), for worker entries: the Durable Object session store and its class.
export { DEFAULT_DURABLE_LEASE_MS, createDurableSessionStore } from './durable-session-store.ts';
export type { DurableSessionStoreOptions } from './durable-session-store.ts';
export { GatewaySessionObject } from './session-object.ts';
export type { ClaimResult, RelayedFailure } from './session-object.ts';
