import { approvePin, NOOP_LOGGER, PINS_TOPIC } from '@mcp-gateway/core';
import { connectRedis, createRedisNotificationBus, createRedisSessionStore } from '@mcp-gateway/core/redis';
import type { PinsCommand } from './pins-options.ts';

/** Most attempts at approving while gateways keep rewriting the record (compare and set lost). */
const MAX_APPROVE_ATTEMPTS = 5;

/** Where the command writes: its result, and why it failed. */
export interface PinsCommandOutput {
  out(text: string): void;
  err(text: string): void;
}

/**
 * Runs `mcp-gateway pins list|approve` against the shared Redis store: `list` prints the
 * server's pin record as JSON (`null` when none); `approve` promotes the quarantined definition
 * to approved (compare and set on the record's revision, retried when a gateway wrote in
 * between), then publishes on PINS_TOPIC so that every replica decides that server's pins again
 * and serves it. Resolves with the exit code: 0 done, 1 when the store fails or nothing matches.
 */
export async function runPinsCommand(command: PinsCommand, output: PinsCommandOutput): Promise<number> {
  let redis: Awaited<ReturnType<typeof connectRedis>> | undefined;
  try {
    redis = await connectRedis(command.redisUrl, { logger: NOOP_LOGGER, connectionName: 'mcpgw-pins' });
    const store = createRedisSessionStore({ redis });
    if (command.action === 'list') {
      output.out(`${JSON.stringify((await store.readPins(command.server)) ?? null, null, 2)}\n`);
      return 0;
    }
    for (let attempt = 0; attempt < MAX_APPROVE_ATTEMPTS; attempt++) {
      const record = await store.readPins(command.server);
      if (record === undefined) throw new Error(`server ${command.server} has no pin record in this store`);
      const next = approvePin(record, command.approval!);
      if (!(await store.writePins(command.server, next))) continue;
      const bus = createRedisNotificationBus({ publisher: redis, subscriber: redis });
      await bus.publish(PINS_TOPIC, { server: command.server });
      const tool = Object.keys(next.tools).find((name) => next.tools[name] !== record.tools[name]);
      output.out(`${JSON.stringify({ server: command.server, approved: tool, digest: next.tools[tool!]?.digest })}\n`);
      return 0;
    }
    throw new Error(`the pin record of ${command.server} kept changing; try again`);
  } catch (error) {
    output.err(`mcp-gateway: pins ${command.action}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    redis?.disconnect();
  }
}
