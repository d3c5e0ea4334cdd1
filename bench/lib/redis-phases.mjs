// Shared state in Redis (issue 4), read from the Redis server's side: the commands a
// Redis-backed gateway sends per request (INFO commandstats) and the memory a session holds
// there (INFO memory). The latency and throughput comparisons reuse call-phases.mjs.
import { Redis } from 'ioredis';
import { echoParams, isCallOk } from './call-phases.mjs';
import { concurrent } from './load.mjs';
import { createSessionOpener } from './mcp-http.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** How long to wait after the last answer before reading Redis, for anything sent after it. */
const SETTLE_MS = 200;

/** `key:value` lines of an INFO section as an object of strings. */
function parseInfo(text) {
  const fields = {};
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

/**
 * The bench's own connection to the Redis server, for reading it. While commands are being
 * counted it sends only INFO, and INFO is left out of the counts: every other command counted
 * came from the gateways.
 */
export async function connectRedisProbe(url) {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectTimeout: 5_000,
    commandTimeout: 5_000,
  });
  await redis.connect();
  const monitors = [];
  const info = async (section) => parseInfo(await redis.info(section));
  return {
    /** Calls per command (lower case) since the server started, INFO excluded, and their sum. */
    async commandCalls() {
      const byCommand = {};
      let total = 0;
      for (const [key, value] of Object.entries(await info('commandstats'))) {
        const name = key.replace(/^cmdstat_/, '');
        const calls = Number(/(?:^|,)calls=(\d+)/.exec(value)?.[1] ?? 0);
        if (name === 'info' || calls === 0) continue;
        byCommand[name] = calls;
        total += calls;
      }
      return { total, byCommand };
    },
    /** `used_memory` (bytes the allocator holds for Redis) and the number of keys. */
    async memory() {
      const [fields, keys] = await Promise.all([info('memory'), redis.dbsize()]);
      return { usedMemory: Number(fields.used_memory), keys };
    },
    /** MEMORY USAGE of one key matching `pattern` (SCAN, bounded), or undefined. */
    async sampleKeyBytes(pattern) {
      let cursor = '0';
      for (let i = 0; i < 100; i++) {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        if (keys.length > 0) return { key: keys[0], bytes: await redis.memory('USAGE', keys[0]) };
        cursor = next;
        if (cursor === '0') break;
      }
      return undefined;
    },
    /**
     * Starts a MONITOR connection, which sees every command, including those a Lua script runs
     * (source `lua`). `take()` returns and forgets what it saw since the last call, INFO left
     * out. MONITOR slows Redis down: only for counting, never while timing.
     */
    async monitor() {
      const monitor = await redis.monitor();
      monitors.push(monitor);
      let seen = [];
      monitor.on('monitor', (_time, args, source) => {
        if (String(args[0]).toLowerCase() !== 'info') seen.push({ command: String(args[0]).toLowerCase(), source });
      });
      return {
        take() {
          const taken = seen;
          seen = [];
          return taken;
        },
        stop: () => monitor.disconnect(),
      };
    },
    /** The server's pid, for its CPU time. */
    pid: async () => Number((await info('server')).process_id),
    async close() {
      for (const monitor of monitors) monitor.disconnect();
      if (redis.status === 'ready') await redis.quit();
      else redis.disconnect();
    },
  };
}

/**
 * Runs `fn` and resolves with the Redis commands counted meanwhile (INFO excluded), in all and
 * by command, from INFO commandstats, which also counts the commands Lua scripts run. The
 * round trips (commands a client sent) come from `monitor`: those not run by a script.
 */
async function countCommands(probe, monitor, fn) {
  const before = await probe.commandCalls();
  monitor.take();
  await fn();
  await sleep(SETTLE_MS);
  const after = await probe.commandCalls();
  const seen = monitor.take();
  const byCommand = {};
  for (const [name, calls] of Object.entries(after.byCommand)) {
    const delta = calls - (before.byCommand[name] ?? 0);
    if (delta !== 0) byCommand[name] = delta;
  }
  const sent = seen.filter((c) => c.source !== 'lua');
  const sentByCommand = {};
  for (const { command } of sent) sentByCommand[command] = (sentByCommand[command] ?? 0) + 1;
  return {
    commands: after.total - before.total,
    byCommand,
    roundTrips: sent.length,
    roundTripsByCommand: sentByCommand,
    monitored: seen.length,
  };
}

/**
 * Redis commands per request through a Redis-backed gateway at concurrency 1: `sessions`
 * initializes, their notifications/initialized, their first tools/call (which opens the
 * backend session on the upstream), then `warmCalls` tools/call on those sessions in turn.
 * Each step is counted on its own; an idle second before them shows any background traffic.
 */
export async function measureRedisCommands(probe, gatewayUrl, tool, { sessions = 100, warmCalls = 1_000 }) {
  const opener = createSessionOpener(gatewayUrl, { connections: 1 });
  const monitor = await probe.monitor();
  const params = echoParams(tool);
  let errors = 0;
  const check = (ok) => {
    if (!ok) errors += 1;
  };
  const count = (fn, requests) =>
    countCommands(probe, monitor, fn).then((step) => ({
      requests,
      perRequest: step.commands / requests,
      roundTripsPerRequest: step.roundTrips / requests,
      ...step,
    }));
  try {
    const idle = await count(() => sleep(1_000), 1);
    const handles = [];
    const initialize = await count(async () => {
      for (let i = 0; i < sessions; i++) handles.push(await opener.initialize());
    }, sessions);
    const initialized = await count(async () => {
      for (const handle of handles) check((await opener.initialized(handle)).status === 202);
    }, sessions);
    const firstCall = await count(async () => {
      for (const handle of handles) check(isCallOk(await opener.request(handle, 'tools/call', params)));
    }, sessions);
    const warmCall = await count(async () => {
      for (let i = 0; i < warmCalls; i++) {
        check(isCallOk(await opener.request(handles[i % handles.length], 'tools/call', params)));
      }
    }, warmCalls);
    return { errors, idlePerSecond: idle, initialize, initialized, firstCall, warmCall };
  } finally {
    await monitor.stop();
    await opener.close();
  }
}

/**
 * Redis memory per session: `used_memory` before and after `sessions` sessions, opened
 * `concurrency` at a time, that each made one tools/call, so that each holds a backend
 * session in Redis. Also the keys added per session and MEMORY USAGE of one session's key.
 */
export async function measureRedisSessionMemory(
  probe,
  gatewayUrl,
  tool,
  { sessions = 1_000, concurrency = 64, budgetMs = 60_000 },
) {
  const opener = createSessionOpener(gatewayUrl, { connections: concurrency });
  const params = echoParams(tool);
  const openAndCall = async () => {
    const handle = await opener.initialize();
    const initialized = await opener.initialized(handle);
    if (initialized.status !== 202) return initialized;
    return opener.request(handle, 'tools/call', params);
  };
  try {
    await sleep(500);
    const before = await probe.memory();
    const run = await concurrent(openAndCall, isCallOk, { concurrency, durationMs: budgetMs, maxCount: sessions });
    await sleep(1_000);
    const after = await probe.memory();
    const sample = await probe.sampleKeyBytes('*session:*');
    return {
      sessions: run.count,
      errors: run.errors,
      before,
      after,
      bytesPerSession: (after.usedMemory - before.usedMemory) / run.count,
      keysPerSession: (after.keys - before.keys) / run.count,
      sampleKey: sample,
    };
  } finally {
    await opener.close();
  }
}
