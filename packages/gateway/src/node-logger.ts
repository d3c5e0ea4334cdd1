import type { LogFields, Logger } from '@mcp-gateway/core';
import { pino, type Logger as Pino } from 'pino';

/**
 * The Node hosts' Logger: JSON lines on stdout (pino, asynchronous so logging never blocks
 * the request path). Fields are merged into each line; errors are logged as their message.
 */
export function createNodeLogger(level: 'debug' | 'info' | 'warn' | 'error'): Logger {
  return wrap(
    pino({
      level,
      base: { service: 'mcp-gateway' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    }),
  );
}

function wrap(log: Pino): Logger {
  const clean = (fields?: LogFields) => (fields === undefined ? {} : fields);
  return {
    debug: (msg, fields) => log.debug(clean(fields), msg),
    info: (msg, fields) => log.info(clean(fields), msg),
    warn: (msg, fields) => log.warn(clean(fields), msg),
    error: (msg, fields) => log.error(clean(fields), msg),
    child: (fields) => wrap(log.child(fields)),
  };
}
