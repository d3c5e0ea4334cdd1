export { createBrokerApp } from './app.ts';
export type { BrokerAppDeps } from './app.ts';
export { toProtectedResourceMetadata } from './protected-resource.ts';
export type { ProtectedResourceEnv, ProtectedResourceMetadata } from './protected-resource.ts';
