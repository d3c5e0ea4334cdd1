import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SIGNING_KEY, freePort, startGateway } from '../harness/index.ts';
import { onSession, openSession, pollUntil, post, request } from './helpers.ts';
import { runCommand, runGatewayCli } from './run-cli.ts';

const DESIGN_FLAGS = [
  '--mcp-gateway-config',
  '--mcp-broker-public-address',
  '--mcp-router-address',
  '--router-only',
  '--mcp-gateway-public-host',
  '--mcp-gateway-private-host',
  '--help',
];
const ENV_NAMES = [
  'GATEWAY_SIGNING_KEY',
  'CACHE_CONNECTION_STRING',
  'OAUTH_RESOURCE_NAME',
  'OAUTH_RESOURCE',
  'OAUTH_AUTHORIZATION_SERVERS',
  'OAUTH_BEARER_METHODS_SUPPORTED',
  'OAUTH_SCOPES_SUPPORTED',
];

describe('mcp-gateway --help', () => {
  it('prints every flag and environment variable and exits 0', async () => {
    const run = await runGatewayCli(['--help']);
    expect(run.code).toBe(0);
    for (const name of [...DESIGN_FLAGS, ...ENV_NAMES]) expect(run.stdout).toContain(name);
  });

  it('is what npx --no-install mcp-gateway runs from the repository root', async () => {
    const run = await runCommand('npx', ['--no-install', 'mcp-gateway', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^mcp-gateway: one MCP endpoint in front of many MCP servers/);
    for (const name of [...DESIGN_FLAGS, ...ENV_NAMES]) expect(run.stdout).toContain(name);
  });
});

describe('mcp-gateway start-up checks', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcp-gateway-cli-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const address = async () => `127.0.0.1:${await freePort()}`;

  it('refuses a signing key shorter than 32 bytes before it listens', async () => {
    const run = await runGatewayCli(['--mcp-broker-public-address', await address()], {
      GATEWAY_SIGNING_KEY: 'too-short-key',
    });
    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull();
    expect(run.stderr).toMatch(/GATEWAY_SIGNING_KEY/);
    expect(run.stderr).toMatch(/32 bytes/);
    expect(run.stdout + run.stderr).not.toMatch(/listening/);
    expect(run.stderr).not.toContain('too-short-key');
  });

  it('refuses a malformed CACHE_CONNECTION_STRING before it listens, without repeating the password', async () => {
    const run = await runGatewayCli(['--mcp-broker-public-address', await address()], {
      GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY,
      CACHE_CONNECTION_STRING: 'http://user:s3cret@127.0.0.1:6379',
    });
    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull();
    expect(run.stderr).toMatch(/CACHE_CONNECTION_STRING/);
    expect(run.stdout + run.stderr).not.toMatch(/listening/);
    expect(run.stdout + run.stderr).not.toContain('s3cret');
  });

  it('starts while the Redis of CACHE_CONNECTION_STRING is unreachable, and answers 503 naming the store', async () => {
    const gateway = await startGateway({
      config: 'servers: []\n',
      env: { CACHE_CONNECTION_STRING: `redis://127.0.0.1:${await freePort()}` },
    });
    try {
      // The logger writes asynchronously: the line may trail the listener by a moment.
      await pollUntil(
        async () => gateway.logs(),
        (logs) => /session store \(Redis\) unreachable at start-up/.test(logs),
        { what: 'the start-up error naming the store' },
      );
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
        }),
      });
      const sessionId = response.headers.get('mcp-session-id');
      await response.body?.cancel();
      expect(sessionId).not.toBeNull();
      const listed = await fetch(gateway.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': sessionId!,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
      });
      expect(listed.status).toBe(503);
      expect(((await listed.json()) as { error: { message: string } }).error.message).toMatch(
        /^session store \(Redis\) unavailable/,
      );
    } finally {
      await gateway.stop();
    }
  });

  it('names the file, each field path and the reason of an invalid config, and exits before it listens', async () => {
    const configPath = join(dir, 'bad-config.yaml');
    await writeFile(
      configPath,
      [
        'servers:',
        '  - name: weather',
        '    url: not-a-url',
        '    prefix: w_',
        '  - name: news',
        '    url: http://127.0.0.1:9/mcp',
        '    prefix: "bad prefix!"',
        '',
      ].join('\n'),
    );
    const run = await runGatewayCli(
      ['--mcp-gateway-config', configPath, '--mcp-broker-public-address', await address()],
      {
        GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY,
      },
    );
    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull();
    expect(run.stderr).toContain(`${configPath}: servers[0].url: must be an absolute http(s) URL`);
    expect(run.stderr).toContain(`${configPath}: servers[1].prefix: may hold only letters`);
    expect(run.stdout + run.stderr).not.toMatch(/listening/);
  });

  it('names a config file that does not exist', async () => {
    const configPath = join(dir, 'missing.yaml');
    const run = await runGatewayCli(
      ['--mcp-gateway-config', configPath, '--mcp-broker-public-address', await address()],
      {
        GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY,
      },
    );
    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull();
    expect(run.stderr).toContain(configPath);
  });

  it('exits 2 on an unknown flag, naming it and pointing to --help', async () => {
    const run = await runGatewayCli(['--mcp-gateway-confg', 'x.yaml']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--mcp-gateway-confg');
    expect(run.stderr).toContain('--help');
  });

  it('exits 2 on a malformed flag value, naming the flag and the expected form', async () => {
    const run = await runGatewayCli(['--mcp-broker-public-address', 'localhost']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--mcp-broker-public-address must be HOST:PORT/);
  });

  it('refuses --mcp-router-address without --mcp-gateway-public-host before it listens', async () => {
    const run = await runGatewayCli(
      ['--mcp-broker-public-address', await address(), '--mcp-router-address', await address()],
      { GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--mcp-router-address needs --mcp-gateway-public-host');
    expect(run.stdout + run.stderr).not.toMatch(/listening/);
  });

  it('refuses --router-only with --mcp-broker-public-address, which it would not serve', async () => {
    const run = await runGatewayCli(['--router-only', '--mcp-broker-public-address', await address()]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--router-only runs no broker: drop --mcp-broker-public-address');
  });

  it('refuses --router-only without the router address, public host, signing key and Redis it shares', async () => {
    const run = await runGatewayCli(['--router-only']);
    expect(run.code).toBe(1);
    for (const missing of [
      '--mcp-router-address',
      '--mcp-gateway-public-host',
      'GATEWAY_SIGNING_KEY',
      'CACHE_CONNECTION_STRING',
    ]) {
      expect(run.stderr).toContain(missing);
    }
    expect(run.stderr).toContain('--router-only needs');
    expect(run.stdout + run.stderr).not.toMatch(/listening/);
  });

  it('names the router address when its port is already in use, and does not keep the broker running', async () => {
    const port = await freePort();
    const occupant: Server = createServer();
    await new Promise<void>((resolve) => occupant.listen(port, '127.0.0.1', resolve));
    try {
      const run = await runGatewayCli(
        [
          '--mcp-broker-public-address',
          await address(),
          '--mcp-router-address',
          `127.0.0.1:${port}`,
          '--mcp-gateway-public-host',
          'mcp.example.com',
        ],
        { GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY },
      );
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`--mcp-router-address 127.0.0.1:${port}: cannot listen`);
    } finally {
      await new Promise<void>((resolve) => occupant.close(() => resolve()));
    }
  });

  it('names the address when its port is already in use', async () => {
    const port = await freePort();
    const occupant: Server = createServer();
    await new Promise<void>((resolve) => occupant.listen(port, '127.0.0.1', resolve));
    try {
      const run = await runGatewayCli(['--mcp-broker-public-address', `127.0.0.1:${port}`], {
        GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY,
      });
      expect(run.code).not.toBe(0);
      expect(run.code).not.toBeNull();
      expect(run.stderr).toContain(`127.0.0.1:${port}`);
      expect(run.stderr).toMatch(/in use|EADDRINUSE/i);
    } finally {
      await new Promise<void>((resolve) => occupant.close(() => resolve()));
    }
  });
});

describe('mcp-gateway without GATEWAY_SIGNING_KEY', () => {
  it('starts, warns that sessions will not survive a restart, and serves sessions', async () => {
    const gateway = await startGateway({ config: 'servers: []\n', env: { GATEWAY_SIGNING_KEY: undefined } });
    try {
      // The log line travels through a pipe: wait for it rather than race the health check.
      const logs = await pollUntil(
        async () => gateway.logs(),
        (text) => /listening/.test(text),
        { what: 'listening log' },
      );
      expect(logs).toMatch(/GATEWAY_SIGNING_KEY is not set/);
      expect(logs).toMatch(/sessions will not survive a restart/);
      const sessionId = await openSession(gateway.url);
      const reply = await post(gateway.url, request('tools/list'), onSession(sessionId));
      expect(reply.status).toBe(200);
      expect(reply.json?.result).toEqual({ tools: [] });
    } finally {
      await gateway.stop();
    }
  });

  it('does not warn when a key is given', async () => {
    const gateway = await startGateway({ config: 'servers: []\n' });
    try {
      const logs = await pollUntil(
        async () => gateway.logs(),
        (text) => /listening/.test(text),
        { what: 'listening log' },
      );
      expect(logs).not.toMatch(/GATEWAY_SIGNING_KEY/);
    } finally {
      await gateway.stop();
    }
  });
});
