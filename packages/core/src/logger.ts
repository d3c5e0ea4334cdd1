/** Structured fields of a log line. Never put tokens or credentials here: log a jti or a hash prefix. */
export type LogFields = Record<string, unknown>;

/**
 * The logging port. Core never touches the console: every factory takes a Logger.
 * Node hosts log JSON lines (`@mcp-gateway/core/node-logger`, pino); the worker logs through `console`.
 */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` (request id, session jti, server). */
  child(fields: LogFields): Logger;
}

/**
 * A child of `base` with `fields`, made on its first line: a request's logger costs nothing
 * until the request logs (most never do).
 */
export function lazyChild(base: Logger, fields: LogFields): Logger {
  let child: Logger | undefined;
  const made = () => (child ??= base.child(fields));
  return {
    debug: (msg, extra) => made().debug(msg, extra),
    info: (msg, extra) => made().info(msg, extra),
    warn: (msg, extra) => made().warn(msg, extra),
    error: (msg, extra) => made().error(msg, extra),
    child: (more) => lazyChild(base, { ...fields, ...more }),
  };
}

/** A Logger that drops everything (tests, benchmarks). */
export const NOOP_LOGGER: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return NOOP_LOGGER;
  },
};
