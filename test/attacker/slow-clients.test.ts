// Clients that hold connections (brief C): a request body that never finishes must be answered
// 408 once `--request-body-timeout` passes, without cutting GET notification streams or SSE tool
// calls that last longer; and `--max-connections` bounds open connections. Both flags are the
// interface the brief gives; the gateway is started by stdout readiness, not by polling /healthz,
// so that no pooled connection of the test process counts against the limit.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  GATEWAY_CLI,
  REPO_ROOT,
  TEST_SIGNING_KEY,
  freePort,
  startProcess,
  startSdkUpstream,
  type RunningProcess,
  type SdkUpstream,
} from '../harness/index.ts';
import { sseData } from './answers.ts';
import {
  hostConfig,
  httpHostAt,
  openLegacySession,
  POST_HEADERS,
  LEGACY_VERSION,
  type HostServer,
} from './http-hosts.ts';
import { httpText, openConnection, type RawConnection } from './raw-http.ts';

/** A gateway started on stdout readiness, with its config file writable. */
interface QuietGateway {
  readonly port: number;
  readonly baseUrl: string;
  readonly process: RunningProcess;
  writeConfig(yaml: string): Promise<void>;
  stop(): Promise<void>;
}

async function startQuietGateway(servers: readonly HostServer[], args: readonly string[]): Promise<QuietGateway> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-gateway-attacker-'));
  const configPath = join(dir, 'config.yaml');
  await writeFile(configPath, hostConfig(servers));
  const port = await freePort();
  try {
    const child = await startProcess(
      process.execPath,
      [GATEWAY_CLI, '--mcp-gateway-config', configPath, '--mcp-broker-public-address', `127.0.0.1:${port}`, ...args],
      {
        cwd: REPO_ROOT,
        env: { GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY, CACHE_CONNECTION_STRING: undefined },
        readyWhen: { stdout: /mcp gateway listening/ },
      },
    );
    return {
      port,
      baseUrl: `http://127.0.0.1:${port}`,
      process: child,
      writeConfig: (yaml) => writeFile(configPath, yaml),
      async stop() {
        await child.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const BODY_TIMEOUT_SECONDS = 2;

describe(`a gateway with --request-body-timeout ${BODY_TIMEOUT_SECONDS}`, () => {
  let upstream: SdkUpstream;
  let gateway: QuietGateway;
  const servers = (): HostServer[] => [{ name: 'slow', url: upstream.url, prefix: 's_' }];

  beforeAll(async () => {
    upstream = await startSdkUpstream({
      name: 'slow',
      setup(server) {
        // Sends progress every 400 ms for 4 s (twice the body timeout), then answers.
        server.registerTool(
          'countdown',
          { description: 'Counts for 4 s', inputSchema: { steps: z.number() } },
          async ({ steps }, extra) => {
            const progressToken = extra._meta?.progressToken;
            for (let step = 1; step <= steps; step++) {
              await sleep(400);
              if (progressToken !== undefined) {
                await extra.sendNotification({
                  method: 'notifications/progress',
                  params: { progressToken, progress: step, total: steps },
                });
              }
            }
            return { content: [{ type: 'text', text: `counted ${steps}` }] };
          },
        );
      },
    });
    gateway = await startQuietGateway(servers(), ['--request-body-timeout', String(BODY_TIMEOUT_SECONDS)]);
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  it('answers 408 and closes the connection once a request body stalls past the timeout', async () => {
    const connection = await openConnection(gateway.port);
    try {
      const started = Date.now();
      // Content-Length 100, then 10 bytes, then silence.
      connection.write(
        httpText('POST', '/mcp', gateway.port, { ...POST_HEADERS, 'content-length': '100' }) + '{"jsonrpc"',
      );
      await connection.waitFor(/^HTTP\/1\.1 408/, BODY_TIMEOUT_SECONDS * 1000 + 4_000);
      await Promise.race([connection.closed, sleep(2_000)]);
      const elapsed = Date.now() - started;
      expect({ closed: connection.isClosed(), afterTheTimeout: elapsed >= BODY_TIMEOUT_SECONDS * 1000 - 200 }).toEqual({
        closed: true,
        afterTheTimeout: true,
      });
    } finally {
      connection.close();
    }
  });

  it('keeps a GET notification stream and an SSE tool call open and delivering past the timeout', async () => {
    const client = httpHostAt(
      'broker',
      gateway.baseUrl,
      () => gateway.process.output(),
      async () => {},
    );
    const sessionId = await openLegacySession(client);
    const started = Date.now();
    const stream = await fetch(`${gateway.baseUrl}/mcp`, {
      headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': LEGACY_VERSION },
    });
    expect(stream.status).toBe(200);
    const call = await fetch(`${gateway.baseUrl}/mcp`, {
      method: 'POST',
      headers: { ...POST_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': LEGACY_VERSION },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 'countdown',
        method: 'tools/call',
        params: { name: 's_countdown', arguments: { steps: 10 }, _meta: { progressToken: 'count' } },
      }),
    });
    expect(call.headers.get('content-type')).toContain('text/event-stream');

    // Past the timeout, a config change makes the gateway tell every GET stream that its tools changed.
    const changed = (async () => {
      await sleep(BODY_TIMEOUT_SECONDS * 1000 + 1_000);
      await gateway.writeConfig(hostConfig([...servers(), { name: 'again', url: upstream.url, prefix: 'again_' }]));
    })();
    const listChanged = readUntil(stream.body!, /notifications\/tools\/list_changed/, 15_000);
    const callText = await readAll(call.body!, 15_000);
    const callEnded = Date.now() - started;
    const streamText = await listChanged;
    const streamDelivered = Date.now() - started;
    await changed;

    const messages = sseData(callText).map((data) => JSON.parse(data) as Record<string, unknown>);
    expect({
      progressEvents: messages.filter((m) => m['method'] === 'notifications/progress').length,
      result: messages.at(-1)?.['result'],
      endedAfterTheTimeout: callEnded > BODY_TIMEOUT_SECONDS * 1000 + 1_000,
    }).toEqual({
      progressEvents: 10,
      result: { content: [{ type: 'text', text: 'counted 10' }] },
      endedAfterTheTimeout: true,
    });
    expect({
      listChanged: streamText.includes('notifications/tools/list_changed'),
      deliveredAfterTheTimeout: streamDelivered > BODY_TIMEOUT_SECONDS * 1000,
    }).toEqual({ listChanged: true, deliveredAfterTheTimeout: true });
  });
});

const MAX_CONNECTIONS = 3;

describe(`a gateway with --max-connections ${MAX_CONNECTIONS}`, () => {
  let gateway: QuietGateway;

  beforeAll(async () => {
    gateway = await startQuietGateway([], ['--max-connections', String(MAX_CONNECTIONS)]);
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  /** Sends GET /healthz on `connection` and waits for the `n`th 200 on it. */
  const healthz = async (connection: RawConnection, n: number) => {
    connection.write(httpText('GET', '/healthz', gateway.port));
    await connection.waitFor(new RegExp(`(?:HTTP/1\\.1 200[\\s\\S]*?){${n}}`), 3_000);
  };

  it('refuses or closes at once the connection past the limit, keeps the first ones working, then accepts again', async () => {
    const held: RawConnection[] = [];
    try {
      for (let i = 0; i < MAX_CONNECTIONS; i++) {
        const connection = await openConnection(gateway.port);
        held.push(connection);
        await healthz(connection, 1);
      }

      const extra = await openConnection(gateway.port).catch((error: Error) => error);
      if (!(extra instanceof Error)) {
        try {
          extra.write(httpText('GET', '/healthz', gateway.port));
          await Promise.race([extra.closed, sleep(1_000)]);
          expect({ closedAtOnce: extra.isClosed(), served: /^HTTP\/1\.1 200/.test(extra.received()) }).toEqual({
            closedAtOnce: true,
            served: false,
          });
        } finally {
          extra.close();
        }
      }

      for (const connection of held) await healthz(connection, 2);
    } finally {
      for (const connection of held) connection.close();
    }

    await sleep(200);
    const again = await openConnection(gateway.port);
    try {
      await healthz(again, 1);
    } finally {
      again.close();
    }
  });
});

/** Reads `body` until `pattern` matches the text so far (then cancels it); rejects after `timeoutMs`. */
async function readUntil(
  body: ReadableStream<Uint8Array<ArrayBuffer>>,
  pattern: RegExp,
  timeoutMs: number,
): Promise<string> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => void reader.cancel(), timeoutMs);
  let text = '';
  try {
    while (!pattern.test(text)) {
      const next = await reader.read();
      if (next.done) throw new Error(`the stream ended before ${pattern}: ${text}`);
      text += next.value;
    }
    return text;
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
}

/** Reads `body` to its end; rejects after `timeoutMs`. */
async function readAll(body: ReadableStream<Uint8Array<ArrayBuffer>>, timeoutMs: number): Promise<string> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => void reader.cancel(), timeoutMs);
  let text = '';
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) return text;
      text += next.value;
    }
  } finally {
    clearTimeout(timer);
  }
}
