import { pino, type DestinationStream, type Logger as Pino } from 'pino';
import type { LogFields, Logger } from '../logger.ts';

/** The levels a Node host logs at (`--log-level`). */
export type NodeLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Options of {@link createNodeLogger}. */
export interface NodeLoggerOptions {
  readonly level: NodeLogLevel;
  /** `service` of every line: `mcp-gateway`, `mcp-gateway-controller`. */
  readonly service: string;
  /** Where the lines go. Defaults to stdout. */
  readonly destination?: DestinationStream;
}

/** The keys the logger writes on every line; a field of the same name is written as `fields.<name>`. */
const LINE_KEYS = ['level', 'time', 'service', 'msg'] as const;

/**
 * The Node hosts' Logger: one JSON line per call (pino, on stdout by default) with `level`,
 * `time`, `service`, the fields and `msg`, each key once. A child's fields are merged with its
 * parents' and the call's, the innermost value winning, rather than left to pino's child
 * bindings, which pino writes beside the call's fields so that a key given twice appears twice
 * in the line (`"server":"a","server":"a"`). A field named after one of the line's own keys is
 * kept as `fields.<name>` (as logrus does), never in place of the line's own.
 */
export function createNodeLogger(options: NodeLoggerOptions): Logger {
  const settings = {
    level: options.level,
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return bind(options.destination === undefined ? pino(settings) : pino(settings, options.destination), {});
}

function bind(log: Pino, bound: LogFields): Logger {
  const at =
    (level: NodeLogLevel) =>
    (msg: string, fields?: LogFields): void => {
      // Merging costs an object per line: only for lines that are written.
      if (log.isLevelEnabled(level)) log[level](toLineFields(bound, fields), msg);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => bind(log, { ...bound, ...fields }),
  };
}

/** The fields of one line: bound fields, then the call's, with the line's own keys moved aside. */
function toLineFields(bound: LogFields, fields: LogFields | undefined): LogFields {
  const merged: LogFields = fields === undefined ? { ...bound } : { ...bound, ...fields };
  for (const key of LINE_KEYS) {
    if (!Object.hasOwn(merged, key)) continue;
    merged[`fields.${key}`] = merged[key];
    delete merged[key];
  }
  return merged;
}
