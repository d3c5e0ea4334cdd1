export { HELP_TEXT, parseCli } from './cli-options.ts';
export type { CliOptions, CliParseResult } from './cli-options.ts';
export { runGateway } from './run-gateway.ts';
export type { RunningGateway } from './run-gateway.ts';
export { watchConfigFile } from './config-watcher.ts';
export type { ConfigWatcher } from './config-watcher.ts';
export { startOtlpTracing } from './otlp-tracing.ts';
