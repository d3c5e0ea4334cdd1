import type { Logger } from '../logger.ts';
import { computeBackoff, sleep } from './backoff.ts';
import type { UpstreamClient } from './upstream-client.ts';
import type { UpstreamSession } from './types.ts';
import type { UpstreamListKind } from './upstream-list.ts';

/** Longest wait before reopening an upstream's notification stream. */
export const MAX_WATCH_BACKOFF_MS = 60_000;

/** Which lists each list_changed notification invalidates. */
export const LIST_CHANGED_KINDS: Readonly<Record<string, readonly UpstreamListKind[]>> = {
  'notifications/tools/list_changed': ['tools'],
  'notifications/prompts/list_changed': ['prompts'],
  'notifications/resources/list_changed': ['resources', 'resourceTemplates'],
};

/** Inputs of {@link watchUpstreamNotifications}. */
export interface NotificationWatchOptions {
  readonly client: UpstreamClient;
  readonly session: UpstreamSession;
  /** Ends the watch; the returned promise then resolves. */
  readonly signal: AbortSignal;
  /** Called for each list_changed notification with the lists to re-read. */
  readonly onListChanged: (kinds: readonly UpstreamListKind[]) => void;
  readonly logger: Logger;
  /** First reopen delay, doubling up to {@link MAX_WATCH_BACKOFF_MS}. Defaults to 1000 ms. */
  readonly initialDelayMs?: number;
}

/**
 * Keeps the upstream's standalone GET stream open for one session and reports list_changed
 * notifications. A stream that ends or fails is reopened after 1 s, doubling to 60 s (reset once
 * a stream delivered a message); an upstream without a stream ('unsupported') ends the watch and
 * the manager's periodic re-list remains the backstop. Never rejects.
 * @see MCP 2025-11-25 basic/transports §Listening for Messages from the Server
 * @see MCP 2025-11-25 server/tools §List Changed Notification
 */
export async function watchUpstreamNotifications(options: NotificationWatchOptions): Promise<void> {
  const { client, session, signal, logger } = options;
  let attempt = 0;
  while (!signal.aborted) {
    let delivered = false;
    try {
      const outcome = await client.openNotificationStream(
        session,
        (message) => {
          delivered = true;
          const kinds = typeof message['method'] === 'string' ? LIST_CHANGED_KINDS[message['method']] : undefined;
          if (kinds !== undefined) options.onListChanged(kinds);
        },
        signal,
      );
      if (outcome === 'unsupported') {
        logger.info('upstream offers no notification stream; relying on the periodic re-list');
        return;
      }
    } catch (error) {
      if (signal.aborted) return;
      logger.debug('upstream notification stream failed', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
    if (signal.aborted) return;
    attempt = delivered ? 1 : attempt + 1;
    try {
      await sleep(
        computeBackoff(attempt, { baseMs: options.initialDelayMs ?? 1000, capMs: MAX_WATCH_BACKOFF_MS }),
        signal,
      );
    } catch {
      return;
    }
  }
}
