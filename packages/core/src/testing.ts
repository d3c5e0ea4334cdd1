/**
 * Builders for the hosts' own unit tests: what a router or broker test needs to stand up the
 * decisions without a running gateway (a catalog from snapshots, session tokens and the gate
 * over them). Not for production code: hosts get these through `createGateway`.
 */
export { NO_AUDIT } from './audit/audit-record.ts';
export { buildCatalog } from './catalog/catalog.ts';
export { createAccessControl } from './decision/access-control.ts';
export { prefixUri } from './catalog/tool-prefix.ts';
export { createSessionGate } from './decision/session-gate.ts';
export type { SessionGateDeps } from './decision/session-gate.ts';
export { createCallerIdentities } from './session/caller-identity.ts';
export { createSessionTokens } from './session/session-token.ts';
export type { SessionTokens } from './session/session-token.ts';
export type { UpstreamSnapshot } from './upstream/types.ts';
