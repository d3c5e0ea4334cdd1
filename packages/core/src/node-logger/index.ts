// `@mcp-gateway/core/node-logger`: the Node hosts' adapter of core's Logger port (pino JSON
// lines), shared by the gateway and the controller. Kept out of core's main entry, which stays
// web-standard.
export { createNodeLogger } from './node-logger.ts';
export type { NodeLogLevel, NodeLoggerOptions } from './node-logger.ts';
