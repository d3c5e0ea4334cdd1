import { createWriteStream, type WriteStream } from 'node:fs';
import type { AuditConfig, AuditRecord, AuditSink, Logger } from '@mcp-gateway/core';

/** The Node host's audit writers, one per destination, kept across config reloads. */
export interface AuditWriters {
  /** The sink for a config's `audit` section (its `destination`: stdout, stderr or a file path). */
  sinkFor(config: AuditConfig): AuditSink;
  close(): Promise<void>;
}

/**
 * Writes audit records as JSON lines: to stdout (the default) or stderr, or appended to a file
 * (created when missing). A file that cannot be written is reported once in the log; the
 * gateway keeps serving.
 */
export function createAuditWriters(logger: Logger): AuditWriters {
  const files = new Map<string, WriteStream>();
  const line = (record: AuditRecord) => `${JSON.stringify(record)}\n`;
  const stdout: AuditSink = { write: (record) => void process.stdout.write(line(record)) };
  const stderr: AuditSink = { write: (record) => void process.stderr.write(line(record)) };
  return {
    sinkFor(config) {
      const destination = config.destination ?? 'stdout';
      if (destination === 'stdout') return stdout;
      if (destination === 'stderr') return stderr;
      let file = files.get(destination);
      if (file === undefined) {
        file = createWriteStream(destination, { flags: 'a' });
        file.once('error', (error) =>
          logger.error('cannot write the audit log', { path: destination, error: error.message }),
        );
        files.set(destination, file);
      }
      const stream = file;
      return { write: (record) => void stream.write(line(record)) };
    },
    async close() {
      await Promise.all([...files.values()].map((file) => new Promise<void>((resolve) => file.end(() => resolve()))));
      files.clear();
    },
  };
}
