export { createBrokerApp } from './app.ts';
export type { BrokerAppDeps } from './app.ts';
